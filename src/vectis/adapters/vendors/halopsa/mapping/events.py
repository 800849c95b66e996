"""HaloPSA webhook deliveries → Vectis events, keyed as the sync keys the same change."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from vectis.adapters.vendors.halopsa import VENDOR, wire
from vectis.adapters.vendors.halopsa.mapping.records import CLOSED_STATUS_IDS, ticket
from vectis.domain.changes import delivered_ticket_events
from vectis.domain.errors import InvalidValue
from vectis.domain.events import EventKind, InboundEvent, SubjectRef, event_key
from vectis.domain.integration import IdForm

OPENED_WINDOW = timedelta(minutes=2)


def webhook_events(
    document: Mapping[str, Any],
    *,
    received_at: datetime,
    delivery_id: str,
    base_url: str,
    closed_status_ids: Iterable[int] = CLOSED_STATUS_IDS,
) -> list[InboundEvent]:
    """The ticket event a webhook delivery stands for, from whatever ticket it carries.

    UNCONFIRMED payload: a ``ticket`` object (as Halo's own integrations read it), the ticket
    object itself, or only a ``ticket_id``. A full ticket gives the same event keys the sync
    would, so the sync does not record the change twice; a bare id gives an "updated" event
    keyed by the delivery, and the next sync re-reads the ticket.
    """
    raw = document.get("ticket")
    row_data = raw if isinstance(raw, Mapping) else None
    if row_data is None and "summary" in document and "id" in document:
        row_data = document
    if row_data is not None:
        row = wire.structure(dict(row_data), wire.Ticket)
        try:
            mapped = ticket(row, base_url=base_url, closed_status_ids=closed_status_ids)
        except InvalidValue:
            return [_bare_event(str(row.id), received_at, delivery_id, row.summary or "")]
        created = mapped.updated_at - mapped.opened_at < OPENED_WINDOW
        return delivered_ticket_events(VENDOR, mapped, created=created)
    ticket_id = document.get("ticket_id") or document.get("faultid")
    if not ticket_id:
        return []
    if isinstance(ticket_id, bool) or not IdForm.NUMBER.fits(str(ticket_id)):
        raise InvalidValue(f"{str(ticket_id)[:40]!r} is not a HaloPSA ticket id")
    return [_bare_event(str(ticket_id), received_at, delivery_id, "")]


def _bare_event(ticket_id: str, at: datetime, delivery_id: str, summary: str) -> InboundEvent:
    return InboundEvent(
        external_id=event_key(EventKind.TICKET_UPDATED, ticket_id, delivery_id),
        kind=EventKind.TICKET_UPDATED,
        occurred_at=at,
        subject=SubjectRef(system=VENDOR, type="ticket", id=ticket_id),
        title=f"Ticket #{ticket_id} updated",
        detail=summary,
        payload={"refetch": True},
    )
