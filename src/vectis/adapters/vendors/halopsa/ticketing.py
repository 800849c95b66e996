"""HaloPSA tickets written back: ``POST /Tickets`` and ``POST /Actions`` with array bodies."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from vectis.adapters.vendors._kit.markers import marker
from vectis.adapters.vendors._kit.records import UNREADABLE
from vectis.adapters.vendors.halopsa import mapping, wire
from vectis.adapters.vendors.halopsa.client import HaloClient, one
from vectis.adapters.vendors.halopsa.settings import HaloSettings
from vectis.adapters.vendors.halopsa.sync import HaloReferences, actions
from vectis.domain.errors import VendorRejected
from vectis.domain.records import Ticket, TicketChange, TicketDraft, TicketNote


class HaloTicketing:
    """``Ticketing`` on HaloPSA.

    Idempotency: a new ticket carries the key's marker in ``third_party_id_string``; before
    creating, the client's tickets opened in the last ``create_lookback_hours`` are read
    newest first (``client_id`` and ``order`` are documented ``GET /Tickets`` parameters; a
    filter on the marker is not) and one with the same summary and the marker is the ticket an
    earlier attempt made. An update sets absolute values, so repeating it is harmless; a note
    is not posted again when the ticket already has one with the same text and visibility from
    the last ``note_dedupe_minutes`` (Halo actions have no external reference to filter on).
    """

    def __init__(self, client: HaloClient, settings: HaloSettings) -> None:
        self._client = client
        self._settings = settings
        self._references = HaloReferences(client, settings)

    async def create_ticket(self, draft: TicketDraft, *, idempotency_key: str) -> Ticket:
        tag = marker(idempotency_key)
        existing = await self._made_earlier(draft, tag)
        if existing is not None:
            return existing
        fields = await self._fields(draft.status_id, draft.priority_id, draft.board_id, None)
        body = mapping.new_ticket(
            draft, marker=tag, ticket_type_id=self._settings.ticket_type_id, fields=fields
        )
        return await self._ticket(one(await self._client.post("/Tickets", [body])))

    async def update_ticket(
        self, ticket_id: str, change: TicketChange, *, idempotency_key: str
    ) -> Ticket:
        fields = await self._fields(
            change.status_id, change.priority_id, change.board_id, change.owner_id
        )
        body = mapping.ticket_change(ticket_id, fields)
        return await self._ticket(one(await self._client.post("/Tickets", [body])))

    async def add_note(
        self, ticket_id: str, text: str, *, internal: bool, idempotency_key: str
    ) -> TicketNote:
        if self._settings.note_dedupe_minutes > 0:
            since = self._client.clock.now() - timedelta(minutes=self._settings.note_dedupe_minutes)
            notes, _ = await actions(self._client, self._settings, ticket_id)
            for earlier in notes:
                if (
                    mapping.same_text(earlier.text, text)
                    and earlier.internal == internal
                    and earlier.created_at is not None
                    and earlier.created_at >= since
                ):
                    return earlier
        settings = self._settings
        outcome = settings.note_outcome_internal if internal else settings.note_outcome_public
        body = mapping.new_action(ticket_id, text, internal=internal, outcome=outcome)
        answer = one(await self._client.post("/Actions", [body]))
        created = {"ticket_id": body["ticket_id"], **answer}
        try:
            action = wire.structure(created, wire.Action)
            return mapping.note(action, customer_who_types=settings.customer_who_types)
        except UNREADABLE as error:
            raise VendorRejected(f"HaloPSA returned an unexpected action: {error}") from error

    async def _made_earlier(self, draft: TicketDraft, tag: str) -> Ticket | None:
        """The ticket an earlier attempt under this marker created, if Halo has it.

        UNCONFIRMED: that Halo lists or details ``third_party_id_string`` (a ``Faults`` field
        of the swagger; Halo's captured create answer leaves it out). A row that does not
        carry the field is read again in full (``GET /Tickets/{id}``); only rows with the
        draft's summary are candidates, so few are.
        """
        floor = self._client.clock.now() - timedelta(hours=self._settings.create_lookback_hours)
        async for rows in self._client.newest_first(
            "/Tickets",
            {"client_id": mapping.vendor_id(draft.company_id)},
            key=self._settings.key("/Tickets"),
            order="dateoccurred",
            stamp=lambda raw: mapping.listed_time(raw, "dateoccurred"),
            floor=floor,
            page_size=self._settings.page_size,
        ):
            for listed in rows:
                raw = listed
                try:
                    row = wire.structure(raw, wire.Ticket)
                except UNREADABLE:
                    continue  # not a ticket Vectis could have made
                opened = mapping.parse_time(row.dateoccurred)
                if (opened is not None and opened < floor) or not mapping.same_text(
                    row.summary or "", draft.summary
                ):
                    continue
                if row.third_party_id_string is None:
                    raw = await self._detail(row.id)
                    try:
                        row = wire.structure(raw, wire.Ticket)
                    except UNREADABLE:
                        continue
                if row.third_party_id_string == tag:
                    return await self._ticket(raw)
        return None

    async def _fields(
        self, status: str | None, priority: str | None, board: str | None, owner: str | None
    ) -> dict[str, Any]:
        teams = (await self._references.names()).teams if board else {}
        return mapping.ticket_fields(
            status=status, priority=priority, owner=owner, board=board, teams=teams
        )

    async def _detail(self, ticket_id: int) -> dict[str, Any] | None:
        answer = await self._client.get(f"/Tickets/{ticket_id}", {"includedetails": "true"})
        return answer if isinstance(answer, dict) else None

    async def _ticket(self, raw: dict[str, Any]) -> Ticket:
        try:
            row = wire.structure(raw, wire.Ticket)
            if mapping.parse_time(row.dateoccurred) is None and row.id:
                # A write may answer with a partial object: read the ticket back.
                row = wire.structure(one(await self._detail(row.id)), wire.Ticket)
            return mapping.ticket(
                row,
                base_url=self._client.account.base_url,
                names=await self._references.names(),
                closed_status_ids=self._settings.closed_status_ids,
            )
        except UNREADABLE as error:
            raise VendorRejected(f"HaloPSA returned an unexpected ticket: {error}") from error
