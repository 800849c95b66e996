"""ConnectWise Manage sync: every stream against recordings, the sandbox, and (optionally) live.

The modes and the live account's variables are in conftest.py.
"""

from __future__ import annotations

import base64
from typing import Protocol, TypeVar

import pytest

from contract_tests.harness import ContractVendor
from contract_tests.vendors.connectwise.conftest import expected, page_size, read, sync
from vectis.adapters.vendors.connectwise import mapping
from vectis.domain.errors import VendorAuthFailed
from vectis.domain.records import (
    Contact,
    Contract,
    Deletion,
    Device,
    Reference,
    SyncedRecord,
    Ticket,
    TicketNote,
    VendorCompany,
    VendorSite,
)
from vectis.domain.sync import SyncSource


class Identified(Protocol):
    @property
    def id(self) -> str: ...


R = TypeVar("R", bound=Identified)


def of_type(records: list[SyncedRecord], kind: type[R]) -> dict[str, R]:
    return {record.id: record for record in records if isinstance(record, kind)}


def gone(records: list[SyncedRecord], record_type: str) -> list[str]:
    return [r.id for r in records if isinstance(r, Deletion) and r.record_type == record_type]


async def test_check_makes_one_authenticated_call_and_names_the_account(
    vendor: ContractVendor,
) -> None:
    label = await sync(vendor).check()

    account = vendor.credentials
    assert account["company_id"] in label
    (sent,) = vendor.sent
    assert sent.url.path.endswith("/apis/3.0/system/info")
    user = base64.b64decode(sent.headers["Authorization"].removeprefix("Basic ")).decode()
    assert user == f"{account['company_id']}+{account['public_key']}:{account['private_key']}"
    assert sent.headers["clientId"] == account["client_id"]
    assert sent.headers["Accept"].startswith("application/vnd.connectwise.com+json")


async def test_refused_credentials_are_an_authentication_failure(vendor: ContractVendor) -> None:
    wrong = {**vendor.credentials, "private_key": "not-the-key"}
    refused = vendor.entry.build(SyncSource, vendor.link("system_info_refused", credentials=wrong))
    with pytest.raises(VendorAuthFailed, match="401"):
        await refused.check()
    if vendor.mode == "sandbox":
        vendor.state.faults.credentials_expired = True
        with pytest.raises(VendorAuthFailed, match="expired"):
            await sync(vendor).check()


async def test_a_passing_server_error_is_retried(vendor: ContractVendor) -> None:
    vendor.only("sandbox")
    vendor.state.faults.server_errors = 1

    assert await sync(vendor).check()
    assert len(vendor.sent) == 2


async def test_references_are_boards_their_statuses_priorities_and_members(
    vendor: ContractVendor,
) -> None:
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
    want = expected(vendor)
    if want:
        assert set(records) == want.references, "inactive ones and API members left out"
        assert len(vendor.sent) == want.reference_requests
        assert "service/boards/" in vendor.sent[1].url.path, "statuses are read board by board"


async def test_companies_follow_the_pages_and_map_deletions(vendor: ContractVendor) -> None:
    records, skipped, cursor = await read(vendor, "companies")

    companies = of_type(records, VendorCompany)
    want = expected(vendor)
    if want:
        assert companies[want.company.id] == want.company
        assert len(companies) == want.companies
        assert gone(records, "company") == list(want.deleted_companies)
        assert [s.vendor_id for s in skipped] == list(want.skipped.get("companies", ()))
        newest = max(c.updated_at for c in companies.values() if c.updated_at)
        assert cursor == newest.strftime("%Y-%m-%dT%H:%M:%SZ")
    if vendor.mode == "replay":
        pages = [r.url.params["page"] for r in vendor.sent]
        assert pages == ["1", "2"], "rel=next followed"
    first = vendor.sent[0].url.params
    assert first["orderBy"] == "lastUpdated asc" and first["pageSize"] == str(page_size(vendor))
    assert ("conditions" in first) == (vendor.mode == "live")


async def test_sites_are_read_for_each_company(vendor: ContractVendor) -> None:
    records, skipped, cursor = await read(vendor, "sites")

    sites = of_type(records, VendorSite)
    want = expected(vendor)
    if want:
        assert sites[want.site.id] == want.site
        assert len(sites) == want.sites
        assert gone(records, "site") == list(want.removed_sites)
        assert skipped == []
        site_requests = vendor.requests(path_contains="/sites")
        assert len(site_requests) == want.companies + len(want.skipped.get("companies", ()))
        assert cursor is not None and "|" in cursor, "the cursor remembers the boundary companies"


async def test_contacts_map_their_default_email_and_phone(vendor: ContractVendor) -> None:
    records, skipped, _ = await read(vendor, "contacts")

    contacts = of_type(records, Contact)
    want = expected(vendor)
    if want:
        assert contacts[want.contact.id] == want.contact
        assert gone(records, "contact") == list(want.removed_contacts)
        assert [s.vendor_id for s in skipped] == list(want.skipped.get("contacts", ()))


async def test_tickets_map_board_status_owner_closure_and_console_link(
    vendor: ContractVendor,
) -> None:
    records, skipped, cursor = await read(vendor, "tickets")

    tickets = of_type(records, Ticket)
    want = expected(vendor)
    if want:
        assert tickets[want.open_ticket.id] == want.open_ticket
        assert tickets[want.closed_ticket.id] == want.closed_ticket
        assert len(tickets) == want.tickets
        assert [s.vendor_id for s in skipped] == list(want.skipped.get("tickets", ()))
        assert len(vendor.sent) == want.ticket_pages, "every page, following rel=next"
        assert [r.url.params["page"] for r in vendor.sent] == [
            str(n) for n in range(1, want.ticket_pages + 1)
        ]
        newest = max(t.updated_at for t in tickets.values())
        assert cursor == newest.strftime("%Y-%m-%dT%H:%M:%SZ")


async def test_a_ticket_missing_its_dates_is_skipped_while_the_page_maps(
    vendor: ContractVendor,
) -> None:
    vendor.needs_facts()
    if vendor.mode == "sandbox":
        vendor.state.tickets[1] = {
            "id": 1,
            "summary": "Imported without dates",
            "closedFlag": False,
        }
    broken = "1" if vendor.mode == "sandbox" else "945399"

    records, skipped, _ = await read(vendor, "tickets")

    (skip,) = skipped
    assert (skip.stream, skip.vendor_id) == ("tickets", broken)
    assert "dateEntered" in skip.reason
    want = expected(vendor)
    assert want and len(of_type(records, Ticket)) == want.tickets


async def test_notes_are_read_ticket_by_ticket_and_say_who_wrote_them(
    vendor: ContractVendor,
) -> None:
    records, skipped, cursor = await read(vendor, "notes")

    notes = of_type(records, TicketNote)
    want = expected(vendor)
    if want:
        ticket_id = want.open_ticket.id
        mine = sorted(
            (n for n in notes.values() if n.ticket_id == ticket_id),
            key=lambda note: int(note.id),
        )
        assert tuple(mine) == want.notes
        assert [s.vendor_id for s in skipped] == list(want.skipped.get("notes", ()))
        note_requests = vendor.requests(path_contains="/notes")
        assert len(note_requests) == want.tickets + len(want.skipped.get("tickets", ()))
        assert note_requests[0].url.params["pageSize"] == str(page_size(vendor))
        assert cursor is not None and "|" in cursor


async def test_agreements_become_contracts_with_their_additions_as_lines(
    vendor: ContractVendor,
) -> None:
    records, skipped, _ = await read(vendor, "contracts")

    contracts = of_type(records, Contract)
    want = expected(vendor)
    if want:
        assert contracts[want.contract.id] == want.contract, "cancelled additions left out"
        assert [s.vendor_id for s in skipped] == list(want.skipped.get("contracts", ()))
        additions = vendor.requests(path_contains="/additions")
        assert len(additions) == len(contracts), "none for an agreement that cannot map"


async def test_configurations_become_devices(vendor: ContractVendor) -> None:
    records, skipped, _ = await read(vendor, "devices")

    devices = of_type(records, Device)
    want = expected(vendor)
    if want:
        assert devices[want.device.id] == want.device
        assert gone(records, "device") == list(want.retired_devices)
        assert skipped == []


async def test_an_up_to_date_cursor_costs_one_request_per_stream(vendor: ContractVendor) -> None:
    source = sync(vendor)
    cursors = {stream: (await read(vendor, stream))[2] for stream in source.streams}
    vendor.sent.clear()

    want = expected(vendor)
    for stream in source.streams:
        before = len(vendor.sent)
        records, _, cursor = await read(vendor, stream, cursors[stream])
        made = vendor.sent[before:]
        if stream in source.snapshots:
            if want:
                assert len(made) == want.reference_requests
            continue
        assert len(made) == 1, f"{stream} made {len(made)} requests"
        assert cursor == cursors[stream], f"{stream} keeps its watermark"
        watermark = (cursors[stream] or "").split("|")[0]
        assert made[0].url.params["conditions"] == f"lastUpdated >= [{watermark}]"
        if stream in ("sites", "notes", "contracts"):
            assert records == [], f"{stream} does not re-read the boundary parents' children"


async def test_a_bug_in_the_mapping_fails_the_read_while_a_malformed_row_is_skipped(
    vendor: ContractVendor, monkeypatch: pytest.MonkeyPatch
) -> None:
    vendor.needs_facts()
    if vendor.mode == "sandbox":
        vendor.state.contacts[1] = {"id": 1, "firstName": "Orphan", "inactiveFlag": False}
    records, skipped, _ = await read(vendor, "contacts")
    assert skipped and all(s.stream == "contacts" and s.reason for s in skipped), "a bad row"
    assert of_type(records, Contact), "the rest of the page still maps"

    def broken(contact: object) -> Contact:
        raise KeyError("a field our own code forgot")

    monkeypatch.setattr(mapping, "contact", broken)
    with pytest.raises(KeyError, match="forgot"):
        await read(vendor, "contacts")
