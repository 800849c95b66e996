"""Autotask held to its documentation: one key per closure, the tenant's webhook field ids,
a separate deactivation URL, three requests in flight, and only the fields the mapping reads."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from vectis.adapters.vendors.autotask import VENDOR, mapping, wire
from vectis.adapters.vendors.autotask.client import AutotaskClient
from vectis.adapters.vendors.autotask.settings import AutotaskAccount, AutotaskSettings
from vectis.adapters.vendors.autotask.sync import AutotaskSync
from vectis.adapters.vendors.autotask.webhooks import AutotaskWebhookSubscriptions
from vectis.domain.changes import StoredTicket, ticket_events
from vectis.domain.errors import VendorRejected
from vectis.domain.events import EventKind

ZONE = "https://webservices5.autotask.net/atservicesrest"
ACCOUNT = AutotaskAccount(base_url=ZONE, username="u", secret="s", integration_code="c")
CLOSED_ROW = {
    "id": 100,
    "title": "Printer jam",
    "createDate": "2025-09-15T08:00:00.000Z",
    "companyID": 174,
    "ticketNumber": "T20250915.0001",
    "status": 5,
    "lastActivityDate": "2025-09-15T15:02:11.437Z",
    "completedDate": "2025-09-15T15:02:11.437Z",
}


def test_a_closure_seen_by_webhook_and_by_sync_has_one_key() -> None:
    delivery = wire.WebhookDelivery(
        Action="Update",
        EntityType="Ticket",
        Id=100,
        EventTime="2025-09-15T15:02:12Z",
        Guid="a1da62a4-2c49-40a8-8183-69994ce5b3eb",
        SequenceNumber=9,
        Fields={"Status": 5, "CompletedDate": "2025-09-15T15:02:11.437Z", "CompanyID": 174},
    )
    (pushed,) = mapping.webhook_events(delivery, frozenset({"5"}))
    ticket = mapping.ticket(
        wire.structure(CLOSED_ROW, wire.Ticket),
        mapping.Lookups(statuses={"5": "Complete"}, closed_statuses=frozenset({"5"})),
    )
    before = StoredTicket(
        closed=False,
        status="In Progress",
        summary=ticket.summary,
        number=ticket.number,
        company_id=ticket.company_id,
        opened_at=ticket.opened_at,
    )
    (synced,) = ticket_events(VENDOR, ticket, before)

    assert pushed.kind == synced.kind == EventKind.TICKET_CLOSED
    assert pushed.external_id == synced.external_id
    assert pushed.occurred_at == synced.occurred_at


def test_a_status_move_seen_by_webhook_and_by_sync_has_one_key() -> None:
    delivery = wire.WebhookDelivery(
        Action="Update",
        EntityType="Ticket",
        Id=100,
        EventTime="2025-09-15T15:02:12Z",
        Guid="a1da62a4-2c49-40a8-8183-69994ce5b3eb",
        SequenceNumber=8,
        Fields={"Status": 8, "LastActivityDate": "2025-09-15T15:02:11.437Z", "CompanyID": 174},
    )
    (pushed,) = mapping.webhook_events(delivery, frozenset({"5"}))
    ticket = mapping.ticket(
        wire.structure({**CLOSED_ROW, "status": 8, "completedDate": None}, wire.Ticket),
        mapping.Lookups(statuses={"8": "Waiting Customer"}, closed_statuses=frozenset({"5"})),
    )
    before = StoredTicket(
        closed=False,
        status="In Progress",
        summary=ticket.summary,
        number=ticket.number,
        company_id=ticket.company_id,
        opened_at=ticket.opened_at,
    )
    (synced,) = ticket_events(VENDOR, ticket, before)

    assert pushed.kind == synced.kind == EventKind.TICKET_UPDATED
    assert pushed.external_id == synced.external_id
    assert pushed.occurred_at == synced.occurred_at


def test_an_update_without_a_status_change_is_one_event_per_delivery() -> None:
    def delivery(sequence: int) -> wire.WebhookDelivery:
        return wire.WebhookDelivery(
            Action="Update",
            EntityType="Ticket",
            Id=100,
            EventTime=f"2025-09-15T15:0{sequence}:12Z",
            Guid="a1da62a4-2c49-40a8-8183-69994ce5b3eb",
            SequenceNumber=sequence,
            Fields={"Priority": 1, "LastActivityDate": "2025-09-15T15:02:11.437Z"},
        )

    (first,) = mapping.webhook_events(delivery(1), frozenset({"5"}))
    (second,) = mapping.webhook_events(delivery(2), frozenset({"5"}))
    assert first.external_id != second.external_id


def test_webhooks_always_carry_the_completed_date_that_keys_a_closure() -> None:
    assert "completedDate" in AutotaskSettings().webhook_display_fields


def _field_metadata() -> dict[str, Any]:
    values = [
        {"value": "4201", "label": "status"},
        {"value": "4205", "label": "priority"},
        {"value": "4188", "label": "queueID"},
        {"value": "4133", "label": "assignedResourceID"},
        {"value": "4140", "label": "companyID"},
        {"value": "4219", "label": "ticketNumber"},
        {"value": "4222", "label": "title"},
        {"value": "4151", "label": "completedDate"},
    ]
    return {"fields": [{"name": "fieldID", "isPickList": True, "picklistValues": values}]}


class _Autotask:
    """Answers a webhook registration; keeps what was sent."""

    def __init__(self, metadata: dict[str, Any]) -> None:
        self.metadata = metadata
        self.posted: list[tuple[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("TicketWebhookFields/entityInformation/fields"):
            return httpx.Response(200, json=self.metadata)
        if path.endswith("/query"):
            return httpx.Response(200, json={"items": [], "pageDetails": {}})
        self.posted.append((path, json.loads(request.content)))
        return httpx.Response(200, json={"itemId": 42})


async def _register(autotask: _Autotask, settings: AutotaskSettings) -> str:
    async with httpx.AsyncClient(transport=httpx.MockTransport(autotask)) as http:
        subscriptions = AutotaskWebhookSubscriptions(
            AutotaskClient(http, ACCOUNT), settings, "whsec"
        )
        return await subscriptions.ensure_subscribed("https://vectis.example/webhooks/4f6c")


async def test_webhook_fields_are_the_tenants_own_ids_from_its_field_metadata() -> None:
    autotask = _Autotask(_field_metadata())

    await _register(autotask, AutotaskSettings())

    (webhook_path, webhook), *fields = autotask.posted
    assert webhook["WebhookUrl"] == "https://vectis.example/webhooks/4f6c"
    assert webhook["DeactivationUrl"] not in ("", webhook["WebhookUrl"])
    assert [(body["FieldID"], body["IsSubscribedField"]) for _, body in fields] == [
        (4201, True),
        (4205, True),
        (4188, True),
        (4133, True),
        (4140, False),
        (4219, False),
        (4222, False),
        (4151, False),
    ]


async def test_the_last_activity_date_that_keys_a_move_is_asked_for_where_offered() -> None:
    metadata = _field_metadata()
    metadata["fields"][0]["picklistValues"].append({"value": "4160", "label": "lastActivityDate"})
    autotask = _Autotask(metadata)

    await _register(autotask, AutotaskSettings())

    _, *fields = autotask.posted
    assert (fields[-1][1]["FieldID"], fields[-1][1]["IsSubscribedField"]) == (4160, False)
    assert len(fields) == 9


async def test_a_webhook_field_with_no_known_id_is_a_clear_error_before_any_write() -> None:
    autotask = _Autotask({"fields": []})

    with pytest.raises(VendorRejected, match="webhook_field_ids"):
        await _register(autotask, AutotaskSettings())

    assert autotask.posted == []


async def test_field_ids_and_the_deactivation_url_can_be_set_explicitly() -> None:
    names = (*AutotaskSettings().webhook_fields, *AutotaskSettings().webhook_display_fields)
    settings = AutotaskSettings(
        webhook_field_ids={name: 900 + index for index, name in enumerate(names)},
        webhook_deactivation_url="https://vectis.example/webhooks/4f6c/deactivated",
    )
    autotask = _Autotask({"fields": []})

    await _register(autotask, settings)

    (_, webhook), *fields = autotask.posted
    assert webhook["DeactivationUrl"] == "https://vectis.example/webhooks/4f6c/deactivated"
    assert [body["FieldID"] for _, body in fields] == list(range(900, 900 + len(names)))


async def test_a_query_asks_only_for_the_fields_the_mapping_reads() -> None:
    searches: list[dict[str, Any]] = []

    def serve(request: httpx.Request) -> httpx.Response:
        searches.append(json.loads(request.url.params["search"]))
        return httpx.Response(200, json={"items": [], "pageDetails": {"nextPageUrl": None}})

    async with httpx.AsyncClient(transport=httpx.MockTransport(serve)) as http:
        sync = AutotaskSync(AutotaskClient(http, ACCOUNT), AutotaskSettings())
        _ = [batch async for batch in sync.read("tickets", None)]

    (search,) = searches
    assert search["IncludeFields"] == list(wire.names(wire.Ticket))
    assert {"id", "status", "completedDate", "lastActivityDate"} <= set(search["IncludeFields"])
