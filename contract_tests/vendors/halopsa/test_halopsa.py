"""HaloPSA's sync source against recordings, the sandbox and (optionally) a live tenant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from contract_tests.harness import ContractVendor
from contract_tests.vendors.halopsa.conftest import (
    CLOUD,
    SPEC,
    api_calls,
    read_all,
    records,
    sync,
)
from vectis.adapters.vendors.halopsa import mapping
from vectis.adapters.vendors.halopsa.client import HaloClient
from vectis.adapters.vendors.halopsa.mapping import parse_time
from vectis.adapters.vendors.halopsa.sync import HaloSync
from vectis.domain.errors import VendorAuthFailed
from vectis.domain.records import (
    Contact,
    Contract,
    Device,
    Reference,
    Ticket,
    TicketNote,
    TicketSla,
    VendorCompany,
    VendorSite,
)
from vectis_sandbox.halopsa_world import CLOSED_STATUS, NO_DATE, halo_time, local_time

INCREMENTAL = ("companies", "sites", "contacts", "tickets", "devices")

# --- authentication ---------------------------------------------------------------------------


async def test_check_takes_a_client_credentials_token_and_names_the_api_agent(
    vendor: ContractVendor,
) -> None:
    label = await sync(vendor).check()

    assert label
    if vendor.mode == "replay":
        assert label == "dbt.halopsa.com as Halo API Test"
        token_request, call = vendor.sent[0], vendor.sent[1]
        assert token_request.url.path == "/auth/token"
        assert token_request.url.params["tenant"] == "dbt"
        assert call.headers["Authorization"] == f"Bearer {SPEC.replay_values['token']}"
    if vendor.mode == "sandbox":
        assert label.endswith("as Vectis API")


async def test_a_wrong_client_secret_is_refused_as_bad_credentials(vendor: ContractVendor) -> None:
    vendor.needs_facts()
    vendor.credentials["client_secret"] = "not-the-secret"

    with pytest.raises(VendorAuthFailed, match=r"invalid_client|not valid"):
        await sync(vendor, "token_rejected").check()


async def test_a_refused_token_is_replaced_once_and_the_call_retried(
    vendor: ContractVendor,
) -> None:
    vendor.needs_facts()
    if vendor.mode == "replay":
        await sync(vendor, "token", "agent_me").check()
        # The cached token is refused once; a new one is fetched and the call made again.
        source = sync(vendor, "agent_me_token_refused", "token", "agent_me")
        assert await source.check() == "dbt.halopsa.com as Halo API Test"
        assert [request.url.path for request in vendor.sent] == [
            "/auth/token",
            "/api/Agent/me",
            "/api/Agent/me",
            "/auth/token",
            "/api/Agent/me",
        ]
        return
    source = sync(vendor)
    await source.check()
    vendor.state.revoke_tokens()

    assert await source.check()
    assert sum(1 for call in vendor.calls() if call.startswith("POST /auth/token")) == 2


async def test_expired_credentials_surface_as_auth_failures(vendor: ContractVendor) -> None:
    vendor.only("sandbox")
    vendor.state.faults.credentials_expired = True

    with pytest.raises(VendorAuthFailed):
        await sync(vendor).check()


# --- sync streams -----------------------------------------------------------------------------


def test_every_stream_declares_how_it_reads_and_none_filters_on_a_flag() -> None:
    methods = HaloSync.read_methods

    assert set(methods) == set(HaloSync.streams)
    for stream in HaloSync.snapshots:
        assert methods[stream].startswith("snapshot")
    for stream in INCREMENTAL:
        assert "full read" in methods[stream] and "changes detected" in methods[stream]
    assert not any("lastupdatefromdate" in method for method in methods.values())


async def test_references_are_ticket_statuses_priorities_teams_and_agents(
    vendor: ContractVendor,
) -> None:
    (batch,) = await read_all(sync(vendor), "references")
    found = {(ref.kind, ref.id): ref for ref in batch.records}

    assert all(isinstance(ref, Reference) for ref in batch.records)
    vendor.needs_facts()
    closed = found[("status", "9")]
    assert closed.closed and closed.name == "Closed"
    assert not found[("status", "1")].closed
    assert {kind for kind, _ in found} == {"status", "priority", "board", "member"}
    if vendor.mode == "replay":
        assert ("status", "30") not in found, "an opportunity status is no ticket status"
        assert found[("priority", "4")].name == "Low"
        assert sum(1 for kind, _ in found if kind == "priority") == 4, "one per priorityid"
        assert found[("board", "26")].name == "1st Line Support"
        assert ("board", "5") not in found, "inactive team"
        assert ("member", "1") not in found, "agent 1 is Halo's 'Unassigned'"
        assert ("member", "7") not in found, "disabled agent"
        assert found[("member", "3")].name == "Admin"
    else:
        assert found[("board", "26")].name == "Service Desk"
        assert found[("member", "2")].name == "Sam Okafor"


async def test_companies_follow_every_page_newest_first(vendor: ContractVendor) -> None:
    batches = await read_all(sync(vendor, page_size=2), "companies")
    companies = records(batches)

    assert companies and all(isinstance(company, VendorCompany) for company in companies)
    assert batches[-1].cursor is not None
    assert all(batch.cursor is None for batch in batches[:-1])
    vendor.needs_facts()
    pages = [call for call in api_calls(vendor) if call.startswith("GET /api/Client")]
    assert all("pageinate=true" in page and "page_size=2" in page for page in pages)
    assert all("order=alastupdate&orderdesc=true" in page for page in pages)
    if vendor.mode == "replay":
        assert [c.id for c in companies] == ["12", "15", "14"]
        assert companies[0].name == "Department for Business and Trade"
        assert companies[0].identifier == "DBT"
        assert companies[0].updated_at == datetime(2024, 6, 27, 8, 24, 23, 933000, tzinfo=UTC)
        assert batches[-1].cursor == "2024-06-27T08:24:23.933000+00:00"
        assert len(pages) == 2
    else:
        assert sorted(c.id for c in companies) == sorted(vendor.state.company_ids.values())
        first = next(c for c in companies if c.identifier == "AldridgeCo")
        assert first.name == "Aldridge & Co."
        assert len(pages) == 3


async def test_sites_contacts_and_assets_belong_to_their_client(vendor: ContractVendor) -> None:
    source = sync(vendor)
    sites = records(await read_all(source, "sites"))
    contacts = records(await read_all(source, "contacts"))
    devices = records(await read_all(source, "devices"))

    assert all(isinstance(site, VendorSite) and site.company_id for site in sites)
    assert all(isinstance(contact, Contact) and contact.company_id for contact in contacts)
    assert all(isinstance(device, Device) for device in devices)
    vendor.needs_facts()
    if vendor.mode == "replay":
        assert sites == [
            VendorSite(
                id="18",
                company_id="12",
                name="UK Trade",
                updated_at=datetime(2024, 6, 3, 12, 0, tzinfo=UTC),
            )
        ]
        (contact,) = contacts
        assert (contact.id, contact.company_id, contact.name, contact.email) == (
            "38",
            "12",
            "Some Body",
            "some.body@example.com",
        )
        (device,) = devices
        assert (device.id, device.company_id, device.name, device.kind, device.site) == (
            "301",
            "12",
            "DBT-LT-0301",
            "laptop",
            "UK Trade",
        )
        assert device.url == f"{CLOUD}/assets?id=301"
    else:
        world = vendor.world
        assert len(sites) == sum(len(company.sites) for company in world.companies)
        assert len(contacts) == sum(len(company.contacts) for company in world.companies)
        assert len(devices) == len(world.devices)
        first = world.devices[0]
        device = next(d for d in devices if d.id == str(first.key))
        assert (device.name, device.kind, device.site) == (first.name, first.kind, first.site)
        assert device.company_id == vendor.state.company_ids[first.company]


async def test_tickets_map_with_reference_names_and_unreadable_rows_are_skipped(
    vendor: ContractVendor,
) -> None:
    if vendor.mode == "sandbox":
        broken = min(vendor.state.tickets)
        vendor.state.tickets[broken].update(dateoccurred=NO_DATE, datecreated=NO_DATE)
    batches = await read_all(sync(vendor), "tickets")
    tickets = {ticket.id: ticket for ticket in records(batches)}
    skipped = [record for batch in batches for record in batch.skipped]

    assert all(isinstance(ticket, Ticket) for ticket in tickets.values())
    vendor.needs_facts()
    assert len(skipped) == 1 and skipped[0].stream == "tickets"
    if vendor.mode == "replay":
        assert skipped[0].vendor_id is None and "id" in skipped[0].reason
        open_ticket, closed = tickets["9499"], tickets["9500"]
        assert open_ticket.summary == "Halo via API at 2024-06-20T14:45:15.788760"
        assert open_ticket.company_id == "12" and open_ticket.site_id == "18"
        assert open_ticket.contact_id == "38"
        assert open_ticket.opened_at == datetime(2024, 6, 20, 14, 45, 15, 974627, tzinfo=UTC)
        assert open_ticket.updated_at == datetime(2024, 6, 20, 14, 45, 17, 152103, tzinfo=UTC)
        assert (open_ticket.status and open_ticket.status.name) == "New"
        assert (open_ticket.priority and open_ticket.priority.name) == "Low"
        assert open_ticket.board is not None and open_ticket.board.id == "26"
        assert open_ticket.board.name == "1st Line Support"
        assert open_ticket.owner is None, "agent 1 is Halo's 'Unassigned'"
        assert not open_ticket.closed and open_ticket.closed_at is None
        assert open_ticket.url == f"{CLOUD}/tickets?id=9499"
        assert open_ticket.sla == TicketSla(
            name="Incident SLA",
            respond_by=datetime(2024, 6, 21, 10, 45, 15, 975000, tzinfo=UTC),
            resolve_by=datetime(2024, 6, 27, 14, 45, 15, 974627, tzinfo=UTC),
        )
        assert closed.closed and closed.owner is not None and closed.owner.name == "Admin"
        assert closed.closed_at == datetime(2024, 6, 21, 9, 12, 44, 517000, tzinfo=UTC)
        assert batches[-1].cursor == "2024-06-21T09:12:44.517000+00:00"
    else:
        assert skipped[0].vendor_id == str(broken)
        assert len(tickets) == len(vendor.state.tickets) - 1
        source = vendor.state.tickets[max(vendor.state.tickets)]
        ticket = tickets[str(source["id"])]
        assert ticket.summary == source["summary"]
        assert ticket.company_id == str(source["client_id"])
        assert ticket.board is not None and ticket.board.name == source["team"]
        assert ticket.closed == (source["status_id"] == CLOSED_STATUS)
        assert ticket.sla is not None and ticket.sla.name == source["sla_name"]
        assert ticket.sla.resolve_by == parse_time(source["fixbydate"])


async def test_a_mapping_bug_fails_the_read_while_a_malformed_row_is_skipped(
    vendor: ContractVendor, monkeypatch: pytest.MonkeyPatch
) -> None:
    vendor.needs_facts()
    if vendor.mode == "sandbox":
        vendor.state.clients[999] = {"id": 999, "alastupdate": None}  # a client with no name
        batches = await read_all(sync(vendor), "companies")
        (skipped,) = [record for batch in batches for record in batch.skipped]
        assert (skipped.stream, skipped.vendor_id) == ("companies", "999")
        assert "name" in skipped.reason

    def broken(row: Any) -> Any:
        raise KeyError("a bug in Vectis")

    monkeypatch.setattr(mapping, "company", broken)
    with pytest.raises(KeyError, match="a bug in Vectis"):
        await read_all(sync(vendor), "companies")


async def test_notes_are_the_actions_of_each_changed_ticket(vendor: ContractVendor) -> None:
    batches = await read_all(sync(vendor, notes_history_days=0), "notes")
    notes = {note.id: note for note in records(batches)}

    assert all(isinstance(note, TicketNote) for note in notes.values())
    vendor.needs_facts()
    if vendor.mode == "replay":
        assert set(notes) == {"9499-2", "9499-4", "9500-3"}
        reply, internal = notes["9499-2"], notes["9499-4"]
        assert reply.from_customer and not reply.internal and reply.author == "Some Body"
        assert reply.text == "Still offline after a restart, I am afraid."
        assert reply.created_at == datetime(2024, 6, 20, 15, 2, 41, 117000, tzinfo=UTC)
        assert internal.internal and not internal.from_customer and internal.author == "Admin"
        asked = [call for call in api_calls(vendor) if call.startswith("GET /api/Actions")]
        assert len(asked) == 2 and all("excludesys=true" in call for call in asked)
    else:
        expected = sum(
            1 for actions in vendor.state.actions.values() for a in actions if a["who_type"] != 0
        )
        assert len(notes) == expected
        assert any(note.from_customer for note in notes.values())
        assert any(note.internal for note in notes.values())


async def test_contracts_carry_their_recurring_invoice_lines(vendor: ContractVendor) -> None:
    batches = await read_all(sync(vendor), "contracts")
    contracts = records(batches)

    assert all(isinstance(contract, Contract) for contract in contracts)
    vendor.needs_facts()
    if vendor.mode == "replay":
        (contract,) = contracts
        skipped = [record for batch in batches for record in batch.skipped]
        assert [record.vendor_id for record in skipped] == ["8"], "no client"
        assert (contract.id, contract.company_id, contract.name, contract.kind) == (
            "7",
            "12",
            "DBT Managed Service",
            "Managed Service",
        )
        assert contract.status == "active"
        assert str(contract.starts_on) == "2024-04-01" and str(contract.ends_on) == "2025-03-31"
        assert [(line.description, line.quantity, line.unit_price) for line in contract.lines] == [
            ("Managed laptop", Decimal("40.0"), Decimal("25.0")),
            ("Service desk (per user)", Decimal("120.0"), Decimal("8.5")),
        ]
    else:
        world = vendor.world
        assert len(contracts) == len(world.contracts)
        first = next(c for c in contracts if c.id == str(world.contracts[0].key))
        assert [line.description for line in first.lines] == [
            line.description for line in world.contracts[0].lines
        ]


async def test_an_up_to_date_cursor_costs_one_request_per_incremental_stream(
    vendor: ContractVendor,
) -> None:
    source = sync(vendor)
    cursors = {stream: (await read_all(source, stream))[-1].cursor for stream in INCREMENTAL}
    cursors["notes"] = cursors["tickets"]
    vendor.needs_facts()
    before = len(api_calls(vendor))

    fresh = sync(vendor)
    for stream, cursor in cursors.items():
        assert cursor is not None
        batches = await read_all(fresh, stream, cursor)
        assert batches[-1].cursor == cursor, f"{stream} keeps its watermark"
        assert not records(batches), f"{stream}: nothing changed, nothing is read again"

    asked = api_calls(vendor)[before:]
    assert len(asked) == len(cursors), asked
    assert all("orderdesc=true" in call and "lastupdatefromdate" not in call for call in asked)


@pytest.mark.parametrize("ordered", [True, False], ids=["ordered", "order-ignored"])
async def test_an_incremental_sync_yields_only_what_changed_after_its_cursor(
    vendor: ContractVendor, ordered: bool
) -> None:
    vendor.only("sandbox")
    state = vendor.state
    state.honours_order = ordered
    source = sync(vendor, page_size=5)
    cursors = {stream: (await read_all(source, stream))[-1].cursor for stream in INCREMENTAL}
    later = max(
        parse_time(cursor) or datetime.min.replace(tzinfo=UTC) for cursor in cursors.values()
    )
    later += timedelta(minutes=1)
    client = state.clients[max(state.clients)]
    client["alastupdate"] = local_time(later)
    site = state.sites[min(state.sites)]
    site["slastupdate"] = local_time(later)
    user = state.users[min(state.users)]
    user["ulastupdate"] = local_time(later)
    asset = state.assets[min(state.assets)]
    asset["dlastupdate"] = local_time(later)
    ticket = state.add_ticket(int(client["id"]), "Scanner jams on every page")
    ticket["last_update"] = halo_time(later)

    changed = {
        stream: [record.id for record in records(await read_all(source, stream, cursors[stream]))]
        for stream in INCREMENTAL
    }

    assert changed == {
        "companies": [str(client["id"])],
        "sites": [str(site["id"])],
        "contacts": [str(user["id"])],
        "tickets": [str(ticket["id"])],
        "devices": [str(asset["id"])],
    }


async def test_the_sandbox_ignores_filters_halo_does_not_document(
    vendor: ContractVendor,
) -> None:
    vendor.only("sandbox")
    client = HaloClient.of(vendor.link())
    everything = await client.get("/Tickets")
    after = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")

    assert everything["record_count"] == len(vendor.state.tickets)
    for undocumented in ({"third_party_id_string": "vectis:0"}, {"lastupdatefromdate": after}):
        assert await client.get("/Tickets", undocumented) == everything
    companies = await client.get("/Client", {"lastupdatefromdate": after})
    assert companies["record_count"] == len(vendor.state.clients), "a flag, not a date filter"
    some = next(iter(vendor.state.company_ids.values()))
    narrowed = await client.get("/Tickets", {"client_id": some})
    assert {row["client_id"] for row in narrowed["tickets"]} == {int(some)}, "documented"


async def test_a_first_sync_reads_actions_of_recent_tickets_only(vendor: ContractVendor) -> None:
    vendor.only("sandbox")
    notes = records(await read_all(sync(vendor, notes_history_days=7), "notes"))

    week_ago = datetime.now(UTC) - timedelta(days=7)
    recent = {
        str(key)
        for key, ticket in vendor.state.tickets.items()
        if datetime.fromisoformat(ticket["last_update"].replace("Z", "+00:00")) >= week_ago
    }
    assert notes and {note.ticket_id for note in notes} <= recent
