"""The tenant's event stream: what happened in every connected system, in one shape.

The timeline reads it and the rules engine consumes it. Inbound events arrive from connectors
(webhooks or sync) with the vendor's own id, which the inbox uses to drop duplicates.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from attrs import field, frozen

from vectis.domain.errors import InvalidValue


class EventKind:
    """The kinds of event Vectis understands; connectors map vendor events onto these."""

    TICKET_OPENED = "ticket.opened"
    TICKET_UPDATED = "ticket.updated"
    TICKET_CLOSED = "ticket.closed"
    TICKET_DELETED = "ticket.deleted"
    TICKET_NOTE_ADDED = "ticket.note_added"
    TICKET_REPLY_RECEIVED = "ticket.reply_received"
    ALERT_RAISED = "alert.raised"
    ALERT_RESET = "alert.reset"
    PATCH_CYCLE_COMPLETED = "patch.cycle_completed"
    AV_DEFINITIONS_UPDATED = "av.definitions_updated"
    WRITEBACK_SUCCEEDED = "writeback.succeeded"
    WRITEBACK_FAILED = "writeback.failed"
    NOTE_ADDED = "note.added"
    NOTE_EDITED = "note.edited"


MAX_EXTERNAL_ID_LENGTH = 500
"""The longest vendor id an inbound event is deduplicated by (the vendors' own are far shorter)."""


def event_key(kind: str, subject_id: str, *qualifiers: object) -> str:
    """The id one change has however it reaches Vectis (a webhook, then a sync): the event
    stream keeps one event per key and integration. ``qualifiers`` tell repeated changes of
    the same kind apart (a ticket closed, reopened and closed again)."""
    key = f"{kind}:{subject_id}"
    for part in qualifiers:
        key += f":{part}"
    return key


@frozen(kw_only=True)
class SubjectRef:
    """The record an event is about, in its own system (``connectwise`` ticket ``4821``)."""

    system: str
    type: str
    id: str


@frozen(kw_only=True)
class InboundEvent:
    """An event as a connector hands it over, before it is tied to a customer."""

    external_id: str
    kind: str
    occurred_at: datetime
    subject: SubjectRef
    title: str
    detail: str = ""
    company_ref: str | None = None
    payload: Mapping[str, Any] = field(factory=dict)

    def __attrs_post_init__(self) -> None:
        if not self.external_id:
            raise InvalidValue("an inbound event needs the vendor's id for deduplication")
        if len(self.external_id) > MAX_EXTERNAL_ID_LENGTH:
            # The id is a unique index's key, and PostgreSQL refuses a key past about 2.7 kB.
            raise InvalidValue(
                f"an inbound event's id is at most {MAX_EXTERNAL_ID_LENGTH} characters"
            )
        if self.occurred_at.tzinfo is None:
            raise InvalidValue("an inbound event's time must carry a time zone")


@frozen(kw_only=True)
class Event:
    """One entry of the tenant's event stream."""

    tenant_id: UUID
    source: str
    kind: str
    occurred_at: datetime
    title: str
    detail: str = ""
    customer_id: UUID | None = None
    site_id: UUID | None = None
    subject: SubjectRef | None = None
    integration_id: UUID | None = None
    payload: Mapping[str, Any] = field(factory=dict)
    dedup_key: str | None = None
    id: int | None = None
