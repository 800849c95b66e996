"""ConnectWise Manage write-backs: tickets created, patched and noted, callbacks registered.

Same three modes as test_connectwise.py; live, only with CONNECTWISE_LIVE_WRITES=1 (conftest.py).
"""

from __future__ import annotations

import base64
import json
import os
import uuid

import pytest

from contract_tests.harness import ContractVendor
from contract_tests.vendors.connectwise.conftest import WRITES, expected, sync
from contract_tests.vendors.connectwise.expected import Writes
from vectis.adapters.vendors._kit.markers import marker
from vectis.application.ports import WebhookSubscriptions
from vectis.domain.errors import VendorNotFound, VendorRejected
from vectis.domain.records import Named, Reference, ReferenceKind, TicketChange, TicketDraft
from vectis.domain.ticketing import Ticketing

SUMMARY = "Disk C: almost full on ALD-SRV-01"
DESCRIPTION = "NinjaOne: Disk C: free space below 5% on ALD-SRV-01"
REPLY = "Thank you, we have received your request."


async def targets(vendor: ContractVendor) -> Writes:
    """Where to write: the expectations' targets, or a scratch ticket on a live tenant."""
    vendor.may_write()
    want = expected(vendor)
    if want:
        return want.writes
    company, board = (
        os.environ.get("CONNECTWISE_LIVE_COMPANY"),
        os.environ.get("CONNECTWISE_LIVE_BOARD"),
    )
    if not company or not board:
        pytest.skip("live writes need CONNECTWISE_LIVE_COMPANY and CONNECTWISE_LIVE_BOARD")
    references = [
        r
        async for batch in sync(vendor).read("references", None)
        for r in batch.records
        if isinstance(r, Reference)
    ]
    closed = next(r for r in references if r.kind == ReferenceKind.STATUS and r.closed)
    owner = next(r for r in references if r.kind == ReferenceKind.MEMBER)
    scratch = await ticketing(vendor).create_ticket(
        TicketDraft(company_id=company, summary="Vectis contract test", board_id=board),
        idempotency_key=f"contract-{uuid.uuid4().hex[:12]}",
    )
    return Writes(
        company_id=company,
        board_id=board,
        priority_id=scratch.priority.id if scratch.priority else "",
        ticket_id=scratch.id,
        closed_status=Named(id=closed.id, name=closed.name.split(" / ")[-1]),
        owner=Named(id=owner.id, name=owner.name),
    )


def ticketing(vendor: ContractVendor, **settings: object) -> Ticketing:
    return vendor.port(Ticketing, *WRITES, **settings)


async def test_creating_twice_with_one_key_creates_one_ticket(vendor: ContractVendor) -> None:
    writes = await targets(vendor)
    key = "wb-7f3a9c" if vendor.mode == "replay" else f"wb-{uuid.uuid4().hex[:12]}"
    draft = TicketDraft(
        company_id=writes.company_id,
        summary=SUMMARY,
        description=DESCRIPTION,
        board_id=writes.board_id,
        priority_id=writes.priority_id,
    )
    vendor.sent.clear()

    tickets = ticketing(vendor)
    first = await tickets.create_ticket(draft, idempotency_key=key)
    again = await tickets.create_ticket(draft, idempotency_key=key)

    assert again == first
    assert (first.summary, first.company_id, first.closed) == (SUMMARY, writes.company_id, False)
    assert first.board and first.board.id == writes.board_id
    assert first.priority and first.priority.id == writes.priority_id
    posts = [r for r in vendor.requests("POST") if r.url.path.endswith("/service/tickets")]
    assert len(posts) == 1, "the retry found the first ticket by its externalXRef"
    assert json.loads(posts[0].content) == {
        "summary": SUMMARY,
        "board": {"id": int(writes.board_id)},
        "company": {"id": int(writes.company_id)},
        "externalXRef": marker(key),
        "priority": {"id": int(writes.priority_id)},
        "initialDescription": DESCRIPTION,
    }
    lookups = vendor.requests("GET", "/service/tickets")
    assert [r.url.params["conditions"] for r in lookups] == [f'externalXRef="{marker(key)}"'] * 2
    if vendor.mode == "sandbox":
        created = [t for t in vendor.state.tickets.values() if t.get("externalXRef") == marker(key)]
        assert len(created) == 1
        assert [n["text"] for n in vendor.state.notes[created[0]["id"]]] == [DESCRIPTION]


async def test_a_ticket_without_a_board_needs_the_default_board_setting(
    vendor: ContractVendor,
) -> None:
    writes = await targets(vendor)
    draft = TicketDraft(company_id=writes.company_id, summary=SUMMARY)
    vendor.sent.clear()

    with pytest.raises(VendorRejected, match="default_board_id"):
        await ticketing(vendor).create_ticket(draft, idempotency_key=f"k-{uuid.uuid4().hex}")

    assert vendor.sent == []


async def test_updating_sends_replace_operations_and_maps_the_closed_ticket(
    vendor: ContractVendor,
) -> None:
    writes = await targets(vendor)
    vendor.sent.clear()

    ticket = await ticketing(vendor).update_ticket(
        writes.ticket_id,
        TicketChange(status_id=writes.closed_status.id, owner_id=writes.owner.id),
        idempotency_key="wb-update",
    )

    assert (ticket.id, ticket.status, ticket.owner) == (
        writes.ticket_id,
        writes.closed_status,
        writes.owner,
    )
    assert ticket.closed and ticket.closed_at is not None
    (patch,) = vendor.requests("PATCH")
    assert patch.url.path.endswith(f"/service/tickets/{writes.ticket_id}")
    assert json.loads(patch.content) == [
        {"op": "replace", "path": "status", "value": {"id": int(writes.closed_status.id)}},
        {"op": "replace", "path": "owner", "value": {"id": int(writes.owner.id)}},
    ]


async def test_a_note_is_posted_as_the_documented_request_and_mapped(
    vendor: ContractVendor,
) -> None:
    writes = await targets(vendor)
    vendor.sent.clear()

    note = await ticketing(vendor).add_note(
        writes.ticket_id, REPLY, internal=False, idempotency_key="wb-note"
    )

    assert (note.text, note.internal, note.from_customer) == (REPLY, False, False)
    assert note.ticket_id == writes.ticket_id and note.id.isdigit()
    (post,) = vendor.requests("POST")
    assert post.url.path.endswith(f"/service/tickets/{writes.ticket_id}/notes")
    assert json.loads(post.content) == {
        "text": REPLY,
        "detailDescriptionFlag": True,
        "internalAnalysisFlag": False,
        "resolutionFlag": False,
    }
    user = base64.b64decode(post.headers["Authorization"].removeprefix("Basic ")).decode()
    account = vendor.credentials
    assert user.startswith(f"{account['company_id']}+{account['public_key']}:")
    assert post.headers["clientId"] == account["client_id"]


async def test_a_retried_note_is_found_instead_of_added_twice(vendor: ContractVendor) -> None:
    writes = await targets(vendor)
    vendor.sent.clear()

    notes = ticketing(vendor)
    first = await notes.add_note(writes.ticket_id, REPLY, internal=False, idempotency_key="wb-note")
    again = await notes.add_note(writes.ticket_id, REPLY, internal=False, idempotency_key="wb-note")

    assert again == first
    assert len(vendor.requests("POST")) == 1
    lookups = vendor.requests("GET", "/notes")
    assert [r.url.params["orderBy"] for r in lookups] == ["id desc", "id desc"]
    if vendor.mode == "sandbox":
        texts = [n["text"] for n in vendor.state.notes[int(writes.ticket_id)]]
        assert texts.count(REPLY) == 1


async def test_an_internal_note_is_internal_analysis(vendor: ContractVendor) -> None:
    writes = await targets(vendor)
    if vendor.mode == "replay":
        pytest.skip("recorded as a customer-facing reply")
    vendor.sent.clear()

    note = await ticketing(vendor).add_note(
        writes.ticket_id, "Escalated to the network team.", internal=True, idempotency_key="k"
    )

    assert note.internal is True
    body = json.loads(vendor.requests("POST")[0].content)
    assert (body["internalAnalysisFlag"], body["detailDescriptionFlag"]) == (True, False)


async def test_a_note_on_a_missing_ticket_is_not_found(vendor: ContractVendor) -> None:
    vendor.may_write()
    with pytest.raises(VendorNotFound, match="not found"):
        await ticketing(vendor).add_note("99999999", "hello", internal=True, idempotency_key="k")


async def test_subscribing_registers_one_owner_level_ticket_callback(
    vendor: ContractVendor,
) -> None:
    vendor.may_write()
    subscriptions = vendor.port(WebhookSubscriptions, "register_callback")
    receiver = "https://vectis.example/webhooks/4f6c"

    first = await subscriptions.ensure_subscribed(receiver)

    assert first.isdigit()
    if vendor.mode == "sandbox":
        assert await subscriptions.ensure_subscribed(receiver) == first, "registering twice is one"
        (callback,) = vendor.state.callbacks.values()
        assert (callback["type"], callback["level"], callback["isSelfSuppressedFlag"]) == (
            "ticket",
            "owner",
            True,
        )
