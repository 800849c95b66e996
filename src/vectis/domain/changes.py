"""Which changes to synced records matter enough to enter the event stream, and how they read.

The sync compares each incoming record with what Vectis stored before (``None`` for a record
it had never seen) and turns what changed into inbound events, keyed with ``event_key`` so a
change that already arrived by webhook is not recorded twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from uuid import UUID

from attrs import frozen

from vectis.domain.events import Event, EventKind, InboundEvent, SubjectRef, event_key
from vectis.domain.integration import Integration
from vectis.domain.records import Alert, AlertState, AvState, Device, Ticket, TicketNote

DESCRIPTION_WINDOW = timedelta(minutes=2)
"""A customer note this close to the ticket's opening is its description, not a reply."""


@frozen(kw_only=True)
class StoredTicket:
    """What the sync needs to know about a ticket it stored before."""

    closed: bool
    status: str | None
    summary: str
    number: str
    company_id: str | None
    opened_at: datetime


@frozen(kw_only=True)
class StoredAlert:
    state: str


@frozen(kw_only=True)
class StoredDevice:
    """What the sync needs to know about a device it stored before: its antivirus state."""

    av_state: str
    av_definitions_at: datetime | None = None


def ticket_events(vendor: str, ticket: Ticket, before: StoredTicket | None) -> list[InboundEvent]:
    subject = SubjectRef(system=vendor, type="ticket", id=ticket.id)
    label = _ticket_label(ticket.number, ticket.id)
    payload = {
        "summary": ticket.summary,
        "status": ticket.status.name if ticket.status else None,
        "priority": ticket.priority.name if ticket.priority else None,
        "board": ticket.board.name if ticket.board else None,
        "owner": ticket.owner.name if ticket.owner else None,
        "url": ticket.url,
    }
    detail = " · ".join(
        part for part in (ticket.summary, ticket.priority.name if ticket.priority else "") if part
    )

    def event(kind: str, verb: str, at: datetime, *qualifiers: object) -> InboundEvent:
        return InboundEvent(
            external_id=event_key(kind, ticket.id, *qualifiers),
            kind=kind,
            occurred_at=at,
            subject=subject,
            title=f"Ticket {label} {verb}",
            detail=detail,
            company_ref=ticket.company_id,
            payload=payload,
        )

    events: list[InboundEvent] = []
    if before is None:
        events.append(event(EventKind.TICKET_OPENED, "opened", ticket.opened_at))
    elif ticket.closed == before.closed and ticket.status and (ticket.status.name != before.status):
        events.append(
            event(
                EventKind.TICKET_UPDATED,
                f"moved to {ticket.status.name}",
                ticket.updated_at,
                ticket.updated_at.isoformat(),
            )
        )
    if ticket.closed and (before is None or not before.closed):
        closed_at = ticket.closed_at or ticket.updated_at
        events.append(event(EventKind.TICKET_CLOSED, "closed", closed_at, closed_at.isoformat()))
    elif before is not None and before.closed and not ticket.closed:
        events.append(
            event(
                EventKind.TICKET_UPDATED,
                "reopened",
                ticket.updated_at,
                ticket.updated_at.isoformat(),
            )
        )
    return events


def delivered_ticket_events(vendor: str, ticket: Ticket, *, created: bool) -> list[InboundEvent]:
    """Events for a ticket a webhook delivered whole, keyed exactly as the sync keys the same
    change, so the sync that follows the delivery does not record it a second time."""
    if created:
        return ticket_events(vendor, ticket, None)
    status = None if ticket.closed or ticket.status is None else f"not {ticket.status.name}"
    before = StoredTicket(
        closed=False,
        status=status,
        summary=ticket.summary,
        number=ticket.number,
        company_id=ticket.company_id,
        opened_at=ticket.opened_at,
    )
    return ticket_events(vendor, ticket, before)


def note_events(vendor: str, note: TicketNote, ticket: StoredTicket | None) -> list[InboundEvent]:
    """A new reply or note; the note that only restates a new ticket's description is skipped."""
    at = note.created_at
    if at is None:
        return []
    if ticket is not None and note.from_customer and at - ticket.opened_at < DESCRIPTION_WINDOW:
        return []
    if note.from_customer:
        kind, verb = EventKind.TICKET_REPLY_RECEIVED, "Reply received on"
    else:
        kind = EventKind.TICKET_NOTE_ADDED
        verb = "Internal note on" if note.internal else "Reply sent on"
    label = _ticket_label(ticket.number if ticket else "", note.ticket_id)
    summary = ticket.summary if ticket else ""
    return [
        InboundEvent(
            external_id=event_key(kind, note.ticket_id, note.id),
            kind=kind,
            occurred_at=at,
            subject=SubjectRef(system=vendor, type="ticket", id=note.ticket_id),
            title=f"{verb} ticket {label}" + (f" · {summary}" if summary else ""),
            detail=" ".join(note.text.split())[:200],
            company_ref=ticket.company_id if ticket else None,
            payload={"note_id": note.id, "author": note.author, "internal": note.internal},
        )
    ]


def alert_events(vendor: str, alert: Alert, before: StoredAlert | None) -> list[InboundEvent]:
    subject = SubjectRef(system=vendor, type="alert", id=alert.id)
    if before is None and alert.state != AlertState.RESOLVED:
        kind, title, at = EventKind.ALERT_RAISED, f"Alert raised: {alert.message}", alert.raised_at
    elif (
        before is not None
        and before.state != AlertState.RESOLVED
        and (alert.state == AlertState.RESOLVED)
    ):
        kind, title = EventKind.ALERT_RESET, f"Alert cleared: {alert.message}"
        at = alert.updated_at or alert.raised_at
    else:
        return []
    return [
        InboundEvent(
            external_id=event_key(kind, alert.id),
            kind=kind,
            occurred_at=at,
            subject=subject,
            title=title,
            detail=" · ".join(part for part in (alert.severity.capitalize(), alert.source) if part),
            company_ref=alert.company_id,
            payload={"severity": alert.severity, "device_id": alert.device_id, "url": alert.url},
        )
    ]


def device_events(vendor: str, device: Device, before: StoredDevice | None) -> list[InboundEvent]:
    """``av.definitions_updated`` when a device's antivirus definitions became current.

    For an RMM that reports no definitions event (NinjaOne documents none), the change between
    syncs is the event: outdated before and protected now, or a later ``av_definitions_at``
    than the one stored. A device seen for the first time has no change to report.
    """
    if before is None:
        return []
    renewed = before.av_state == AvState.OUTDATED and device.av_state == AvState.PROTECTED
    newer = (
        device.av_definitions_at is not None
        and before.av_definitions_at is not None
        and device.av_definitions_at > before.av_definitions_at
    )
    at = device.av_definitions_at or device.updated_at or device.last_seen_at
    if not (renewed or newer) or at is None:
        return []
    kind = EventKind.AV_DEFINITIONS_UPDATED
    return [
        InboundEvent(
            external_id=event_key(kind, device.id, at.isoformat()),
            kind=kind,
            occurred_at=at,
            subject=SubjectRef(system=vendor, type="device", id=device.id),
            title=f"Antivirus definitions updated on {device.name}",
            detail=f"antivirus {before.av_state} → {device.av_state}",
            company_ref=device.company_id,
            payload={"device_id": device.id, "before": before.av_state, "after": device.av_state},
        )
    ]


def ticket_deleted_events(
    vendor: str, ticket_id: str, before: StoredTicket | None, at: datetime
) -> list[InboundEvent]:
    """The vendor says a ticket is gone; ``before`` is what Vectis last stored of it."""
    label = _ticket_label(before.number if before else "", ticket_id)
    return [
        InboundEvent(
            external_id=event_key(EventKind.TICKET_DELETED, ticket_id),
            kind=EventKind.TICKET_DELETED,
            occurred_at=at,
            subject=SubjectRef(system=vendor, type="ticket", id=ticket_id),
            title=f"Ticket {label} deleted",
            detail=before.summary if before else "",
            company_ref=before.company_id if before else None,
        )
    ]


def cleared_alert_events(vendor: str, alert: Alert) -> list[InboundEvent]:
    """An open alert a complete listing no longer shows, now resolved by the sync."""
    return alert_events(vendor, alert, StoredAlert(state=AlertState.OPEN))


def to_event(
    integration: Integration, inbound: InboundEvent, customers: Mapping[str, UUID]
) -> Event:
    """An inbound event of an integration as an entry of the tenant's event stream."""
    return Event(
        tenant_id=integration.tenant_id,
        source=integration.vendor,
        kind=inbound.kind,
        occurred_at=inbound.occurred_at,
        title=inbound.title,
        detail=inbound.detail,
        customer_id=customers.get(inbound.company_ref or ""),
        subject=inbound.subject,
        integration_id=integration.id,
        payload=dict(inbound.payload),
        dedup_key=inbound.external_id,
    )


def _ticket_label(number: str, vendor_id: str) -> str:
    return f"#{number or vendor_id}"
