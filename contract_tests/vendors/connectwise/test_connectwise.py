"""ConnectWise Manage sync: every stream against recordings, the sandbox, and (optionally) live.

Modes (the ``vendor`` fixture in conftest.py): ``replay`` serves ``recordings/*.json``
in-process; ``sandbox`` serves the demo world from ``vectis_sandbox.connectwise`` over loopback
HTTP; ``live`` calls a real tenant and runs only when these environment variables are set:

- CONNECTWISE_BASE_URL — e.g. https://api-na.myconnectwise.net/v4_6_release
- CONNECTWISE_COMPANY_ID, CONNECTWISE_PUBLIC_KEY, CONNECTWISE_PRIVATE_KEY, CONNECTWISE_CLIENT_ID

Live runs only read (from a day back, to stay cheap) unless CONNECTWISE_LIVE_WRITES=1; the
write-back tests then open scratch tickets for company CONNECTWISE_LIVE_COMPANY on board
CONNECTWISE_LIVE_BOARD (both ConnectWise record ids).
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Protocol, TypeVar

import attrs
import httpx
import pytest

from contract_tests.replay import Replay
from contract_tests.vendors.connectwise.conftest import Vendor, interactions, replay_account
from vectis.adapters.vendors.connectwise.gateway import ConnectWiseSync
from vectis.domain.errors import VendorAuthFailed
from vectis.domain.records import (
    Contact,
    Contract,
    Deletion,
    Device,
    Reference,
    SkippedRecord,
    SyncedRecord,
    Ticket,
    TicketNote,
    VendorCompany,
    VendorSite,
)

Read = tuple[list[SyncedRecord], list[SkippedRecord], str | None]


async def read(vendor: Vendor, stream: str, cursor: str | None = None) -> Read:
    """Every batch of one stream: records, skipped records and the last cursor given."""
    if cursor is None and vendor.mode == "live":
        cursor = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    records: list[SyncedRecord] = []
    skipped: list[SkippedRecord] = []
    last = None
    async for batch in vendor.sync().read(stream, cursor):
        records.extend(batch.records)
        skipped.extend(batch.skipped)
        last = batch.cursor or last
    return records, skipped, last


class Identified(Protocol):
    @property
    def id(self) -> str: ...


R = TypeVar("R", bound=Identified)


def of_type(records: list[SyncedRecord], kind: type[R]) -> dict[str, R]:
    return {record.id: record for record in records if isinstance(record, kind)}


def gone(records: list[SyncedRecord], record_type: str) -> list[str]:
    return [r.id for r in records if isinstance(r, Deletion) and r.record_type == record_type]


async def test_check_makes_one_authenticated_call_and_names_the_account(vendor: Vendor) -> None:
    label = await vendor.sync().check()

    assert vendor.account.company_id in label
    (sent,) = vendor.sent
    assert sent.url.path.endswith("/apis/3.0/system/info")
    user = base64.b64decode(sent.headers["Authorization"].removeprefix("Basic ")).decode()
    account = vendor.account
    assert user == f"{account.company_id}+{account.public_key}:{account.private_key}"
    assert sent.headers["clientId"] == account.client_id
    assert sent.headers["Accept"].startswith("application/vnd.connectwise.com+json")


async def test_refused_credentials_are_an_authentication_failure(vendor: Vendor) -> None:
    if vendor.mode == "replay":
        replay = Replay(interactions("system_info_refused"))
        async with httpx.AsyncClient(transport=replay.transport()) as http:
            with pytest.raises(VendorAuthFailed, match="401"):
                await ConnectWiseSync(http, replay_account()).check()
        return
    wrong = attrs.evolve(vendor.account, private_key="not-the-key")
    with pytest.raises(VendorAuthFailed, match="401"):
        await ConnectWiseSync(vendor.http, wrong).check()
    if vendor.state is not None:
        vendor.state.faults.credentials_expired = True
        with pytest.raises(VendorAuthFailed, match="expired"):
            await vendor.sync().check()


async def test_a_passing_server_error_is_retried(vendor: Vendor) -> None:
    if vendor.state is None:
        pytest.skip("faults are switched on in the sandbox")
    vendor.state.faults.server_errors = 1

    assert await vendor.sync().check()
    assert len(vendor.sent) == 2


async def test_references_are_boards_their_statuses_priorities_and_members(vendor: Vendor) -> None:
    records, skipped, cursor = await read(vendor, "references")

    assert skipped == [] and cursor is None
    references = of_type(records, Reference)
    assert len(references) <= len(records) and all(isinstance(r, Reference) for r in records)
    assert {r.kind for r in records if isinstance(r, Reference)} == {
        "board",
        "status",
        "priority",
        "member",
    }
    if vendor.expected:
        assert set(records) == vendor.expected.references, "inactive ones and API members left out"
        assert len(vendor.sent) == vendor.expected.reference_requests
        assert "service/boards/" in vendor.sent[1].url.path, "statuses are read board by board"


async def test_companies_follow_the_pages_and_map_deletions(vendor: Vendor) -> None:
    records, skipped, cursor = await read(vendor, "companies")

    companies = of_type(records, VendorCompany)
    expected = vendor.expected
    if expected:
        assert companies[expected.company.id] == expected.company
        assert len(companies) == expected.companies
        assert gone(records, "company") == list(expected.deleted_companies)
        assert [s.vendor_id for s in skipped] == list(expected.skipped.get("companies", ()))
        newest = max(c.updated_at for c in companies.values() if c.updated_at)
        assert cursor == newest.strftime("%Y-%m-%dT%H:%M:%SZ")
    if vendor.mode == "replay":
        pages = [r.url.params["page"] for r in vendor.sent]
        assert pages == ["1", "2"], "rel=next followed"
    first = vendor.sent[0].url.params
    assert first["orderBy"] == "lastUpdated asc" and first["pageSize"] == str(vendor.page_size)
    assert ("conditions" in first) == (vendor.mode == "live")


async def test_sites_are_read_for_each_company(vendor: Vendor) -> None:
    records, skipped, cursor = await read(vendor, "sites")

    sites = of_type(records, VendorSite)
    expected = vendor.expected
    if expected:
        assert sites[expected.site.id] == expected.site
        assert len(sites) == expected.sites
        assert gone(records, "site") == list(expected.removed_sites)
        assert skipped == []
        site_requests = vendor.requests(path_contains="/sites")
        assert len(site_requests) == expected.companies + len(expected.skipped.get("companies", ()))
        assert cursor is not None and "|" in cursor, "the cursor remembers the boundary companies"


async def test_contacts_map_their_default_email_and_phone(vendor: Vendor) -> None:
    records, skipped, _ = await read(vendor, "contacts")

    contacts = of_type(records, Contact)
    expected = vendor.expected
    if expected:
        assert contacts[expected.contact.id] == expected.contact
        assert gone(records, "contact") == list(expected.removed_contacts)
        assert [s.vendor_id for s in skipped] == list(expected.skipped.get("contacts", ()))


async def test_tickets_map_board_status_owner_closure_and_console_link(vendor: Vendor) -> None:
    records, skipped, cursor = await read(vendor, "tickets")

    tickets = of_type(records, Ticket)
    expected = vendor.expected
    if expected:
        assert tickets[expected.open_ticket.id] == expected.open_ticket
        assert tickets[expected.closed_ticket.id] == expected.closed_ticket
        assert len(tickets) == expected.tickets
        assert [s.vendor_id for s in skipped] == list(expected.skipped.get("tickets", ()))
        assert len(vendor.sent) == expected.ticket_pages, "every page, following rel=next"
        assert [r.url.params["page"] for r in vendor.sent] == [
            str(n) for n in range(1, expected.ticket_pages + 1)
        ]
        newest = max(t.updated_at for t in tickets.values())
        assert cursor == newest.strftime("%Y-%m-%dT%H:%M:%SZ")


async def test_a_ticket_missing_its_dates_is_skipped_while_the_page_maps(vendor: Vendor) -> None:
    if vendor.mode == "live":
        pytest.skip("needs a known broken record")
    if vendor.state is not None:
        vendor.state.tickets[1] = {
            "id": 1,
            "summary": "Imported without dates",
            "closedFlag": False,
        }
    broken = "1" if vendor.state is not None else "945399"

    records, skipped, _ = await read(vendor, "tickets")

    (skip,) = skipped
    assert (skip.stream, skip.vendor_id) == ("tickets", broken)
    assert "dateEntered" in skip.reason
    assert vendor.expected and len(of_type(records, Ticket)) == vendor.expected.tickets


async def test_notes_are_read_ticket_by_ticket_and_say_who_wrote_them(vendor: Vendor) -> None:
    records, skipped, cursor = await read(vendor, "notes")

    notes = of_type(records, TicketNote)
    expected = vendor.expected
    if expected:
        ticket_id = expected.open_ticket.id
        mine = sorted(
            (n for n in notes.values() if n.ticket_id == ticket_id),
            key=lambda note: int(note.id),
        )
        assert tuple(mine) == expected.notes
        assert [s.vendor_id for s in skipped] == list(expected.skipped.get("notes", ()))
        note_requests = vendor.requests(path_contains="/notes")
        assert len(note_requests) == expected.tickets + len(expected.skipped.get("tickets", ()))
        assert note_requests[0].url.params["pageSize"] == str(vendor.page_size)
        assert cursor is not None and "|" in cursor


async def test_agreements_become_contracts_with_their_additions_as_lines(vendor: Vendor) -> None:
    records, skipped, _ = await read(vendor, "contracts")

    contracts = of_type(records, Contract)
    expected = vendor.expected
    if expected:
        assert contracts[expected.contract.id] == expected.contract, "cancelled additions left out"
        assert [s.vendor_id for s in skipped] == list(expected.skipped.get("contracts", ()))
        additions = vendor.requests(path_contains="/additions")
        assert len(additions) == len(contracts), "none for an agreement that cannot map"


async def test_configurations_become_devices(vendor: Vendor) -> None:
    records, skipped, _ = await read(vendor, "devices")

    devices = of_type(records, Device)
    expected = vendor.expected
    if expected:
        assert devices[expected.device.id] == expected.device
        assert gone(records, "device") == list(expected.retired_devices)
        assert skipped == []


async def test_an_up_to_date_cursor_costs_one_request_per_stream(vendor: Vendor) -> None:
    sync = vendor.sync()
    cursors = {stream: (await read(vendor, stream))[2] for stream in sync.streams}
    vendor.sent.clear()

    for stream in sync.streams:
        before = len(vendor.sent)
        records, _, cursor = await read(vendor, stream, cursors[stream])
        made = vendor.sent[before:]
        if stream in sync.snapshots:
            if vendor.expected:
                assert len(made) == vendor.expected.reference_requests
            continue
        assert len(made) == 1, f"{stream} made {len(made)} requests"
        assert cursor == cursors[stream], f"{stream} keeps its watermark"
        watermark = (cursors[stream] or "").split("|")[0]
        assert made[0].url.params["conditions"] == f"lastUpdated >= [{watermark}]"
        if stream in ("sites", "notes", "contracts"):
            assert records == [], f"{stream} does not re-read the boundary parents' children"
