"""ConnectWise documents ↔ Vectis domain objects (the anti-corruption layer), both ways.

Wire → domain for what the sync and callbacks read; domain → request bodies for what the
write-backs send. A row lacking what Vectis needs raises the kit's ``UnreadableRecord``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from vectis.adapters.vendors._kit.records import UNREADABLE, UnreadableRecord, amount
from vectis.adapters.vendors.connectwise import VENDOR, wire
from vectis.domain.changes import delivered_ticket_events
from vectis.domain.errors import VendorRejected
from vectis.domain.events import EventKind, InboundEvent, SubjectRef, event_key
from vectis.domain.records import (
    Contact,
    Contract,
    ContractLine,
    Deletion,
    Device,
    Named,
    Reference,
    ReferenceKind,
    Ticket,
    TicketChange,
    TicketDraft,
    TicketNote,
    TicketSla,
    VendorCompany,
    VendorSite,
)

SUMMARY_LIMIT = 100
"""ConnectWise refuses ticket summaries longer than this."""


def board(board: wire.Board) -> Reference:
    return Reference(kind=ReferenceKind.BOARD, id=str(board.id), name=board.name or str(board.id))


def status(status: wire.BoardStatus, board_name: str) -> Reference:
    """A board's status; named ``Board / Status`` because statuses belong to one board each."""
    return Reference(
        kind=ReferenceKind.STATUS,
        id=str(status.id),
        name=f"{board_name} / {status.name or status.id}",
        closed=status.closedStatus,
    )


def priority(priority: wire.Priority) -> Reference:
    return Reference(
        kind=ReferenceKind.PRIORITY, id=str(priority.id), name=priority.name or str(priority.id)
    )


def member(member: wire.Member) -> Reference:
    full_name = " ".join(part for part in (member.firstName, member.lastName) if part)
    return Reference(
        kind=ReferenceKind.MEMBER,
        id=str(member.id),
        name=full_name or member.identifier or str(member.id),
    )


def company(company: wire.Company) -> VendorCompany | Deletion:
    if company.deletedFlag:
        return Deletion(record_type="company", id=str(company.id))
    return VendorCompany(
        id=str(company.id),
        name=company.name,
        identifier=company.identifier or "",
        updated_at=parse_time(company.info.lastUpdated),
    )


def site(site: wire.Site, company_id: int) -> VendorSite | Deletion:
    if site.inactiveFlag:
        return Deletion(record_type="site", id=str(site.id))
    return VendorSite(
        id=str(site.id),
        company_id=str(site.company.id if site.company else company_id),
        name=site.name or "",
        updated_at=parse_time(site.info.lastUpdated),
    )


def contact(contact: wire.Contact) -> Contact | Deletion:
    if contact.inactiveFlag:
        return Deletion(record_type="contact", id=str(contact.id))
    if contact.company is None:
        raise UnreadableRecord("the contact belongs to no company")
    return Contact(
        id=str(contact.id),
        company_id=str(contact.company.id),
        name=" ".join(part for part in (contact.firstName, contact.lastName) if part),
        email=_communication(contact.communicationItems, "Email"),
        phone=_communication(contact.communicationItems, "Phone"),
        updated_at=parse_time(contact.info.lastUpdated),
    )


def ticket(ticket: wire.Ticket, url: str = "") -> Ticket:
    opened = parse_time(ticket.info.dateEntered) or parse_time(ticket.info.lastUpdated)
    updated = parse_time(ticket.info.lastUpdated) or opened
    if opened is None or updated is None:
        raise UnreadableRecord("the ticket carries neither dateEntered nor lastUpdated")
    return Ticket(
        id=str(ticket.id),
        number=str(ticket.id),
        company_id=str(ticket.company.id) if ticket.company else None,
        summary=ticket.summary,
        opened_at=opened,
        updated_at=updated,
        board=_named(ticket.board),
        status=_named(ticket.status),
        priority=_named(ticket.priority),
        owner=_named(ticket.owner),
        contact_id=str(ticket.contact.id) if ticket.contact else None,
        site_id=str(ticket.site.id) if ticket.site else None,
        closed=ticket.closedFlag,
        closed_at=parse_time(ticket.closedDate) if ticket.closedFlag else None,
        url=url,
        sla=ticket_sla(ticket),
    )


def ticket_sla(ticket: wire.Ticket) -> TicketSla | None:
    """ConnectWise gives its verdict (``isInSla``) and the first response, not the targets'
    times: those exist only inside ``slaStatus``, a sentence for people."""
    if ticket.sla is None and ticket.isInSla is None:
        return None
    return TicketSla(
        name=ticket.sla.label if ticket.sla else "",
        responded_at=parse_time(ticket.dateResponded),
        in_sla=ticket.isInSla,
    )


def ticket_note(note: wire.TicketNote, ticket_id: int | str | None = None) -> TicketNote:
    parent = note.ticketId if note.ticketId is not None else ticket_id
    if parent is None:
        raise UnreadableRecord("the note names no ticket")
    # A note a contact wrote (portal, e-mail connector) has a contact and no member.
    from_customer = note.contact is not None and note.member is None
    author = note.member or note.contact
    return TicketNote(
        id=str(note.id),
        ticket_id=str(parent),
        text=note.text or "",
        # Either internal flag makes a note internal, whatever else it carries: ConnectWise
        # sets several at once (a discussion note can be internal, and external too).
        internal=note.internalFlag or note.internalAnalysisFlag,
        created_at=parse_time(note.dateCreated) or parse_time(note.info.lastUpdated),
        author=author.label if author else note.createdBy or "",
        from_customer=from_customer,
    )


def contract(agreement: wire.Agreement, additions: Sequence[wire.Addition]) -> Contract:
    if agreement.company is None:
        raise UnreadableRecord("the agreement belongs to no company")
    return Contract(
        id=str(agreement.id),
        company_id=str(agreement.company.id),
        name=agreement.name or f"Agreement {agreement.id}",
        kind=agreement.type.label if agreement.type else "",
        status=_agreement_status(agreement),
        starts_on=_day(agreement.startDate),
        ends_on=None if agreement.noEndingDateFlag else _day(agreement.endDate),
        # A cancelled addition (or one cancelled ahead of time) no longer bills.
        lines=[_line(addition) for addition in additions if not addition.cancelledDate],
        updated_at=parse_time(agreement.info.lastUpdated),
    )


def device(configuration: wire.Configuration) -> Device | Deletion:
    if not configuration.activeFlag:
        return Deletion(record_type="device", id=str(configuration.id))
    return Device(
        id=str(configuration.id),
        company_id=str(configuration.company.id) if configuration.company else None,
        name=configuration.name or str(configuration.id),
        kind=configuration.type.label if configuration.type else "",
        os=" ".join(part for part in (configuration.osType, configuration.osInfo) if part),
        site=configuration.site.label if configuration.site else "",
        updated_at=parse_time(configuration.info.lastUpdated),
    )


def new_ticket(draft: TicketDraft, *, board_id: str, marker: str) -> dict[str, Any]:
    """The ``POST /service/tickets`` body; ``externalXRef`` carries the idempotency marker."""
    summary = draft.summary.strip()
    description = draft.description
    if len(summary) > SUMMARY_LIMIT:
        description = f"{summary}\n\n{description}".strip()
        summary = summary[: SUMMARY_LIMIT - 1].rstrip() + "…"
    body: dict[str, Any] = {
        "summary": summary,
        "board": {"id": _vendor_int(board_id, "board")},
        "company": _company_ref(draft.company_id),
        "externalXRef": marker,
    }
    if draft.priority_id:
        body["priority"] = {"id": _vendor_int(draft.priority_id, "priority")}
    if draft.status_id:
        body["status"] = {"id": _vendor_int(draft.status_id, "status")}
    if description:
        body["initialDescription"] = description
    return body


def ticket_patch(change: TicketChange) -> list[dict[str, Any]]:
    """JSON-Patch ``replace`` operations; the board goes first so a new status can belong to it."""
    fields = (
        ("board", change.board_id),
        ("status", change.status_id),
        ("priority", change.priority_id),
        ("owner", change.owner_id),
    )
    return [
        {"op": "replace", "path": path, "value": {"id": _vendor_int(value, path)}}
        for path, value in fields
        if value
    ]


def new_note(text: str, *, internal: bool) -> dict[str, Any]:
    """The ``POST /service/tickets/{id}/notes`` body: a customer-facing reply is a "detail
    description" note, an internal one "internal analysis"."""
    return {
        "text": text,
        "detailDescriptionFlag": not internal,
        "internalAnalysisFlag": internal,
        "resolutionFlag": False,
    }


def new_callback(receiver_url: str) -> dict[str, Any]:
    """The ``POST /system/callbacks`` body: every ticket of the company (owner level)."""
    return {
        "url": receiver_url,
        "objectId": 1,
        "type": "ticket",
        "level": "owner",
        "payloadVersion": "3.0.0",
        "inactiveFlag": False,
        # Changes Vectis itself makes (its notes) do not echo back as callbacks.
        "isSelfSuppressedFlag": True,
    }


def callback_events(callback: wire.Callback, received_at: datetime) -> list[InboundEvent]:
    """The events a callback stands for (tickets only, for now; others are acknowledged)."""
    if callback.Type.lower() != "ticket":
        return []
    if callback.Action == "deleted" or callback.Entity is None:
        return [
            InboundEvent(
                external_id=event_key(EventKind.TICKET_DELETED, str(callback.ID)),
                kind=EventKind.TICKET_DELETED,
                occurred_at=received_at,
                subject=SubjectRef(system=VENDOR, type="ticket", id=str(callback.ID)),
                title=f"Ticket #{callback.ID} deleted",
            )
        ]
    try:
        delivered = ticket(wire.structure(json.loads(callback.Entity), wire.Ticket))
    except (json.JSONDecodeError, *UNREADABLE) as error:
        raise VendorRejected(
            f"ConnectWise sent a ticket callback with a malformed Entity: {error}"
        ) from error
    return delivered_ticket_events(VENDOR, delivered, created=callback.Action == "added")


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise UnreadableRecord(f"{value!r} is not a time") from None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _day(value: str | None) -> date | None:
    parsed = parse_time(value)
    return parsed.date() if parsed else None


def _named(reference: wire.Reference | None) -> Named | None:
    if reference is None:
        return None
    return Named(id=str(reference.id), name=reference.label)


def _communication(items: Sequence[wire.CommunicationItem], kind: str) -> str:
    """The default e-mail address or phone number, else the first one."""
    matching = [item for item in items if item.communicationType == kind and item.value]
    preferred = [item for item in matching if item.defaultFlag] or matching
    return (preferred[0].value or "") if preferred else ""


def _line(addition: wire.Addition) -> ContractLine:
    product = addition.product.label if addition.product else ""
    return ContractLine(
        id=str(addition.id),
        description=addition.description or addition.invoiceDescription or product,
        quantity=amount(addition.quantity) or Decimal(0),
        unit_price=amount(addition.unitPrice),
    )


def _agreement_status(agreement: wire.Agreement) -> str:
    if agreement.agreementStatus:
        return agreement.agreementStatus.lower()
    return "cancelled" if agreement.cancelledFlag else "active"


def _company_ref(company_id: str) -> dict[str, Any]:
    value = company_id.strip()
    return {"id": int(value)} if value.isascii() and value.isdigit() else {"identifier": value}


def _vendor_int(value: str, what: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise VendorRejected(f"{value!r} is not a ConnectWise {what} id") from None
