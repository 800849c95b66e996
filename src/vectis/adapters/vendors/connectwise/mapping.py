"""ConnectWise documents → Vectis domain objects: the anti-corruption layer."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import cattrs

from vectis.adapters.vendors.connectwise import VENDOR, wire
from vectis.domain.errors import VendorRejected
from vectis.domain.events import EventKind, InboundEvent, SubjectRef
from vectis.domain.ticketing import TicketNote


def ticket_note(note: wire.TicketNote) -> TicketNote:
    return TicketNote(
        id=str(note.id),
        ticket_id=str(note.ticketId),
        text=note.text,
        internal=note.internalAnalysisFlag,
        created_at=parse_time(note.dateCreated),
    )


def callback_events(callback: wire.Callback, received_at: datetime) -> list[InboundEvent]:
    """The events a callback stands for (tickets only, for now; others are acknowledged)."""
    if callback.Type.lower() != "ticket":
        return []
    subject = SubjectRef(system=VENDOR, type="ticket", id=str(callback.ID))
    if callback.Action == "deleted" or callback.Entity is None:
        return [
            InboundEvent(
                external_id=callback.MessageId,
                kind=EventKind.TICKET_CLOSED,
                occurred_at=received_at,
                subject=subject,
                title=f"Ticket #{callback.ID} deleted",
            )
        ]
    try:
        ticket = wire.structure(json.loads(callback.Entity), wire.Ticket)
    except (ValueError, cattrs.BaseValidationError) as error:
        raise VendorRejected(
            f"ConnectWise sent a ticket callback with a malformed Entity: {error}"
        ) from error
    kind, verb = _ticket_change(callback.Action, ticket)
    board = ticket.board.name if ticket.board and ticket.board.name else ""
    return [
        InboundEvent(
            external_id=callback.MessageId,
            kind=kind,
            occurred_at=parse_time(ticket.info.lastUpdated)
            or parse_time(ticket.info.dateEntered)
            or received_at,
            subject=subject,
            title=f"Ticket #{ticket.id} {verb}",
            detail=" · ".join(part for part in (ticket.summary, board) if part),
            company_ref=str(ticket.company.id) if ticket.company else None,
            payload={
                "summary": ticket.summary,
                "board": board,
                "status": ticket.status.name if ticket.status else None,
                "priority": ticket.priority.name if ticket.priority else None,
            },
        )
    ]


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _ticket_change(action: str, ticket: wire.Ticket) -> tuple[str, str]:
    if action == "added":
        return EventKind.TICKET_OPENED, "opened"
    if ticket.closedFlag:
        return EventKind.TICKET_CLOSED, "closed"
    return EventKind.TICKET_UPDATED, "updated"
