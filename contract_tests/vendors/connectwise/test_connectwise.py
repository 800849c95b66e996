"""ConnectWise Manage: the connector against recorded interactions and against the sandbox."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from attrs import define

from vectis.adapters.vendors.connectwise.client import ConnectWiseAccount
from vectis.adapters.vendors.connectwise.gateway import (
    ConnectWiseCallbackSubscriptions,
    ConnectWiseTicketing,
)
from vectis.adapters.vendors.connectwise.webhooks import ConnectWiseCallbacks
from vectis.application.errors import WebhookRejected
from vectis.domain.errors import VendorNotFound
from vectis.domain.events import EventKind
from vectis_sandbox.connectwise import callback_body, sign
from vectis_sandbox.server import running_sandbox

RECORDINGS = Path(__file__).parent / "recordings"
CLOUD = "https://api-na.myconnectwise.net/v4_6_release"


def recording(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((RECORDINGS / f"{name}.json").read_text())
    return loaded


@define
class Vendor:
    """One way of reaching ConnectWise: recordings in-process, or the sandbox over HTTP."""

    http: httpx.AsyncClient
    account: ConnectWiseAccount
    ticket_id: str
    sent: list[httpx.Request]
    sandbox: Any = None


class Replay:
    """Serves recorded answers and checks each request against its recording."""

    def __init__(self, interactions: list[dict[str, Any]], ticket_id: str) -> None:
        self._interactions = interactions
        self._ticket_id = ticket_id
        self.sent: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        for interaction in self._interactions:
            expected = interaction["request"]
            if request.method != expected["method"]:
                continue
            if request.url.path != expected["path"].replace("{ticket_id}", self._ticket_id):
                continue
            for header in expected.get("headers", []):
                assert header in request.headers, f"{header} header missing"
            for name, value in expected.get("query", {}).items():
                assert request.url.params.get(name) == value
            if "json" in expected:
                assert json.loads(request.content) == expected["json"]
            answer = interaction["response"]
            return httpx.Response(answer["status"], json=answer["json"])
        raise AssertionError(f"no recording for {request.method} {request.url}")


def _account(base_url: str, credentials: dict[str, str] | None = None) -> ConnectWiseAccount:
    values = credentials or {
        "company_id": "harborpoint",
        "public_key": "pub",
        "private_key": "priv",
        "client_id": "0b6d7b8a-4a4e-4f1e-9f5a-7c1f0a1b2c3d",
    }
    return ConnectWiseAccount(base_url=base_url, **values)


@pytest.fixture(params=["replay", "sandbox"])
async def vendor(request: pytest.FixtureRequest) -> AsyncIterator[Vendor]:
    if request.param == "replay":
        interactions = [recording("add_note"), recording("add_note_ticket_missing")]
        for step in recording("register_callback")["requests"]:
            interactions.append({"request": step, "response": step["response"]})
        replay = Replay(interactions, ticket_id="945315")
        async with httpx.AsyncClient(transport=httpx.MockTransport(replay)) as http:
            yield Vendor(http=http, account=_account(CLOUD), ticket_id="945315", sent=replay.sent)
        return
    async with running_sandbox() as sandbox, httpx.AsyncClient() as http:
        state = sandbox.connectwise
        ticket = next(iter(state.tickets.values()))
        yield Vendor(
            http=http,
            account=_account(state.base_url, state.credentials),
            ticket_id=str(ticket["id"]),
            sent=[],
            sandbox=sandbox,
        )


async def test_adding_a_note_sends_the_documented_request_and_maps_the_answer(
    vendor: Vendor,
) -> None:
    text = recording("add_note")["request"]["json"]["text"]

    note = await ConnectWiseTicketing(vendor.http, vendor.account).add_note(
        vendor.ticket_id, text, internal=False, idempotency_key="k"
    )

    assert note.text == text and note.internal is False and note.id.isdigit()
    assert note.ticket_id == vendor.ticket_id
    if vendor.sent:
        sent = vendor.sent[0]
        user = base64.b64decode(sent.headers["Authorization"].removeprefix("Basic ")).decode()
        assert user == "harborpoint+pub:priv"
        assert sent.headers["clientId"] == vendor.account.client_id


async def test_a_missing_ticket_maps_to_not_found(vendor: Vendor) -> None:
    with pytest.raises(VendorNotFound, match="not found"):
        await ConnectWiseTicketing(vendor.http, vendor.account).add_note(
            "99999999", "hello", internal=True, idempotency_key="k"
        )


async def test_subscribing_registers_one_owner_level_ticket_callback(vendor: Vendor) -> None:
    subscriptions = ConnectWiseCallbackSubscriptions(vendor.http, vendor.account)
    receiver = "https://vectis.example/webhooks/4f6c"

    first = await subscriptions.ensure_subscribed(receiver)

    assert first.isdigit()
    if vendor.sandbox is not None:
        assert await subscriptions.ensure_subscribed(receiver) == first, (
            "registering twice is one callback"
        )
        assert len(vendor.sandbox.connectwise.callbacks) == 1


async def test_a_signed_ticket_callback_becomes_an_opened_event() -> None:
    recorded = recording("callback_ticket_added")
    body = json.dumps(recorded["body"]).encode()
    key = hashlib.sha256(recorded["signing_key"].encode()).digest()
    signature = base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode()
    fetched: list[httpx.Request] = []

    def key_server(request: httpx.Request) -> httpx.Response:
        fetched.append(request)
        return httpx.Response(200, json={"signing_key": recorded["signing_key"]})

    async with httpx.AsyncClient(transport=httpx.MockTransport(key_server)) as http:
        callbacks = ConnectWiseCallbacks(http, _account(CLOUD), {})
        (event,) = await callbacks.parse(
            {"x-content-signature": signature}, body, datetime.now(UTC)
        )
        with pytest.raises(WebhookRejected, match="signature"):
            await callbacks.parse(
                {"x-content-signature": signature}, body + b" ", datetime.now(UTC)
            )

    assert fetched[0].url.host == "api-na.myconnectwise.net"
    assert fetched[0].headers["clientId"] == _account(CLOUD).client_id
    assert event.kind == EventKind.TICKET_OPENED
    assert event.external_id == recorded["body"]["MessageId"]
    assert (event.subject.system, event.subject.type, event.subject.id) == (
        "connectwise",
        "ticket",
        "945366",
    )
    assert event.company_ref == "19298"
    assert event.title == "Ticket #945366 opened"
    assert event.detail == "Printer on the second floor shows offline · Service Desk"
    assert event.occurred_at == datetime(2026, 11, 27, 8, 34, 12, tzinfo=UTC)


async def test_a_key_url_off_the_pinned_hosts_is_never_fetched() -> None:
    recorded = recording("callback_ticket_added")
    recorded["body"]["Metadata"]["key_url"] = "https://169.254.169.254/latest/meta-data"
    body = json.dumps(recorded["body"]).encode()

    def must_not_call(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"fetched {request.url}")

    async with httpx.AsyncClient(transport=httpx.MockTransport(must_not_call)) as http:
        with pytest.raises(WebhookRejected, match="not a ConnectWise host"):
            await ConnectWiseCallbacks(http, _account(CLOUD), {}).parse(
                {"x-content-signature": "x"}, body, datetime.now(UTC)
            )


async def test_the_sandbox_signs_callbacks_the_way_the_connector_verifies_them() -> None:
    async with running_sandbox() as sandbox, httpx.AsyncClient() as http:
        state = sandbox.connectwise
        callback_id = await ConnectWiseCallbackSubscriptions(
            http, _account(state.base_url, state.credentials)
        ).ensure_subscribed("http://127.0.0.1:9/unused")
        callback = state.callbacks[int(callback_id)]
        ticket = next(iter(state.tickets.values()))
        body = callback_body(state, callback, "added", ticket)

        (event,) = await ConnectWiseCallbacks(
            http, _account(state.base_url, state.credentials), {}
        ).parse({"x-content-signature": sign(state, callback, body)}, body, datetime.now(UTC))

    assert event.kind == EventKind.TICKET_OPENED
    assert event.company_ref == str(ticket["company"]["id"])
