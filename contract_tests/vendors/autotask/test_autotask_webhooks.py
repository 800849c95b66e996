"""Autotask PSA webhook callouts: the signature, staleness, and the sandbox's deliveries."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import falcon
import falcon.asgi
import httpx
import pytest

from contract_tests.vendors.autotask.conftest import (
    read,
    recording,
    running,
)
from vectis.adapters.vendors.autotask.client import AutotaskClient
from vectis.adapters.vendors.autotask.settings import AutotaskAccount, AutotaskSettings
from vectis.adapters.vendors.autotask.sync import AutotaskSync
from vectis.adapters.vendors.autotask.ticketing import AutotaskTicketing
from vectis.adapters.vendors.autotask.webhooks import AutotaskWebhooks, AutotaskWebhookSubscriptions
from vectis.application.errors import WebhookRejected
from vectis.domain.changes import StoredTicket, ticket_events
from vectis.domain.events import EventKind
from vectis.domain.records import Ticket, TicketChange, TicketDraft
from vectis_sandbox import autotask as sandbox
from vectis_sandbox.server import serve_app
from vectis_sandbox.world import build_world


def signed(secret: str, body: bytes) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha1).digest()
    return {"x-hook-signature": "sha1=" + base64.b64encode(digest).decode()}


async def test_a_signed_ticket_callout_becomes_an_opened_event() -> None:
    recorded = recording("webhook_ticket_create")
    body = json.dumps(recorded["body"], indent=4).encode()
    arrived = datetime(2025, 9, 15, 14, 58, 20, tzinfo=UTC)

    (event,) = await AutotaskWebhooks(recorded["secret"]).parse(
        signed(recorded["secret"], body), body, arrived
    )

    assert event.kind == EventKind.TICKET_OPENED
    assert (event.subject.system, event.subject.type, event.subject.id) == (
        "autotask",
        "ticket",
        "351181",
    )
    assert event.title == "Ticket T20250915.0001 opened"
    assert event.occurred_at == datetime(2025, 9, 15, 14, 57, 50, tzinfo=UTC)
    assert event.external_id == "ticket.opened:351181", "keyed as the sync keys the opening"


async def test_a_callout_signed_over_its_compact_form_is_accepted() -> None:
    recorded = recording("webhook_ticket_create")
    sent = json.dumps(recorded["body"], indent=2).encode()
    compact = json.dumps(recorded["body"], separators=(",", ":")).encode()
    arrived = datetime(2025, 9, 15, 14, 58, tzinfo=UTC)

    events = await AutotaskWebhooks(recorded["secret"]).parse(
        signed(recorded["secret"], compact), sent, arrived
    )

    assert [event.kind for event in events] == [EventKind.TICKET_OPENED]


@pytest.mark.parametrize(
    ("headers", "body", "arrived", "reason", "malformed"),
    [
        ({}, None, 60, "no x-hook-signature", False),
        ({"x-hook-signature": "sha1=Zm9yZ2Vk"}, None, 60, "does not match", False),
        ("other-secret", None, 60, "does not match", False),
        ("secret", None, 3600, "stale", False),
        ("secret", None, -3600, "future", False),
        ("secret", b'{"Action": "Create", "Id": 1', 60, "not JSON", True),
        ("secret", b'{"Action": "Create", "EntityType": "Ticket"}', 60, "not an Autotask", True),
    ],
)
async def test_forged_stale_and_malformed_callouts_are_rejected(
    headers: Any, body: bytes | None, arrived: int, reason: str, malformed: bool
) -> None:
    recorded = recording("webhook_ticket_create")
    body = body or json.dumps(recorded["body"]).encode()
    if headers == "secret":
        headers = signed(recorded["secret"], body)
    elif headers == "other-secret":
        headers = signed("another-integrations-secret", body)
    received = datetime(2025, 9, 15, 14, 57, 50, tzinfo=UTC) + timedelta(seconds=arrived)

    with pytest.raises(WebhookRejected, match=reason) as rejected:
        await AutotaskWebhooks(recorded["secret"]).parse(headers, body, received)

    assert rejected.value.malformed is malformed


@pytest.mark.parametrize(
    ("event_time", "reason", "malformed"),
    [
        ("2025-09-15T15:04:00Z", "in the future", False),  # 6 minutes ahead: past clock drift
        ("2025-10-15T14:57:50Z", "in the future", False),  # a month ahead
        ("99999-01-01T00:00:00Z", "not an Autotask", True),
        ("-0001-01-01T00:00:00Z", "not an Autotask", True),
        (1e30, "not an Autotask", True),
        ("soon", "not an Autotask", True),
    ],
)
async def test_a_callout_dated_ahead_or_out_of_range_is_rejected(
    event_time: Any, reason: str, malformed: bool
) -> None:
    recorded = recording("webhook_ticket_create")
    body = json.dumps({**recorded["body"], "EventTime": event_time}).encode()
    arrived = datetime(2025, 9, 15, 14, 58, tzinfo=UTC)

    with pytest.raises(WebhookRejected, match=reason) as rejected:
        await AutotaskWebhooks(recorded["secret"]).parse(
            signed(recorded["secret"], body), body, arrived
        )

    assert rejected.value.malformed is malformed


async def test_a_callout_two_minutes_ahead_of_our_clock_is_accepted() -> None:
    recorded = recording("webhook_ticket_create")
    body = json.dumps(recorded["body"]).encode()
    arrived = datetime(2025, 9, 15, 14, 55, 50, tzinfo=UTC)

    events = await AutotaskWebhooks(recorded["secret"]).parse(
        signed(recorded["secret"], body), body, arrived
    )

    assert [event.kind for event in events] == [EventKind.TICKET_OPENED]


@pytest.mark.parametrize(
    "body",
    [
        b"\xff\xfe{}",
        b"[" * 100_000 + b"]" * 100_000,
        b'{"Action": "Create", "Id": NaN}',
        b"[]",
        b"null",
        b'{"Action": "Create", "EntityType": "Ticket", "Id": [1], "EventTime": "x"}',
    ],
)
async def test_a_signed_callout_that_cannot_be_read_is_malformed(body: bytes) -> None:
    secret = "s"

    with pytest.raises(WebhookRejected) as rejected:
        await AutotaskWebhooks(secret).parse(signed(secret, body), body, datetime.now(UTC))

    assert rejected.value.malformed


async def test_a_signature_with_characters_no_base64_has_simply_does_not_match() -> None:
    recorded = recording("webhook_ticket_create")
    body = json.dumps(recorded["body"]).encode()

    with pytest.raises(WebhookRejected, match="does not match") as rejected:
        await AutotaskWebhooks(recorded["secret"]).parse(
            {"x-hook-signature": "sha1=é"}, body, datetime(2025, 9, 15, 14, 58, tzinfo=UTC)
        )

    assert not rejected.value.malformed


async def test_a_completed_ticket_update_becomes_a_closed_event() -> None:
    secret = "s"
    body = json.dumps(
        {
            "Action": "Update",
            "Guid": "5b0f6c4e-0000-4000-8000-000000000001",
            "EntityType": "Ticket",
            "Id": 100,
            "Fields": {"Status": 5, "CompanyID": 174, "Title": "Monthy Services Checkup*"},
            "EventTime": "2019-09-24T09:30:00Z",
            "SequenceNumber": 7,
            "PersonID": 29682885,
        }
    ).encode()

    (event,) = await AutotaskWebhooks(secret).parse(
        signed(secret, body), body, datetime(2019, 9, 24, 9, 30, 5, tzinfo=UTC)
    )

    assert (event.kind, event.company_ref, event.detail) == (
        EventKind.TICKET_CLOSED,
        "174",
        "Monthy Services Checkup*",
    )


async def test_the_sandbox_pushes_signed_callouts_the_connector_accepts() -> None:
    delivered: list[tuple[dict[str, str], bytes]] = []

    class Receiver:
        async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
            delivered.append(
                ({k.lower(): v for k, v in req.headers.items()}, await req.stream.read())
            )

    receiver_app = falcon.asgi.App()
    receiver_app.add_route("/webhooks/autotask", Receiver())
    secret = "whsec-" + "x" * 70  # longer than Autotask's 64: both sides cut it the same way
    async with (
        serve_app(receiver_app) as receiver_url,
        running(sandbox.seeded(build_world())) as state,
        httpx.AsyncClient() as http,
    ):
        account = AutotaskAccount(base_url=state.base_url, **state.credentials)
        client = AutotaskClient(http, account)
        await AutotaskWebhookSubscriptions(client, AutotaskSettings(), secret).ensure_subscribed(
            f"{receiver_url}/webhooks/autotask"
        )
        draft = TicketDraft(
            company_id=state.company_ids["DrexelDental"], summary="Teams calls have no audio"
        )
        created = await AutotaskTicketing(client, AutotaskSettings()).create_ticket(
            draft, idempotency_key="e2e"
        )
        sandbox.simulate_activity(state, random.Random(3))
        await asyncio.gather(*state.deliveries)

    parser = AutotaskWebhooks(secret)
    events = [
        event
        for headers, body in delivered
        for event in await parser.parse(headers, body, datetime.now(UTC))
    ]
    (opened,) = [event for event in events if event.subject.id == created.id]
    assert opened.kind == EventKind.TICKET_OPENED
    assert opened.company_ref == state.company_ids["DrexelDental"]
    assert opened.title.endswith(" opened") and opened.detail == "Teams calls have no audio"


@pytest.mark.parametrize(
    ("status", "kind"),
    [("5", EventKind.TICKET_CLOSED), ("8", EventKind.TICKET_UPDATED)],
    ids=["closure", "move"],
)
async def test_a_change_pushed_then_synced_has_the_key_the_sync_gives_it(
    status: str, kind: str
) -> None:
    delivered: list[tuple[dict[str, str], bytes]] = []

    class Receiver:
        async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
            delivered.append(
                ({k.lower(): v for k, v in req.headers.items()}, await req.stream.read())
            )

    receiver_app = falcon.asgi.App()
    receiver_app.add_route("/webhooks/autotask", Receiver())
    secret = "whsec-closure"
    async with (
        serve_app(receiver_app) as receiver_url,
        running(sandbox.seeded(build_world())) as state,
        httpx.AsyncClient() as http,
    ):
        client = AutotaskClient(http, AutotaskAccount(base_url=state.base_url, **state.credentials))
        settings = AutotaskSettings()
        await AutotaskWebhookSubscriptions(client, settings, secret).ensure_subscribed(
            f"{receiver_url}/webhooks/autotask"
        )
        draft = TicketDraft(company_id=state.company_ids["DrexelDental"], summary="VPN drops")
        created = await AutotaskTicketing(client, settings).create_ticket(
            draft, idempotency_key="closure"
        )
        await AutotaskTicketing(client, settings).update_ticket(
            created.id, TicketChange(status_id=status), idempotency_key="closure-close"
        )
        await asyncio.gather(*state.deliveries)
        synced = [
            record
            for batch in await read(AutotaskSync(client, settings), "tickets")
            for record in batch.records
            if isinstance(record, Ticket) and record.id == created.id
        ]

    parser = AutotaskWebhooks(secret)
    pushed = [
        event
        for headers, body in delivered
        for event in await parser.parse(headers, body, datetime.now(UTC))
        if event.kind == kind
    ]
    (ticket,) = synced
    before = StoredTicket(
        closed=False,
        status="New",
        summary=ticket.summary,
        number=ticket.number,
        company_id=ticket.company_id,
        opened_at=ticket.opened_at,
    )
    changed = [e for e in ticket_events("autotask", ticket, before) if e.kind == kind]
    assert len(pushed) == len(changed) == 1
    assert pushed[0].external_id == changed[0].external_id
