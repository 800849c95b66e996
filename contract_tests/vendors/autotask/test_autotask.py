"""Autotask PSA: credentials, zone discovery and every sync stream, in every mode."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import httpx
import pytest

from contract_tests.harness import ContractVendor
from contract_tests.vendors.autotask.conftest import (
    CREDENTIALS,
    INCREMENTAL,
    client,
    paths,
    read,
    records,
    rows,
    running,
    sync,
)
from vectis.adapters.vendors.autotask import mapping
from vectis.adapters.vendors.autotask.client import AutotaskClient
from vectis.adapters.vendors.autotask.mapping import parse_time
from vectis.adapters.vendors.autotask.settings import AutotaskAccount, AutotaskSettings
from vectis.adapters.vendors.autotask.sync import AutotaskSync
from vectis.domain.errors import VendorAuthFailed
from vectis.domain.records import (
    Contact,
    Contract,
    Device,
    Named,
    Reference,
    ReferenceKind,
    Ticket,
    TicketNote,
    TicketSla,
    VendorCompany,
    VendorSite,
)
from vectis_sandbox import autotask as sandbox
from vectis_sandbox.autotask_tables import GeneratedTable
from vectis_sandbox.world import build_world

# --- check and zone -------------------------------------------------------------------------


async def test_check_reads_the_msps_own_company_with_the_three_auth_headers(
    vendor: ContractVendor,
) -> None:
    label = await sync(vendor, "check").check()

    if vendor.mode == "live":
        assert label.startswith("Autotask PSA")
        return
    assert label == "Autotask PSA · Harbor Point IT"
    if vendor.mode == "replay":
        (sent,) = vendor.sent
        assert sent.url.host == "webservices5.autotask.net"
        assert sent.headers["UserName"] == CREDENTIALS["username"]
        assert sent.headers["Secret"] == CREDENTIALS["secret"]
        assert sent.headers["ApiIntegrationCode"] == CREDENTIALS["integration_code"]


async def test_refused_credentials_raise_auth_failed(vendor: ContractVendor) -> None:
    vendor.only("replay", "sandbox")
    wrong = {**vendor.credentials, "secret": "not-the-secret"} if vendor.mode == "sandbox" else None

    with pytest.raises(VendorAuthFailed, match="401"):
        await AutotaskSync(
            client(vendor, "unauthorized", credentials=wrong), AutotaskSettings()
        ).check()


async def test_an_empty_base_url_discovers_the_zone_first(vendor: ContractVendor) -> None:
    vendor.only("replay", "sandbox")
    if vendor.mode == "replay":
        vendor.base_url = ""
        label = await sync(vendor, "zone_discovery").check()
        lookup, call = vendor.sent
        assert (lookup.url.host, lookup.url.path) == (
            "webservices.autotask.net",
            "/atservicesrest/v1.0/zoneInformation",
        )
        assert lookup.url.params["user"] == CREDENTIALS["username"]
        assert "Secret" not in lookup.headers
        assert (call.url.host, call.url.path) == (
            "webservices5.autotask.net",
            "/ATServicesRest/v1.0/Companies/0",
        )
    else:
        label = await sync(vendor, zone_lookup_url=vendor.base_url).check()
        assert paths(vendor)[:2] == [
            "GET /atservicesrest/v1.0/zoneInformation",
            "GET /atservicesrest/v1.0/Companies/0",
        ]
    assert label == "Autotask PSA · Harbor Point IT"


# --- streams --------------------------------------------------------------------------------


async def test_references_are_the_ticket_picklists_and_the_active_resources(
    vendor: ContractVendor,
) -> None:
    found = records(await read(sync(vendor, "references"), "references"))

    assert all(isinstance(reference, Reference) for reference in found)
    if vendor.mode == "live":
        return
    by_kind: dict[str, dict[str, Reference]] = {}
    for reference in found:
        by_kind.setdefault(reference.kind, {})[reference.id] = reference
    statuses = by_kind[ReferenceKind.STATUS]
    assert (statuses["5"].name, statuses["5"].closed) == ("Complete", True)
    assert (statuses["1"].name, statuses["1"].closed) == ("New", False)
    assert statuses["8"].name == "In Progress"
    assert by_kind[ReferenceKind.PRIORITY]["4"].name == "Critical"
    assert by_kind[ReferenceKind.BOARD]["29682833"].name == "Service Desk"
    assert by_kind[ReferenceKind.MEMBER]["29682885"].name == "Sam Okafor"
    if vendor.mode == "replay":
        assert "13" not in statuses, "inactive picklist values are not offered"
        assert set(by_kind[ReferenceKind.MEMBER]) == {"4", "10", "29682885"}, (
            "active resources only"
        )


async def test_companies_follow_next_page_urls_and_skip_unreadable_records(
    vendor: ContractVendor,
) -> None:
    small_pages = {"page_size": 2} if vendor.mode == "sandbox" else {}
    batches = await read(sync(vendor, "companies", **small_pages), "companies")

    companies = {company.id: company for company in records(batches)}
    assert all(isinstance(company, VendorCompany) for company in companies.values())
    if vendor.mode == "live":
        return
    assert len(batches) >= 2, "more than one page"
    assert all(batch.cursor is None for batch in batches[:-1]), "Autotask pages by id, not time"
    if vendor.mode == "replay":
        assert paths(vendor)[1] == "GET /ATServicesRest/V1.0/Companies/query/next", "verbatim"
        assert set(companies) == {"174", "176"}
        assert [(skip.stream, skip.vendor_id) for skip in batches[0].skipped] == [
            ("companies", "175")
        ]
        assert companies["174"].name == "Autotask Corporation"
        assert companies["174"].identifier == "289843"
        assert companies["174"].updated_at == datetime(2019, 8, 1, 10, tzinfo=UTC)
        assert batches[-1].cursor == "2019-09-01T08:00:00.000Z"
    else:
        assert len(companies) == len(rows(vendor, "Companies"))
        assert companies["174"].name == "Aldridge & Co."
        assert companies["174"].identifier == "AldridgeCo"
        assert batches[-1].cursor is not None


async def test_a_bug_in_the_mapping_fails_the_read_while_a_malformed_row_is_skipped(
    vendor: ContractVendor, monkeypatch: pytest.MonkeyPatch
) -> None:
    vendor.only("replay")
    batches = await read(sync(vendor, "companies"), "companies")
    (skip,) = [skip for batch in batches for skip in batch.skipped]
    assert skip.vendor_id == "175" and skip.reason

    def broken(record: object) -> object:
        raise KeyError("a field our own mapping misspelt")

    monkeypatch.setattr(mapping, "company", broken)
    with pytest.raises(KeyError, match="misspelt"):
        await read(sync(vendor, "companies"), "companies")


async def test_sites_and_contacts_map_to_their_company(vendor: ContractVendor) -> None:
    sites = records(await read(sync(vendor, "sites"), "sites"))
    batches = await read(sync(vendor, "contacts"), "contacts")
    contacts = records(batches)

    assert all(isinstance(site, VendorSite) for site in sites)
    assert all(isinstance(contact, Contact) for contact in contacts)
    if vendor.mode == "live":
        return
    site = next(site for site in sites if site.id == "55")
    contact = next(contact for contact in contacts if contact.id == "29683586")
    assert (site.company_id, contact.company_id) == ("174", "174")
    if vendor.mode == "replay":
        assert site.name == "Head Office"
        assert (contact.name, contact.email, contact.phone) == (
            "Maria Alvarez",
            "maria.alvarez@aldridgeco.example",
            "+1 555 0100",
        )
        assert contact.updated_at == datetime(2019, 9, 2, 9, 15, tzinfo=UTC)
        assert [skip.vendor_id for skip in batches[0].skipped] == ["29683587"]
    else:
        row = next(row for row in rows(vendor, "Contacts") if row["id"] == 29683586)
        assert contact.name == f"{row['firstName']} {row['lastName']}"
        assert contact.email == row["emailAddress"]


async def test_contracts_carry_their_services_as_lines(vendor: ContractVendor) -> None:
    contracts = records(await read(sync(vendor, "contracts"), "contracts"))

    assert all(isinstance(contract, Contract) for contract in contracts)
    if vendor.mode == "live":
        return
    contract = next(contract for contract in contracts if contract.id == "29684183")
    assert (contract.company_id, contract.kind, contract.status) == (
        "174",
        "Recurring Service",
        "active",
    )
    if vendor.mode == "replay":
        assert (contract.starts_on, contract.ends_on) == (date(2019, 1, 1), date(2020, 12, 31))
        workstation, server = contract.lines
        assert (workstation.description, workstation.quantity, workstation.unit_price) == (
            "Managed workstation",
            Decimal("25.0"),
            Decimal("42.5"),
        )
        assert (server.description, server.quantity, server.unit_price) == (
            "Managed server",
            Decimal(1),
            Decimal("150.0"),
        )
    else:
        world = build_world()
        expected = world.contracts[0]
        assert contract.name == expected.name
        assert [(line.description, line.quantity, line.unit_price) for line in contract.lines] == [
            (line.description, line.quantity, line.unit_price) for line in expected.lines
        ]


async def test_configuration_items_become_devices_with_console_links(
    vendor: ContractVendor,
) -> None:
    batches = await read(sync(vendor, "devices"), "devices")
    devices = {device.id: device for device in records(batches)}

    assert all(isinstance(device, Device) for device in devices.values())
    if vendor.mode == "replay":
        device = devices["29684500"]
        assert (device.name, device.os, device.patches_pending) == (
            "ALD-SRV-01",
            "Windows Server 2022",
            3,
        )
        assert device.url == (
            "https://ww5.autotask.net/Autotask/AutotaskExtend/ExecuteCommand.aspx"
            "?Code=OpenInstalledProduct&InstalledProductID=29684500"
        )
        assert [skip.vendor_id for skip in batches[0].skipped] == ["29684501"]
    elif vendor.mode == "sandbox":
        assert len(devices) == len(rows(vendor, "ConfigurationItems"))


async def test_tickets_map_with_named_picklists_owner_and_console_link(
    vendor: ContractVendor,
) -> None:
    batches = await read(sync(vendor, "tickets"), "tickets")
    tickets = {ticket.id: ticket for ticket in records(batches)}

    assert all(isinstance(ticket, Ticket) for ticket in tickets.values())
    if vendor.mode == "live":
        return
    if vendor.mode == "replay":
        assert [skip.vendor_id for skip in batches[0].skipped] == ["102"]
        open_, done = tickets["100"], tickets["101"]
        assert open_.number == "T20120604.0002.005"
        assert open_.summary == "Monthy Services Checkup*"
        assert (open_.company_id, open_.contact_id, open_.site_id) == ("174", "29683586", "55")
        assert open_.status == Named(id="10", name="Scheduled")
        assert open_.priority == Named(id="3", name="Low")
        assert open_.board == Named(id="29682833", name="Service Desk")
        assert open_.owner == Named(id="10", name="Riley Chen")
        assert open_.opened_at == datetime(2019, 8, 18, 1, tzinfo=UTC)
        assert (open_.closed, open_.closed_at) == (False, None)
        assert open_.sla == TicketSla(
            respond_by=datetime(2019, 8, 18, 5, tzinfo=UTC),
            responded_at=datetime(2019, 8, 18, 3, 12, tzinfo=UTC),
            resolve_by=datetime(2019, 8, 21, 1, tzinfo=UTC),
        )
        assert done.sla is None, "a ticket without an SLA has no targets"
        assert open_.url == (
            "https://ww5.autotask.net/Autotask/AutotaskExtend/ExecuteCommand.aspx"
            "?Code=OpenTicketDetail&TicketID=100"
        )
        assert (done.closed, done.closed_at) == (True, datetime(2019, 9, 24, 9, 30, tzinfo=UTC))
        assert (done.priority, done.board, done.owner) == (
            Named(id="4", name="Critical"),
            Named(id="5", name="Client Portal"),
            None,
        )
        assert batches[-1].cursor == "2019-09-24T09:30:00.000Z"
        return
    assert len(tickets) == len(rows(vendor, "Tickets"))
    for row in rows(vendor, "Tickets")[:40]:
        ticket = tickets[str(row["id"])]
        assert (ticket.number, ticket.summary) == (row["ticketNumber"], row["title"])
        assert ticket.status == Named(
            id=str(row["status"]), name=sandbox.records.STATUSES[row["status"]]
        )
        assert ticket.closed == (row["status"] == 5)
        assert ticket.closed_at == (ticket.updated_at if ticket.closed else None)
        assert ticket.sla is not None
        assert ticket.sla.resolve_by == parse_time(row["resolvedDueDateTime"])


async def test_notes_are_one_global_stream_marking_customer_replies(vendor: ContractVendor) -> None:
    batches = await read(sync(vendor, "notes"), "notes")
    notes = {note.id: note for note in records(batches)}

    assert all(isinstance(note, TicketNote) for note in notes.values())
    note_requests = [request for request in paths(vendor) if "Notes" in request]
    assert note_requests and all("/TicketNotes/query" in request for request in note_requests), (
        "one global stream, never a request per ticket"
    )
    if vendor.mode == "replay":
        assert [skip.vendor_id for skip in batches[0].skipped] == ["48"]
        tech, customer, internal = notes["45"], notes["46"], notes["47"]
        assert (tech.ticket_id, tech.text, tech.author, tech.internal, tech.from_customer) == (
            "100",
            "Note description",
            "Riley Chen",
            False,
            False,
        )
        assert tech.created_at == datetime(2018, 1, 23, 11, tzinfo=UTC)
        assert (customer.from_customer, customer.internal, customer.author) == (True, False, "")
        assert (internal.internal, internal.author) == (True, "Jordan Patel")
    elif vendor.mode == "sandbox":
        assert len(notes) == len(rows(vendor, "TicketNotes"))
        assert any(note.from_customer for note in notes.values())
        assert any(note.internal for note in notes.values())


async def test_an_up_to_date_cursor_costs_one_request_per_incremental_stream(
    vendor: ContractVendor,
) -> None:
    if vendor.mode == "replay":
        cursors = {
            "companies": "2019-09-01T08:00:00.000Z",
            "contacts": "2019-09-02T09:15:00.000Z",
            "devices": "2019-09-20T07:00:00.000Z",
            "tickets": "2019-09-24T09:30:00.000Z",
            "notes": "2019-09-24T09:00:00.000Z",
        }
    else:
        first = sync(vendor)
        await read(first, "references")
        cursors = {stream: (await read(first, stream))[-1].cursor for stream in INCREMENTAL}
    source = sync(vendor, "incremental")
    await read(source, "references")  # the run's first stream loads the picklists once

    for stream in INCREMENTAL:
        before = len(paths(vendor))
        batches = await read(source, stream, cursors[stream])
        if vendor.mode == "live":
            continue
        assert len(paths(vendor)) - before == 1, stream
        assert len(batches) == 1 and batches[0].cursor is not None, stream
        assert batches[0].cursor >= cursors[stream], stream
        if vendor.mode == "replay":
            assert batches[0].cursor == cursors[stream], stream


async def test_the_large_sandbox_serves_an_incremental_page_after_activity() -> None:
    state = sandbox.large(5_000)
    async with running(state), httpx.AsyncClient() as http:
        account = AutotaskAccount(base_url=state.base_url, **state.credentials)
        sync = AutotaskSync(AutotaskClient(http, account), AutotaskSettings())
        tickets = await read(sync, "tickets")
        notes = await read(sync, "notes")
        assert (len(records(tickets)), len(records(notes))) == (5_000, 10_000)
        assert len(tickets) == 10, "pages of 500"
        generated = state.table("Tickets")
        assert isinstance(generated, GeneratedTable)
        replied = generated.first_id + 17
        state.add_note(
            replied,
            {
                "title": "Customer reply",
                "description": "Still broken.",
                "noteType": 1,
                "publish": 1,
            },
        )
        changed = records(await read(sync, "tickets", tickets[-1].cursor))
        added = records(await read(sync, "notes", notes[-1].cursor))

    assert str(replied) in {ticket.id for ticket in changed}
    assert len(changed) < 10, "only the boundary and the changed tickets"
    assert "Still broken." in {note.text for note in added}
