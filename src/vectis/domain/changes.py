"""Which changes to synced records matter enough to enter the event stream, and how they read.

The sync compares each incoming record with what Vectis stored before (``None`` for a record
it had never seen) and turns what changed into inbound events, keyed with ``event_key`` so a
change that already arrived by webhook is not recorded twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from attrs import frozen

from vectis.domain.events import EventKind, InboundEvent, SubjectRef, event_key
from vectis.domain.records import Alert, AlertState, Ticket, TicketNote

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


def _ticket_label(number: str, vendor_id: str) -> str:
    return f"#{number or vendor_id}"
