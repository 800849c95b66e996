"""ConnectWise callbacks: signed with the key behind ``Metadata.key_url``, parsed into events.

ConnectWise signs the body (``x-content-signature``: base64 HMAC-SHA256 keyed by the SHA-256
of the callback's signing key) but puts no timestamp in it, so a replayed delivery cannot be
told by age: Vectis drops it by its ``MessageId`` in the inbox instead.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from contract_tests.harness import ContractVendor
from contract_tests.vendors.connectwise.conftest import REPLAY_ACCOUNT, recording, sync
from vectis.adapters.vendors.connectwise import mapping
from vectis.adapters.vendors.connectwise.webhooks import ConnectWiseWebhooks
from vectis.application.errors import WebhookRejected
from vectis.application.ports import WebhookParser, WebhookSubscriptions
from vectis.domain.events import EventKind
from vectis.domain.records import Ticket, TicketNote
from vectis_sandbox.connectwise import callback_body, sign, simulate_activity


def signed(recorded: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(recorded["body"]).encode()
    key = hashlib.sha256(recorded["signing_key"].encode()).digest()
    signature = base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode()
    return body, {"x-content-signature": signature}


def key_server(signing_key: str | None, fetched: list[httpx.Request]) -> httpx.AsyncClient:
    def answer(request: httpx.Request) -> httpx.Response:
        fetched.append(request)
        if signing_key is None:
            return httpx.Response(404, json={"code": "NotFound", "message": "No such key"})
        return httpx.Response(200, json={"signing_key": signing_key})

    return httpx.AsyncClient(transport=httpx.MockTransport(answer))


async def test_a_signed_ticket_callback_becomes_an_opened_event() -> None:
    recorded = recording("callback_ticket_added")
    body, headers = signed(recorded)
    fetched: list[httpx.Request] = []

    async with key_server(recorded["signing_key"], fetched) as http:
        (event,) = await ConnectWiseWebhooks(http, REPLAY_ACCOUNT, {}).parse(
            headers, body, datetime.now(UTC)
        )

    assert fetched[0].url.host == "api-na.myconnectwise.net"
    assert fetched[0].headers["clientId"] == REPLAY_ACCOUNT.client_id
    assert event.kind == EventKind.TICKET_OPENED
    # Keyed as the sync keys the same change, so the sync after it adds no second event.
    assert event.external_id == "ticket.opened:945366"
    assert (event.subject.system, event.subject.type, event.subject.id) == (
        "connectwise",
        "ticket",
        "945366",
    )
    assert event.company_ref == "19298"
    assert event.title == "Ticket #945366 opened"
    assert event.detail == "Printer on the second floor shows offline · Priority 3 - Normal"
    assert event.occurred_at == datetime(2026, 11, 27, 8, 34, 11, tzinfo=UTC), "dateEntered"


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        ("body", "signature does not match"),
        ("signature", "signature does not match"),
        ("no_signature", "no x-content-signature"),
        ("key_gone", "could not fetch"),
    ],
)
async def test_a_forged_or_orphaned_callback_is_rejected(tamper: str, reason: str) -> None:
    recorded = recording("callback_ticket_added")
    body, headers = signed(recorded)
    signing_key: str | None = recorded["signing_key"]
    if tamper == "body":
        body = body.replace(b"Printer", b"Scanner")
    elif tamper == "signature":
        headers["x-content-signature"] = base64.b64encode(b"x" * 32).decode()
    elif tamper == "no_signature":
        del headers["x-content-signature"]
    else:
        signing_key = None  # the callback was deleted: its key URL answers 404

    async with key_server(signing_key, []) as http:
        with pytest.raises(WebhookRejected, match=reason) as refused:
            await ConnectWiseWebhooks(http, REPLAY_ACCOUNT, {}).parse(
                headers, body, datetime.now(UTC)
            )

    assert not refused.value.malformed


@pytest.mark.parametrize("body", [b"<xml/>", b'{"MessageId": "m", "Type": "ticket"}'])
async def test_a_body_that_is_not_a_callback_is_malformed(body: bytes) -> None:
    async with key_server("unused", []) as http:
        with pytest.raises(WebhookRejected) as refused:
            await ConnectWiseWebhooks(http, REPLAY_ACCOUNT, {}).parse(
                {"x-content-signature": "x"}, body, datetime.now(UTC)
            )

    assert refused.value.malformed


@pytest.mark.parametrize(
    "body",
    [
        b"\xff\xfe\x00",
        b"[" * 100_000 + b"]" * 100_000,
        b"1",
        b"null",
        b'{"MessageId": NaN}',
        b'{"MessageId": "m", "Action": "added", "Type": "ticket", "ID": "one", "Metadata": {}}',
        b'{"MessageId": "m", "Action": "added", "Type": "ticket", "ID": 1, "Metadata": []}',
    ],
)
async def test_a_body_that_cannot_be_read_is_malformed(body: bytes) -> None:
    async with key_server("unused", []) as http:
        with pytest.raises(WebhookRejected) as refused:
            await ConnectWiseWebhooks(http, REPLAY_ACCOUNT, {}).parse(
                {"x-content-signature": "x"}, body, datetime.now(UTC)
            )

    assert refused.value.malformed


@pytest.mark.parametrize(
    "change",
    [
        "1e30",
        "[]",
        {"_info": {"lastUpdated": "2026-11-27T08:34:12Z", "dateEntered": "99999-01-01T00:00:00Z"}},
        {"_info": {"lastUpdated": "2026-11-27T08:34:12Z", "dateEntered": "-0001-01-01T00:00:00Z"}},
        {"_info": {"lastUpdated": "2026-11-27T08:34:12Z", "dateEntered": "2026-02-30T08:34:11Z"}},
        {"company": "Aldridge"},
    ],
)
async def test_a_signed_callback_whose_ticket_cannot_be_read_is_malformed(
    change: str | dict[str, Any],
) -> None:
    recorded = recording("callback_ticket_added")
    entity = json.loads(recorded["body"]["Entity"])
    if isinstance(change, str):
        recorded["body"]["Entity"] = change
    else:
        recorded["body"]["Entity"] = json.dumps({**entity, **change})
    body, headers = signed(recorded)

    async with key_server(recorded["signing_key"], []) as http:
        with pytest.raises(WebhookRejected) as refused:
            await ConnectWiseWebhooks(http, REPLAY_ACCOUNT, {}).parse(
                headers, body, datetime.now(UTC)
            )

    assert refused.value.malformed


@pytest.mark.parametrize("signature", ["é" * 44, "\x00", "x" * 10_000])
async def test_a_signature_that_is_no_base64_simply_does_not_match(signature: str) -> None:
    recorded = recording("callback_ticket_added")
    body, _ = signed(recorded)

    async with key_server(recorded["signing_key"], []) as http:
        with pytest.raises(WebhookRejected, match="does not match") as refused:
            await ConnectWiseWebhooks(http, REPLAY_ACCOUNT, {}).parse(
                {"x-content-signature": signature}, body, datetime.now(UTC)
            )

    assert not refused.value.malformed


async def test_a_key_url_that_is_no_url_is_refused_without_a_fetch() -> None:
    recorded = recording("callback_ticket_added")
    recorded["body"]["Metadata"]["key_url"] = "https://[api-na.myconnectwise.net/key"
    body, headers = signed(recorded)
    fetched: list[httpx.Request] = []

    async with key_server(recorded["signing_key"], fetched) as http:
        with pytest.raises(WebhookRejected, match="key_url") as refused:
            await ConnectWiseWebhooks(http, REPLAY_ACCOUNT, {}).parse(
                headers, body, datetime.now(UTC)
            )

    assert not refused.value.malformed and fetched == []


async def test_a_key_url_off_the_pinned_hosts_is_never_fetched() -> None:
    recorded = recording("callback_ticket_added")
    recorded["body"]["Metadata"]["key_url"] = "https://169.254.169.254/latest/meta-data"
    body = json.dumps(recorded["body"]).encode()

    def must_not_call(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"fetched {request.url}")

    async with httpx.AsyncClient(transport=httpx.MockTransport(must_not_call)) as http:
        with pytest.raises(WebhookRejected, match="not a host of this integration"):
            await ConnectWiseWebhooks(http, REPLAY_ACCOUNT, {}).parse(
                {"x-content-signature": "x"}, body, datetime.now(UTC)
            )


@pytest.mark.parametrize(
    "key_url",
    [
        "https://api-na.myconnectwise.net\t.attacker.example/key",
        "https://api-na.myconnectwise.net\n/key",
        "https://api-na.myconnectwise.net\x1f/key",
        "https://api-na.myconnectwise.net\\@attacker.example/key",
        "https://me@api-na.myconnectwise.net/key",
        "https://api-na.myconnectwise.net:99999/key",
        "https://api-na.myconnectwise.net:8443/key",
        "https://api-na.myconnectwise.net./key",
        "http://api-na.myconnectwise.net/key",
        "https://myconnectwise.net.attacker.example/key",
        "https://attackermyconnectwise.net/key",
        "https://[::ffff:a9fe:a9fe]/key",
    ],
)
async def test_a_key_url_that_is_malformed_or_off_host_is_never_fetched(key_url: str) -> None:
    recorded = recording("callback_ticket_added")
    recorded["body"]["Metadata"]["key_url"] = key_url
    body = json.dumps(recorded["body"]).encode()
    fetched: list[httpx.Request] = []

    async with key_server(recorded["signing_key"], fetched) as http:
        with pytest.raises(WebhookRejected, match=r"malformed|not a host of this integration"):
            await ConnectWiseWebhooks(http, REPLAY_ACCOUNT, {}).parse(
                {"x-content-signature": "x"}, body, datetime.now(UTC)
            )

    assert fetched == []


async def test_a_bug_in_our_ticket_mapping_is_no_malformed_callback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    recorded = recording("callback_ticket_added")
    body, headers = signed(recorded)

    def broken(ticket: object, url: str = "") -> object:
        raise TypeError("a bug in Vectis, not in the delivery")

    monkeypatch.setattr(mapping, "ticket", broken)
    async with key_server(recorded["signing_key"], []) as http:
        with pytest.raises(TypeError, match="a bug in Vectis"):
            await ConnectWiseWebhooks(http, REPLAY_ACCOUNT, {}).parse(
                headers, body, datetime.now(UTC)
            )


async def test_the_sandbox_signs_callbacks_the_way_the_connector_verifies_them(
    vendor: ContractVendor,
) -> None:
    vendor.only("sandbox")
    state = vendor.state
    callback_id = await vendor.port(WebhookSubscriptions).ensure_subscribed(
        "http://127.0.0.1:9/unused"
    )
    callback = state.callbacks[int(callback_id)]
    ticket = next(iter(state.tickets.values()))
    body = callback_body(state, callback, "added", ticket)

    event, *_closed = await vendor.port(WebhookParser).parse(
        {"x-content-signature": sign(state, callback, body)}, body, datetime.now(UTC)
    )

    assert event.kind == EventKind.TICKET_OPENED
    assert event.company_ref == str(ticket["company"]["id"])


async def test_sandbox_activity_is_what_the_next_incremental_sync_reads(
    vendor: ContractVendor,
) -> None:
    vendor.only("sandbox")
    state = vendor.state
    cursor = None
    async for batch in sync(vendor).read("tickets", None):
        cursor = batch.cursor or cursor
    rng = random.Random(3)
    before = {ticket_id: len(notes) for ticket_id, notes in state.notes.items()}

    simulate_activity(state, rng)
    simulate_activity(state, rng)
    changed = [t for t, notes in state.notes.items() if len(notes) != before.get(t)]
    tickets = [r async for b in sync(vendor).read("tickets", cursor) for r in b.records]
    notes = [r async for b in sync(vendor).read("notes", cursor) for r in b.records]

    assert changed and {str(t) for t in changed} <= {t.id for t in tickets if isinstance(t, Ticket)}
    new_notes = {n.ticket_id for n in notes if isinstance(n, TicketNote) and n.from_customer}
    assert {str(t) for t in changed} <= new_notes
