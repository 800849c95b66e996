"""HaloPSA tickets written back: ``POST /Tickets`` and ``POST /Actions`` with array bodies."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from vectis.adapters.vendors.halopsa import mapping, wire
from vectis.adapters.vendors.halopsa.client import HaloClient, one, unwrap
from vectis.adapters.vendors.halopsa.gateway import UNREADABLE, HaloReferences, actions
from vectis.adapters.vendors.halopsa.settings import HaloSettings
from vectis.domain.errors import VendorRejected
from vectis.domain.records import Ticket, TicketChange, TicketDraft, TicketNote


class HaloTicketing:
    """``Ticketing`` on HaloPSA: ``POST /Tickets`` and ``POST /Actions`` with array bodies.

    Idempotency: a new ticket carries ``third_party_id_string = "vectis:<key>"`` and is looked
    up by it before creating; an update sets absolute values, so repeating it is harmless; a
    note is not posted again when the ticket already has one with the same text and visibility
    from the last ``note_dedupe_minutes`` (Halo actions have no external reference to filter on).
    """

    def __init__(self, client: HaloClient, settings: HaloSettings) -> None:
        self._client = client
        self._settings = settings
        self._references = HaloReferences(client, settings)

    async def create_ticket(self, draft: TicketDraft, *, idempotency_key: str) -> Ticket:
        marker = f"vectis:{idempotency_key}"
        existing = await self._find(marker)
        if existing is not None:
            return existing
        body: dict[str, Any] = {
            "summary": draft.summary,
            "details": draft.description,
            "client_id": _vendor_id(draft.company_id),
            "third_party_id_string": marker,
        }
        if self._settings.ticket_type_id is not None:
            body["tickettype_id"] = self._settings.ticket_type_id
        body.update(await self._fields(draft.status_id, draft.priority_id, draft.board_id, None))
        return await self._ticket(one(await self._client.post("/Tickets", [body])))

    async def update_ticket(
        self, ticket_id: str, change: TicketChange, *, idempotency_key: str
    ) -> Ticket:
        body: dict[str, Any] = {"id": _vendor_id(ticket_id)}
        body.update(
            await self._fields(
                change.status_id, change.priority_id, change.board_id, change.owner_id
            )
        )
        return await self._ticket(one(await self._client.post("/Tickets", [body])))

    async def add_note(
        self, ticket_id: str, text: str, *, internal: bool, idempotency_key: str
    ) -> TicketNote:
        if self._settings.note_dedupe_minutes > 0:
            since = self._client.clock.now() - timedelta(minutes=self._settings.note_dedupe_minutes)
            notes, _ = await actions(self._client, self._settings, ticket_id)
            for earlier in notes:
                if (
                    _same_text(earlier.text, text)
                    and earlier.internal == internal
                    and earlier.created_at is not None
                    and earlier.created_at >= since
                ):
                    return earlier
        settings = self._settings
        outcome = settings.note_outcome_internal if internal else settings.note_outcome_public
        body = {
            "ticket_id": _vendor_id(ticket_id),
            "note": text,
            "outcome": outcome,
            "hiddenfromuser": internal,
        }
        created = one(await self._client.post("/Actions", [body]))
        created.setdefault("ticket_id", _vendor_id(ticket_id))
        try:
            return mapping.note(
                wire.structure(created, wire.Action),
                customer_who_types=self._settings.customer_who_types,
            )
        except UNREADABLE as error:
            raise VendorRejected(f"HaloPSA returned an unexpected action: {error}") from error

    async def _fields(
        self, status: str | None, priority: str | None, board: str | None, owner: str | None
    ) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        if status:
            fields["status_id"] = _vendor_id(status)
        if priority:
            fields["priority_id"] = _vendor_id(priority)
        if owner:
            fields["agent_id"] = _vendor_id(owner)
        if board:
            fields["team_id"] = team_id = _vendor_id(board)
            # Halo has been seen to assign a team by its name; send both.
            teams = (await self._references.names()).teams
            team = teams.get(team_id) if isinstance(team_id, int) else None
            if team:
                fields["team"] = team
        return fields

    async def _find(self, marker: str) -> Ticket | None:
        query = {self._settings.idempotency_filter: marker, "pageinate": "true"}
        rows, _ = unwrap(
            await self._client.get("/Tickets", {**query, "page_size": 10, "page_no": 1}),
            self._settings.key("/Tickets"),
            "/Tickets",
        )
        candidates = [row for row in rows if isinstance(row, dict)]
        for row in candidates:
            if row.get("third_party_id_string") == marker:
                return await self._ticket(row)
        # Rows without the field: the filter matched them, or Halo ignored it. Check a few.
        unchecked = [row for row in candidates if "third_party_id_string" not in row]
        for row in unchecked if len(unchecked) <= 3 else ():
            detail = await self._client.get(f"/Tickets/{row.get('id')}", {"includedetails": "true"})
            if isinstance(detail, dict) and detail.get("third_party_id_string") == marker:
                return await self._ticket(detail)
        return None

    async def _ticket(self, raw: dict[str, Any]) -> Ticket:
        try:
            row = wire.structure(raw, wire.Ticket)
            if mapping.parse_time(row.dateoccurred) is None and row.id:
                # A write may answer with a partial object: read the ticket back.
                raw = one(await self._client.get(f"/Tickets/{row.id}", {"includedetails": "true"}))
                row = wire.structure(raw, wire.Ticket)
            return mapping.ticket(
                row,
                base_url=self._client.account.base_url,
                names=await self._references.names(),
                closed_status_ids=self._settings.closed_status_ids,
            )
        except UNREADABLE as error:
            raise VendorRejected(f"HaloPSA returned an unexpected ticket: {error}") from error


def _vendor_id(value: str) -> int | str:
    """Halo's ids are numbers; anything else is passed on for Halo to judge (``isdigit`` alone
    would take ``²``, which ``int`` refuses)."""
    digits = value.strip()
    return int(digits) if digits.isascii() and digits.isdigit() else value


def _same_text(left: str, right: str) -> bool:
    return " ".join(left.split()) == " ".join(right.split())
