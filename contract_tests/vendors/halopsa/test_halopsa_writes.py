"""HaloPSA write-backs: tickets created once however often retried, updates, notes, webhooks."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from contract_tests.harness import ContractVendor
from contract_tests.vendors.halopsa.conftest import WEBHOOK_SECRET, api_calls, ticketing
from vectis.adapters.vendors._entry import WebhookSubscriptions
from vectis.adapters.vendors._kit.markers import marker
from vectis.domain.errors import VendorNotFound
from vectis.domain.records import TicketChange, TicketDraft
from vectis_sandbox.halopsa_world import CLOSED_STATUS

PRINTER = TicketDraft(
    company_id="12",
    summary="Printer on the second floor shows offline",
    description="The HP printer upstairs shows offline for everyone.",
    board_id="26",
    priority_id="2",
)


async def test_creating_a_ticket_posts_an_array_marked_with_the_idempotency_key(
    vendor: ContractVendor,
) -> None:
    vendor.needs_facts()
    vendor.may_write()
    if vendor.mode == "replay":
        ticket = await ticketing(vendor, "token", "references", "create_ticket").create_ticket(
            PRINTER, idempotency_key="wb-1001"
        )
        assert (ticket.id, ticket.company_id) == ("9499", "12")
        assert ticket.summary == "Printer on the second floor shows offline"
        assert ticket.priority is not None and ticket.priority.name == "High"
        assert ticket.board is not None and ticket.board.name == "1st Line Support"
        assert ticket.updated_at == datetime(2024, 6, 20, 14, 45, 17, 152103, tzinfo=UTC)
        (looked_up,) = [call for call in api_calls(vendor) if call.startswith("GET /api/Tickets")]
        assert "client_id=12" in looked_up and "third_party_id_string" not in looked_up
        return
    company = vendor.state.company_ids["BaysideBistro"]
    draft = TicketDraft(company_id=company, summary="Card reader offline", priority_id="1")
    first = await ticketing(vendor).create_ticket(draft, idempotency_key="wb-77")
    other = await ticketing(vendor).create_ticket(draft, idempotency_key="wb-78")

    assert first.id != other.id
    assert vendor.state.tickets[int(first.id)]["third_party_id_string"] == marker("wb-77")
    assert first.priority is not None and first.priority.name == "Priority 1 - Critical"


async def test_a_retried_creation_returns_the_ticket_the_first_attempt_made(
    vendor: ContractVendor,
) -> None:
    """Halo documents no filter on ``third_party_id_string`` and the sandbox ignores it, as it
    ignores every filter Halo does not document: the retry still finds its ticket."""
    vendor.needs_facts()
    vendor.may_write()
    if vendor.mode == "replay":
        again = ticketing(vendor, "token", "references", "create_ticket_retried")
        ticket = await again.create_ticket(PRINTER, idempotency_key="wb-1001")
        assert ticket.id == "9499"
        assert not vendor.requests("POST", "/api/Tickets"), "no second ticket"
        return
    state = vendor.state
    company = state.company_ids["BaysideBistro"]
    draft = TicketDraft(company_id=company, summary="Card reader offline", priority_id="1")
    first = await ticketing(vendor).create_ticket(draft, idempotency_key="wb-77")
    for _ in range(3):  # busier since: newer tickets of the client, one with the same summary
        state.add_ticket(int(company), "Card reader offline")
    again = await ticketing(vendor).create_ticket(draft, idempotency_key="wb-77")

    assert again.id == first.id
    created = [t for t in state.tickets.values() if t["third_party_id_string"] == marker("wb-77")]
    assert len(created) == 1


async def test_updating_a_ticket_posts_its_id_with_the_changed_fields(
    vendor: ContractVendor,
) -> None:
    vendor.needs_facts()
    vendor.may_write()
    if vendor.mode == "replay":
        ticket = await ticketing(vendor, "token", "references", "update_ticket").update_ticket(
            "9499", TicketChange(status_id="9", owner_id="3"), idempotency_key="wb-1002"
        )
        assert ticket.closed and ticket.owner is not None and ticket.owner.name == "Admin"
        assert ticket.closed_at == datetime(2024, 6, 21, 8, 0, 3, 221000, tzinfo=UTC)
        return
    open_id = next(
        t["id"] for t in vendor.state.tickets.values() if t["status_id"] != CLOSED_STATUS
    )
    ticket = await ticketing(vendor).update_ticket(
        str(open_id), TicketChange(status_id="9", board_id="27"), idempotency_key="wb-5"
    )
    assert ticket.closed and ticket.board is not None and ticket.board.name == "Projects"
    assert vendor.state.tickets[open_id]["team"] == "Projects"


async def test_adding_a_note_posts_an_action_and_a_retry_finds_it(vendor: ContractVendor) -> None:
    vendor.needs_facts()
    vendor.may_write()
    text = "Escalated to the network team; waiting on the ISP."
    if vendor.mode == "replay":
        note = await ticketing(vendor, "token", "add_note").add_note(
            "9499", text, internal=True, idempotency_key="wb-1003"
        )
        assert (note.id, note.ticket_id, note.text) == ("9499-5", "9499", text)
        assert note.internal and note.author == "Halo API Test" and not note.from_customer
        return
    ticket_id = str(min(vendor.state.tickets))
    notes = ticketing(vendor)
    first = await notes.add_note(ticket_id, text, internal=True, idempotency_key="a")
    retry = await notes.add_note(ticket_id, text, internal=True, idempotency_key="a")
    public = await notes.add_note(ticket_id, text, internal=False, idempotency_key="b")

    assert first == retry and public.id != first.id and not public.internal
    posted = [a for a in vendor.state.actions[int(ticket_id)] if a["note"] == text]
    assert [a["outcome"] for a in posted] == ["Private Note", "Email User"]


async def test_a_note_on_a_missing_ticket_is_not_found(vendor: ContractVendor) -> None:
    vendor.only("sandbox")

    with pytest.raises(VendorNotFound):
        await ticketing(vendor).add_note("424242", "hello", internal=True, idempotency_key="x")


async def test_subscribing_registers_one_basic_auth_webhook(vendor: ContractVendor) -> None:
    vendor.needs_facts()
    vendor.may_write()
    receiver = "https://vectis.example/webhooks/halopsa/4f6c"
    credentials = {**vendor.credentials, "webhook_secret": WEBHOOK_SECRET}
    recordings = ("token", "register_webhook") if vendor.mode == "replay" else ()
    link = vendor.link(*recordings, credentials=credentials)
    subscriptions = vendor.entry.build(WebhookSubscriptions, link)
    first = await subscriptions.ensure_subscribed(receiver)

    if vendor.mode == "replay":
        assert first == "9a1b3c5d-7e9f-4a2b-8c4d-6e8f0a1b2c3d"
        return
    assert await subscriptions.ensure_subscribed(receiver) == first
    (webhook,) = vendor.state.webhooks.values()
    assert webhook["authentication_type"] == 1
    assert (webhook["basic_username"], webhook["basic_password"]) == ("vectis", WEBHOOK_SECRET)
