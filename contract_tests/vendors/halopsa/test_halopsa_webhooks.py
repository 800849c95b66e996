"""HaloPSA webhooks: Basic-authenticated deliveries read as ticket events, and the sandbox
pushing them as Halo would."""

from __future__ import annotations

import asyncio
import base64
import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import falcon
import falcon.asgi
import pytest

from contract_tests.harness import ContractVendor
from contract_tests.vendors.halopsa.conftest import (
    CLOUD,
    RECORDED_AT,
    SPEC,
    WEBHOOK_SECRET,
    read_all,
    records,
    sync,
    ticketing,
)
from vectis.adapters.vendors._entry import WebhookSubscriptions
from vectis.adapters.vendors.halopsa.settings import HaloSettings
from vectis.adapters.vendors.halopsa.webhooks import HaloWebhooks
from vectis.application.errors import WebhookRejected
from vectis.domain.events import EventKind
from vectis.domain.records import TicketDraft
from vectis_sandbox import halopsa as sandbox
from vectis_sandbox.server import serve_app
from vectis_sandbox.world import build_world

SECRET = WEBHOOK_SECRET
RECEIVED = RECORDED_AT


def recorded(name: str) -> list[dict[str, Any]]:
    loaded = json.loads((SPEC.recordings / f"{name}.json").read_text())
    return list(loaded["interactions"]) if "interactions" in loaded else [loaded]


def parser(max_age_hours: float = 24.0) -> HaloWebhooks:
    settings = HaloSettings(webhook_max_age_hours=max_age_hours)
    return HaloWebhooks(secret=SECRET, base_url=CLOUD, settings=settings)


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def delivery() -> tuple[dict[str, str], bytes]:
    (recording,) = recorded("webhook_ticket_updated")
    headers = {**recording["headers"], "Authorization": basic("vectis", SECRET)}
    return headers, json.dumps(recording["body"]).encode()


async def test_an_authenticated_delivery_becomes_a_ticket_event() -> None:
    headers, body = delivery()

    (event,) = await parser().parse(headers, body, RECEIVED)

    assert event.kind == EventKind.TICKET_CLOSED
    assert (event.subject.system, event.subject.type, event.subject.id) == (
        "halopsa",
        "ticket",
        "9500",
    )
    assert event.company_ref == "12"
    assert event.title == "Ticket #9500 closed"
    assert event.occurred_at == datetime(2024, 6, 21, 9, 12, 44, 517000, tzinfo=UTC)
    assert event.external_id == "ticket.closed:9500:2024-06-21T09:12:44.517000+00:00"


@pytest.mark.parametrize(
    "authorization",
    [None, basic("vectis", "guess"), basic("someone", SECRET), "Bearer " + SECRET, "Basic !!"],
)
async def test_a_delivery_without_the_registered_credentials_is_rejected(
    authorization: str | None,
) -> None:
    headers, body = delivery()
    headers.pop("Authorization")
    if authorization is not None:
        headers["authorization"] = authorization

    with pytest.raises(WebhookRejected) as rejected:
        await parser().parse(headers, body, RECEIVED)
    assert not rejected.value.malformed


async def test_a_delivery_that_is_not_json_is_rejected_as_malformed() -> None:
    headers, _ = delivery()

    with pytest.raises(WebhookRejected) as rejected:
        await parser().parse(headers, b'{"ticket": {"id": 95', RECEIVED)
    assert rejected.value.malformed


async def test_a_replayed_old_delivery_is_rejected_as_stale() -> None:
    headers, body = delivery()

    with pytest.raises(WebhookRejected, match="stale"):
        await parser(max_age_hours=1).parse(headers, body, RECEIVED + timedelta(hours=2))


@pytest.mark.parametrize("ahead", [timedelta(minutes=6), timedelta(days=30)])
async def test_a_delivery_dated_ahead_of_our_clock_is_rejected(ahead: timedelta) -> None:
    headers, body = delivery()

    with pytest.raises(WebhookRejected, match="in the future") as rejected:
        await parser().parse(headers, body, RECEIVED - ahead)
    assert not rejected.value.malformed
    events = await parser().parse(headers, body, RECEIVED - timedelta(minutes=2))
    assert len(events) == 1, "a little clock drift is not the future"


@pytest.mark.parametrize(
    ("where", "value"),
    [
        ("timestamp", "99999-01-01T00:00:00Z"),
        ("timestamp", "-0001-01-01T00:00:00Z"),
        ("timestamp", "yesterday"),
        ("lastupdate", "2024-13-45T09:12:44Z"),
    ],
)
async def test_a_delivery_whose_time_is_no_time_is_rejected_as_malformed(
    where: str, value: str
) -> None:
    (recording,) = recorded("webhook_ticket_updated")
    document = json.loads(json.dumps(recording["body"]))
    (document if where == "timestamp" else document["ticket"])[where] = value
    headers, _ = delivery()

    with pytest.raises(WebhookRejected) as rejected:
        await parser().parse(headers, json.dumps(document).encode(), RECEIVED)
    assert rejected.value.malformed


@pytest.mark.parametrize(
    "body",
    [
        b"\xff\xfe\x00",
        b"[" * 100_000 + b"]" * 100_000,
        b'{"ticket_id": NaN}',
        b'{"ticket_id": "9500; DROP TABLE tickets"}',
        b'{"ticket_id": 1e30}',
        b'{"ticket": {"id": "nine", "summary": 5}}',
        b"[]",
        b'"ticket"',
    ],
)
async def test_an_authenticated_delivery_that_cannot_be_read_is_malformed(body: bytes) -> None:
    headers, _ = delivery()

    with pytest.raises(WebhookRejected) as rejected:
        await parser().parse(headers, body, RECEIVED)
    assert rejected.value.malformed


async def test_a_delivery_naming_only_a_ticket_id_asks_for_a_refetch() -> None:
    headers, _ = delivery()
    body = json.dumps({"ticket_id": 9499, "event": "Ticket Updated"}).encode()

    (event,) = await parser().parse(headers, body, RECEIVED)

    assert (event.kind, event.subject.id, event.occurred_at) == (
        EventKind.TICKET_UPDATED,
        "9499",
        RECEIVED,
    )
    assert event.payload == {"refetch": True}


async def test_the_sandbox_authenticates_deliveries_the_way_the_parser_checks_them() -> None:
    state = sandbox.seeded(build_world())
    state.base_url = CLOUD
    webhook = {
        "id": "w1",
        "url": "http://127.0.0.1:9/unused",
        "authentication_type": 1,
        "basic_username": "vectis",
        "basic_password": SECRET,
    }
    ticket = state.tickets[min(state.tickets)]
    body, headers = sandbox.webhook_delivery(webhook, "Ticket Updated", ticket)

    (event,) = await parser().parse(headers, body, datetime.now(UTC))

    assert event.subject.id == str(ticket["id"])
    assert event.company_ref == str(ticket["client_id"])


async def test_a_batched_delivery_yields_an_event_per_payload() -> None:
    headers, body = delivery()
    single = json.loads(body)
    batch = json.dumps([single, {"ticket_id": 9499}]).encode()

    events = await parser().parse(headers, batch, RECEIVED)

    assert [event.subject.id for event in events] == ["9500", "9499"]


# --- the sandbox as the demo uses it -----------------------------------------------------------


class Receiver:
    """A loopback endpoint that keeps what the sandbox's webhooks post to it."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        self.received.append((dict(req.headers), await req.stream.read()))


async def test_the_sandbox_pushes_ticket_changes_to_the_registered_webhook(
    vendor: ContractVendor,
) -> None:
    vendor.only("sandbox")
    receiver = Receiver()
    app = falcon.asgi.App()
    app.add_route("/hook", receiver)
    state = vendor.state
    async with serve_app(app) as hook_url:
        link = vendor.link(credentials={**vendor.credentials, "webhook_secret": SECRET})
        await vendor.entry.build(WebhookSubscriptions, link).ensure_subscribed(f"{hook_url}/hook")
        ticket = await ticketing(vendor).create_ticket(
            TicketDraft(company_id=state.company_ids["EdisonMfg"], summary="Press line PC down"),
            idempotency_key="wb-e2e",
        )
        for _ in range(200):
            if receiver.received:
                break
            await asyncio.sleep(0.02)

    ((headers, body),) = receiver.received
    (event,) = await parser().parse(headers, body, datetime.now(UTC))
    assert (event.kind, event.subject.id) == (EventKind.TICKET_OPENED, ticket.id)
    assert event.company_ref == state.company_ids["EdisonMfg"]


async def test_simulated_activity_reaches_an_incremental_sync(vendor: ContractVendor) -> None:
    vendor.only("sandbox")
    state = vendor.state
    cursor = (await read_all(sync(vendor), "tickets"))[-1].cursor
    notes_cursor = (await read_all(sync(vendor), "notes"))[-1].cursor
    before = {key: ticket["last_update"] for key, ticket in state.tickets.items()}
    rng = random.Random(3)
    for _ in range(4):
        sandbox.simulate_activity(state, rng)
    touched = {
        str(key)
        for key, ticket in state.tickets.items()
        if before.get(key) != ticket["last_update"]
    }

    changed = records(await read_all(sync(vendor), "tickets", cursor))
    notes = records(await read_all(sync(vendor), "notes", notes_cursor))

    assert touched and touched <= {ticket.id for ticket in changed}
    replied = {note.ticket_id for note in notes if note.from_customer and note.ticket_id in touched}
    assert replied, "customers' replies arrive as notes"
