"""``Ticketing`` on Autotask: create, update and annotate tickets, safely repeatable."""

from __future__ import annotations

from typing import Any

from vectis.adapters.vendors._kit.markers import marker, note_tag
from vectis.adapters.vendors._kit.records import UNREADABLE
from vectis.adapters.vendors.autotask import mapping, wire
from vectis.adapters.vendors.autotask.client import AutotaskClient
from vectis.adapters.vendors.autotask.settings import AutotaskSettings
from vectis.adapters.vendors.autotask.sync import Catalog
from vectis.domain.errors import VendorRejected
from vectis.domain.records import Ticket, TicketChange, TicketDraft, TicketNote

NOTE_TITLE_LENGTH = 250


class AutotaskTicketing:
    """``Ticketing`` on Autotask.

    Creating looks first for a ticket whose ``externalID`` is the write-back's marker; a note
    ends its title with the marker's tag and is looked up the same way. Updates set absolute
    values with ``PATCH``, so repeating one is harmless.
    """

    def __init__(self, client: AutotaskClient, settings: AutotaskSettings) -> None:
        self._client = client
        self._settings = settings
        self._catalog = Catalog(client, settings)

    async def create_ticket(self, draft: TicketDraft, *, idempotency_key: str) -> Ticket:
        tag = marker(idempotency_key)
        existing = await self._client.first(
            "Tickets", [_eq("externalID", tag)], wire.names(wire.Ticket)
        )
        if existing is not None:
            return await self._ticket(existing)
        body = mapping.new_ticket(
            draft,
            status=self._settings.default_status_id,
            priority=self._settings.default_priority_id,
            queue=self._settings.default_queue_id,
            marker=tag,
        )
        ticket_id = await self._client.create("Tickets", body)
        return await self._ticket(await self._client.get_item("Tickets", ticket_id))

    async def update_ticket(
        self, ticket_id: str, change: TicketChange, *, idempotency_key: str
    ) -> Ticket:
        role = await self._default_role(change.owner_id) if change.owner_id else None
        await self._client.update("Tickets", mapping.ticket_update(ticket_id, change, role))
        return await self._ticket(await self._client.get_item("Tickets", ticket_id))

    async def add_note(
        self, ticket_id: str, text: str, *, internal: bool, idempotency_key: str
    ) -> TicketNote:
        tag = note_tag(idempotency_key)
        title = f"{self._settings.note_title[: NOTE_TITLE_LENGTH - len(tag) - 1]} {tag}"
        number = mapping.number(ticket_id, "ticket")
        existing = await self._client.first(
            "TicketNotes",
            [_eq("ticketID", number), _eq("title", title)],
            wire.names(wire.TicketNote),
        )
        if existing is not None:
            # The earlier attempt of this write-back got through: answer with that note.
            found = _read(existing, wire.TicketNote, "note")
            return TicketNote(id=str(found.id), ticket_id=str(number), text=text, internal=internal)
        settings = self._settings
        note_id = await self._client.create(
            f"Tickets/{number}/Notes",
            mapping.new_note(
                number,
                title=title,
                text=text,
                note_type=settings.note_type,
                publish=settings.note_publish_internal
                if internal
                else settings.note_publish_external,
            ),
        )
        return TicketNote(id=note_id, ticket_id=str(number), text=text, internal=internal)

    async def _ticket(self, item: Any) -> Ticket:
        record = _read(item, wire.Ticket, "ticket")
        try:
            return mapping.ticket(record, await self._catalog.lookups())
        except UNREADABLE as error:
            raise VendorRejected(
                f"Autotask returned a ticket Vectis cannot read: {error}"
            ) from None

    async def _default_role(self, resource_id: str) -> int:
        role = await self._client.first(
            "ResourceServiceDeskRoles",
            [
                _eq("resourceID", mapping.number(resource_id, "owner")),
                _eq("isDefault", True),
                _eq("isActive", True),
            ],
            wire.names(wire.ServiceDeskRole),
        )
        if role is None:
            raise VendorRejected(
                f"Autotask resource {resource_id} has no default service desk role"
            )
        return _read(role, wire.ServiceDeskRole, "service desk role").roleID


def _read(item: Any, kind: type[wire.T], what: str) -> wire.T:
    try:
        return wire.structure(item, kind)
    except UNREADABLE as error:
        raise VendorRejected(f"Autotask returned a {what} Vectis cannot read: {error}") from None


def _eq(field: str, value: Any) -> dict[str, Any]:
    return {"op": "eq", "field": field, "value": value}
