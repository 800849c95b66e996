"""ConnectWise Manage write-backs: ``Ticketing`` and ``WebhookSubscriptions``."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from typing import Any

import cattrs
import httpx

from vectis.adapters.vendors._http.transport import RateLimit
from vectis.adapters.vendors.connectwise import mapping, wire
from vectis.adapters.vendors.connectwise.client import (
    ConnectWiseAccount,
    ConnectWiseClient,
    ConnectWiseOptions,
)
from vectis.adapters.vendors.connectwise.mapping import UnreadableRecordError
from vectis.application.ports import Clock
from vectis.domain.errors import VendorRejected
from vectis.domain.records import Ticket, TicketChange, TicketDraft, TicketNote

_SAFE_KEY = re.compile(r"[A-Za-z0-9._:-]{1,90}")
_UNREADABLE = (cattrs.BaseValidationError, UnreadableRecordError)


class ConnectWiseTicketing:
    """``Ticketing`` on ConnectWise: ``/service/tickets`` and its ``/notes``.

    Creating is idempotent through ``externalXRef``: the ticket carries a marker derived from
    the idempotency key, looked up before creating. Updating is a JSON-Patch of ``replace``
    operations, the same result however often it is sent. A note is looked for among the
    ticket's latest notes (same text and kind, by a member, recent) before it is added.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        account: ConnectWiseAccount,
        limit: RateLimit | None = None,
        options: ConnectWiseOptions | None = None,
        *,
        clock: Clock | None = None,
    ) -> None:
        self._client = ConnectWiseClient(http, account, limit, clock=clock)
        self._account = account
        self._options = options or ConnectWiseOptions()

    async def create_ticket(self, draft: TicketDraft, *, idempotency_key: str) -> Ticket:
        board_id = draft.board_id or self._options.default_board_id
        if not board_id:
            raise VendorRejected(
                "ConnectWise needs a board for a new ticket: choose one, or set the "
                "integration's default_board_id"
            )
        marker = external_reference(idempotency_key)
        earlier = await self._client.get(
            "/service/tickets",
            {"conditions": f'externalXRef="{marker}"', "orderBy": "id asc", "pageSize": 1},
        )
        if isinstance(earlier, list) and earlier:
            return self._ticket(earlier[0])
        body = mapping.new_ticket(draft, board_id=board_id, external_reference=marker)
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
        # A customer-facing reply is a "detail description" note; an internal one is
        # "internal analysis". ConnectWise has no idempotency header and notes no external
        # reference, so a retry looks for the note an earlier attempt may have added.
        if self._options.note_dedupe_minutes > 0:
            earlier = await self._earlier_note(ticket_id, text, internal=internal)
            if earlier is not None:
                return earlier
        body = {
            "text": text,
            "detailDescriptionFlag": not internal,
            "internalAnalysisFlag": internal,
            "resolutionFlag": False,
        }
        created = await self._client.add_ticket_note(ticket_id, body)
        return _note(created, ticket_id)

    async def _earlier_note(
        self, ticket_id: str, text: str, *, internal: bool
    ) -> TicketNote | None:
        recent = await self._client.get(
            f"/service/tickets/{ticket_id}/notes", {"orderBy": "id desc", "pageSize": 25}
        )
        since = self._client.clock.now() - timedelta(minutes=self._options.note_dedupe_minutes)
        for raw in recent if isinstance(recent, list) else []:
            try:
                note = _note(raw, ticket_id)
            except VendorRejected:
                continue
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
        except _UNREADABLE as error:
            raise VendorRejected(f"ConnectWise returned an unexpected ticket: {error}") from error


class ConnectWiseCallbackSubscriptions:
    """``WebhookSubscriptions`` on ConnectWise: one owner-level ticket callback per receiver."""

    def __init__(
        self, http: httpx.AsyncClient, account: ConnectWiseAccount, limit: RateLimit | None = None
    ) -> None:
        self._client = ConnectWiseClient(http, account, limit)

    async def ensure_subscribed(self, receiver_url: str) -> str:
        existing = await self._client.list_callbacks(f'url="{receiver_url}"')
        for callback in existing if isinstance(existing, list) else []:
            if callback.get("url") == receiver_url and not callback.get("inactiveFlag"):
                return str(callback["id"])
        created = await self._client.create_callback(
            {
                "url": receiver_url,
                "objectId": 1,
                "type": "ticket",
                "level": "owner",
                "payloadVersion": "3.0.0",
                "inactiveFlag": False,
                # Changes Vectis itself makes (its notes) do not echo back as callbacks.
                "isSelfSuppressedFlag": True,
            }
        )
        if not isinstance(created, dict) or "id" not in created:
            raise VendorRejected("ConnectWise did not return the new callback's id")
        return str(created["id"])


def external_reference(idempotency_key: str) -> str:
    """The ``externalXRef`` marking the ticket created for this key: at most 100 characters,
    and only characters a quoted condition value holds without escaping."""
    if _SAFE_KEY.fullmatch(idempotency_key):
        return f"vectis:{idempotency_key}"
    return "vectis:" + hashlib.sha256(idempotency_key.encode()).hexdigest()


def _note(document: Any, ticket_id: str) -> TicketNote:
    try:
        return mapping.ticket_note(wire.structure(document, wire.TicketNote), ticket_id)
    except _UNREADABLE as error:
        raise VendorRejected(f"ConnectWise returned an unexpected note: {error}") from error


def _same_text(stored: str, sent: str) -> bool:
    return stored.replace("\r\n", "\n").strip() == sent.replace("\r\n", "\n").strip()
