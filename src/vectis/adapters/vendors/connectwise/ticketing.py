"""ConnectWise Manage as ``Ticketing``: tickets created, patched and noted, retries made safe."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from vectis.adapters.vendors._kit.markers import marker
from vectis.adapters.vendors._kit.records import UNREADABLE
from vectis.adapters.vendors.connectwise import mapping, wire
from vectis.adapters.vendors.connectwise.client import ConnectWiseClient
from vectis.adapters.vendors.connectwise.settings import ConnectWiseOptions
from vectis.domain.errors import VendorRejected
from vectis.domain.records import Ticket, TicketChange, TicketDraft, TicketNote

RECENT_NOTES = 25
"""How many of a ticket's latest notes a retried ``add_note`` looks through."""


class ConnectWiseTicketing:
    """``Ticketing`` on ConnectWise: ``/service/tickets`` and its ``/notes``.

    Creating is idempotent through ``externalXRef``: the ticket carries the kit's marker for
    the idempotency key, looked up (a documented ``conditions`` clause on a ticket field)
    before creating. Updating is a JSON-Patch of ``replace`` operations, the same result
    however often it is sent. Notes have no marker field, so a note is looked for among the
    ticket's latest notes (same text and kind, by a member, recent) before it is added.
    """

    def __init__(self, client: ConnectWiseClient, options: ConnectWiseOptions) -> None:
        self._client = client
        self._account = client.account
        self._options = options

    async def create_ticket(self, draft: TicketDraft, *, idempotency_key: str) -> Ticket:
        board_id = draft.board_id or self._options.default_board_id
        if not board_id:
            raise VendorRejected(
                "ConnectWise needs a board for a new ticket: choose one, or set the "
                "integration's default_board_id"
            )
        mark = marker(idempotency_key)
        earlier = await self._client.get(
            "/service/tickets",
            {"conditions": f'externalXRef="{mark}"', "orderBy": "id asc", "pageSize": 1},
        )
        if isinstance(earlier, list) and earlier:
            return self._ticket(earlier[0])
        body = mapping.new_ticket(draft, board_id=board_id, marker=mark)
        return self._ticket(await self._client.post("/service/tickets", body))

    async def update_ticket(
        self, ticket_id: str, change: TicketChange, *, idempotency_key: str
    ) -> Ticket:
        patched = await self._client.patch(
            f"/service/tickets/{ticket_id}", mapping.ticket_patch(change)
        )
        return self._ticket(patched)

    async def add_note(
        self, ticket_id: str, text: str, *, internal: bool, idempotency_key: str
    ) -> TicketNote:
        if self._options.note_dedupe_minutes > 0:
            earlier = await self._earlier_note(ticket_id, text, internal=internal)
            if earlier is not None:
                return earlier
        created = await self._client.post(
            f"/service/tickets/{ticket_id}/notes", mapping.new_note(text, internal=internal)
        )
        return _note(created, ticket_id)

    async def _earlier_note(
        self, ticket_id: str, text: str, *, internal: bool
    ) -> TicketNote | None:
        recent = await self._client.get(
            f"/service/tickets/{ticket_id}/notes", {"orderBy": "id desc", "pageSize": RECENT_NOTES}
        )
        since = self._client.clock.now() - timedelta(minutes=self._options.note_dedupe_minutes)
        for raw in recent if isinstance(recent, list) else []:
            try:
                note = _note(raw, ticket_id)
            except VendorRejected:
                continue  # a note we cannot read is not the one we wrote
            if (
                not note.from_customer
                and note.internal == internal
                and _same_text(note.text, text)
                and note.created_at is not None
                and note.created_at >= since
            ):
                return note
        return None

    def _ticket(self, document: Any) -> Ticket:
        try:
            ticket = wire.structure(document, wire.Ticket)
            return mapping.ticket(ticket, self._options.ticket_url(self._account, ticket.id))
        except UNREADABLE as error:
            raise VendorRejected(f"ConnectWise returned an unexpected ticket: {error}") from error


def _note(document: Any, ticket_id: str) -> TicketNote:
    try:
        return mapping.ticket_note(wire.structure(document, wire.TicketNote), ticket_id)
    except UNREADABLE as error:
        raise VendorRejected(f"ConnectWise returned an unexpected note: {error}") from error


def _same_text(stored: str, sent: str) -> bool:
    return stored.replace("\r\n", "\n").strip() == sent.replace("\r\n", "\n").strip()
