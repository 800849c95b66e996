"""ConnectWise Manage behind Vectis's capability ports."""

from __future__ import annotations

import cattrs
import httpx

from vectis.adapters.vendors._http.transport import RateLimit
from vectis.adapters.vendors.connectwise import mapping, wire
from vectis.adapters.vendors.connectwise.client import ConnectWiseAccount, ConnectWiseClient
from vectis.domain.errors import VendorRejected
from vectis.domain.ticketing import TicketNote


class ConnectWiseTicketing:
    """``Ticketing`` on ConnectWise: notes are ``/service/tickets/{id}/notes``."""

    def __init__(
        self, http: httpx.AsyncClient, account: ConnectWiseAccount, limit: RateLimit | None = None
    ) -> None:
        self._client = ConnectWiseClient(http, account, limit)

    async def add_note(
        self, ticket_id: str, text: str, *, internal: bool, idempotency_key: str
    ) -> TicketNote:
        # A customer-facing reply is a "detail description" note; an internal one is
        # "internal analysis". ConnectWise has no idempotency header, so retries of a POST
        # are left to the write-back service, which never repeats a finished write-back.
        body = {
            "text": text,
            "detailDescriptionFlag": not internal,
            "internalAnalysisFlag": internal,
            "resolutionFlag": False,
        }
        created = await self._client.add_ticket_note(ticket_id, body)
        try:
            return mapping.ticket_note(wire.structure(created, wire.TicketNote))
        except cattrs.BaseValidationError as error:
            raise VendorRejected(f"ConnectWise returned an unexpected note: {error}") from error


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
