"""Autotask PSA write-backs: tickets, updates, notes and webhook registration, idempotently."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from contract_tests.harness import ContractVendor
from contract_tests.vendors.autotask.conftest import (
    client,
    paths,
    recording,
    rows,
    ticketing,
)
from vectis.adapters.vendors._kit.markers import marker, note_tag
from vectis.adapters.vendors.autotask.client import AutotaskClient
from vectis.adapters.vendors.autotask.settings import AutotaskAccount, AutotaskSettings
from vectis.adapters.vendors.autotask.ticketing import AutotaskTicketing
from vectis.adapters.vendors.autotask.webhooks import AutotaskWebhookSubscriptions
from vectis.domain.errors import VendorUnavailable
from vectis.domain.records import Named, TicketChange, TicketDraft


async def test_creating_a_ticket_sends_the_documented_body_and_maps_the_answer(
    vendor: ContractVendor,
) -> None:
    vendor.only("replay", "sandbox")
    company = vendor.state.company_ids["AldridgeCo"] if vendor.mode == "sandbox" else "174"
    draft = TicketDraft(
        company_id=company,
        summary="Printer on the second floor shows offline",
        description="The HP printer upstairs shows offline for everyone.",
        board_id="29682833",
    )

    ticket = await ticketing(vendor, "create_ticket").create_ticket(
        draft, idempotency_key="wb-7f3a9c"
    )

    assert (ticket.summary, ticket.company_id) == (draft.summary, company)
    assert ticket.status == Named(id="1", name="New")
    assert ticket.priority == Named(id="2", name="Medium")
    assert ticket.board == Named(id="29682833", name="Service Desk")
    assert ticket.closed is False
    assert paths(vendor)[:3] == [
        "GET /atservicesrest/v1.0/Tickets/query",
        "POST /atservicesrest/v1.0/Tickets",
        f"GET /atservicesrest/v1.0/Tickets/{ticket.id}",
    ]
    if vendor.mode == "sandbox":
        row = vendor.state.table("Tickets").get(int(ticket.id))
        assert row is not None and row["externalID"] == marker("wb-7f3a9c")
    else:
        assert (ticket.id, ticket.number) == ("9001", "T20191001.0001")


async def test_creating_twice_with_one_idempotency_key_creates_one_ticket(
    vendor: ContractVendor,
) -> None:
    vendor.only("replay", "sandbox")
    company = vendor.state.company_ids["BaysideBistro"] if vendor.mode == "sandbox" else "174"
    draft = TicketDraft(company_id=company, summary="Printer on the second floor shows offline")

    if vendor.mode == "sandbox":
        first = await ticketing(vendor).create_ticket(draft, idempotency_key="wb-7f3a9c")
        again = await ticketing(vendor).create_ticket(draft, idempotency_key="wb-7f3a9c")
        marked = [
            row for row in rows(vendor, "Tickets") if row["externalID"] == marker("wb-7f3a9c")
        ]
        assert first.id == again.id and len(marked) == 1
    else:
        again = await ticketing(vendor, "create_ticket_again").create_ticket(
            draft, idempotency_key="wb-7f3a9c"
        )
        assert again.id == "9001"
        assert "POST /atservicesrest/v1.0/Tickets" not in paths(vendor)


async def test_updating_a_ticket_patches_the_changed_fields_with_the_owners_role(
    vendor: ContractVendor,
) -> None:
    vendor.only("replay", "sandbox")
    ticket_id = str(rows(vendor, "Tickets")[0]["id"]) if vendor.mode == "sandbox" else "100"
    change = TicketChange(status_id="8", priority_id="1", owner_id="29682885")

    ticket = await ticketing(vendor, "update_ticket").update_ticket(
        ticket_id, change, idempotency_key="k"
    )

    assert ticket.id == ticket_id
    assert ticket.status == Named(id="8", name="In Progress")
    assert ticket.priority == Named(id="1", name="High")
    assert ticket.owner == Named(id="29682885", name="Sam Okafor")
    assert "PATCH /atservicesrest/v1.0/Tickets" in paths(vendor)
    if vendor.mode == "sandbox":
        row = vendor.state.table("Tickets").get(int(ticket_id))
        assert row is not None and (row["status"], row["assignedResourceRoleID"]) == (8, 8)


async def test_adding_a_note_posts_to_the_tickets_notes_once_per_idempotency_key(
    vendor: ContractVendor,
) -> None:
    vendor.only("replay", "sandbox")
    ticket_id = str(rows(vendor, "Tickets")[0]["id"]) if vendor.mode == "sandbox" else "100"
    text = "Thank you, we have received your request."

    note = await ticketing(vendor, "add_note").add_note(
        ticket_id, text, internal=False, idempotency_key="wb-note-1"
    )

    assert (note.ticket_id, note.text, note.internal) == (ticket_id, text, False)
    assert f"POST /atservicesrest/v1.0/Tickets/{ticket_id}/Notes" in paths(vendor)
    if vendor.mode == "sandbox":
        again = await ticketing(vendor).add_note(
            ticket_id, text, internal=False, idempotency_key="wb-note-1"
        )
        mine = [row for row in rows(vendor, "TicketNotes") if row["description"] == text]
        assert again.id == note.id and len(mine) == 1
        assert mine[0]["publish"] == 1 and mine[0]["title"].endswith(note_tag("wb-note-1"))
    else:
        assert note.id == "5501"


async def test_subscribing_registers_one_ticket_webhook_keyed_with_the_secret(
    vendor: ContractVendor,
) -> None:
    vendor.only("replay", "sandbox")
    recorded = recording("register_webhook")
    subscriptions = AutotaskWebhookSubscriptions(
        client(vendor, "register_webhook"), AutotaskSettings(), recorded["webhook_secret"]
    )

    webhook_id = await subscriptions.ensure_subscribed(recorded["receiver"])

    if vendor.mode != "sandbox":
        assert webhook_id == "42"
        return
    assert await subscriptions.ensure_subscribed(recorded["receiver"]) == webhook_id
    assert len(rows(vendor, "TicketWebhooks")) == 1
    # Four subscribed fields, four display fields and lastActivityDate, which it offers.
    assert len(rows(vendor, "TicketWebhookFields")) == 9
    assert vendor.state.webhook_secrets[int(webhook_id)] == recorded["webhook_secret"]


async def test_a_ticket_whose_creation_answer_was_lost_is_found_not_created_again(
    vendor: ContractVendor,
) -> None:
    vendor.only("sandbox")
    assert vendor.mode == "sandbox"
    faults = vendor.state.faults
    faults.lost_responses, faults.timeout_seconds, faults.path_contains = 1, 1.0, "/v1.0/Tickets"
    draft = TicketDraft(company_id=vendor.state.company_ids["EdisonMfg"], summary="Lost answer")
    async with httpx.AsyncClient(timeout=0.3) as impatient:
        account = AutotaskAccount(base_url=vendor.base_url, **vendor.credentials)
        ticketing = AutotaskTicketing(AutotaskClient(impatient, account), AutotaskSettings())
        with pytest.raises(VendorUnavailable):
            await ticketing.create_ticket(draft, idempotency_key="wb-lost")
        await asyncio.sleep(1.0)
        retried = await ticketing.create_ticket(draft, idempotency_key="wb-lost")

    marked = [row for row in rows(vendor, "Tickets") if row["externalID"] == marker("wb-lost")]
    assert [str(row["id"]) for row in marked] == [retried.id]
