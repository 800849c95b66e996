"""Autotask ticket callouts → Vectis events, keyed as the sync keys the same change."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vectis.adapters.vendors.autotask import VENDOR, wire
from vectis.adapters.vendors.autotask.mapping.records import optional_id, parse_time, required_time
from vectis.domain.events import EventKind, InboundEvent, SubjectRef, event_key

# A delivery's ticket fields, in Vectis's words (the vendor's field names stay here).
_DELIVERED_FIELDS = {
    "status": "status_id",
    "priority": "priority_id",
    "queueid": "board_id",
    "assignedresourceid": "owner_id",
}


def webhook_events(
    delivery: wire.WebhookDelivery, closed_statuses: frozenset[str]
) -> list[InboundEvent]:
    """The events a ticket callout stands for; other entities are acknowledged and dropped."""
    if delivery.EntityType.lower() != "ticket":
        return []
    fields = {name.lower(): value for name, value in delivery.Fields.items()}
    number = str(fields.get("ticketnumber") or f"#{delivery.Id}")
    kind, verb = _ticket_change(delivery.Action, fields, closed_statuses)
    occurred = required_time(delivery.EventTime, "EventTime")
    completed = parse_time(_text_or_none(fields.get("completeddate")))
    activity = parse_time(_text_or_none(fields.get("lastactivitydate")))
    if kind in (EventKind.TICKET_OPENED, EventKind.TICKET_DELETED):
        # Keyed as the sync keys the same change, so the sync after this callout (or one
        # that saw the ticket first) does not record a second "opened" or "deleted".
        external_id = event_key(kind, str(delivery.Id))
    elif kind == EventKind.TICKET_CLOSED and completed is not None:
        # The sync keys a closure by the ticket's completedDate (domain.changes.ticket_events),
        # which every callout carries as a display field: the same key on both paths.
        # UNCONFIRMED: that a callout's completedDate has the precision the REST API returns.
        external_id = event_key(kind, str(delivery.Id), completed.isoformat())
        occurred = completed
    elif kind == EventKind.TICKET_UPDATED and "status" in fields and activity is not None:
        # The sync keys a move to another status (or a reopening) by the ticket's
        # lastActivityDate, which every callout carries as a display field: the same key.
        # UNCONFIRMED: that a status change moves lastActivityDate (it is the ticket's "last
        # activity"), and that a callout carries it at the precision the REST API returns.
        external_id = event_key(kind, str(delivery.Id), activity.isoformat())
        occurred = activity
    else:
        # Any other change (priority, queue, owner): the sync records no event for it, so
        # the callout's is one event per delivery.
        sequence = delivery.SequenceNumber if delivery.SequenceNumber is not None else "-"
        external_id = f"{delivery.Guid or '-'}:{delivery.Id}:{sequence}:{delivery.EventTime}"
    return [
        InboundEvent(
            external_id=external_id,
            kind=kind,
            occurred_at=occurred,
            subject=SubjectRef(system=VENDOR, type="ticket", id=str(delivery.Id)),
            title=f"Ticket {number} {verb}",
            detail=str(fields.get("title") or ""),
            company_ref=optional_id(fields.get("companyid")),
            payload={"action": delivery.Action.lower(), **_delivered_changes(fields)},
        )
    ]


def _delivered_changes(fields: Mapping[str, Any]) -> dict[str, str | None]:
    return {
        ours: optional_id(fields[theirs])
        for theirs, ours in _DELIVERED_FIELDS.items()
        if theirs in fields
    }


def _ticket_change(
    action: str, fields: Mapping[str, Any], closed_statuses: frozenset[str]
) -> tuple[str, str]:
    action = action.lower()
    if action == "create":
        return EventKind.TICKET_OPENED, "opened"
    if action == "delete":
        return EventKind.TICKET_DELETED, "deleted"
    if str(fields.get("status")) in closed_statuses:
        return EventKind.TICKET_CLOSED, "completed"
    if "status" in fields:
        return EventKind.TICKET_UPDATED, "changed status"
    return EventKind.TICKET_UPDATED, "updated"


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None
