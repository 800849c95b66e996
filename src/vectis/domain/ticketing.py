"""The ticketing capability every PSA connector offers, in Vectis's own words."""

from __future__ import annotations

from typing import Protocol

from vectis.domain.integration import capability
from vectis.domain.records import Ticket, TicketChange, TicketDraft, TicketNote


@capability("has no tickets Vectis can write to")
class Ticketing(Protocol):
    """Reads and writes tickets in a PSA (ConnectWise Manage, Autotask, HaloPSA).

    Every write takes the write-back's ``idempotency_key``: a retry after a crash (the vendor
    acted, Vectis never heard) must find the earlier result instead of acting twice.
    """

    async def create_ticket(self, draft: TicketDraft, *, idempotency_key: str) -> Ticket: ...

    async def update_ticket(
        self, ticket_id: str, change: TicketChange, *, idempotency_key: str
    ) -> Ticket: ...

    async def add_note(
        self, ticket_id: str, text: str, *, internal: bool, idempotency_key: str
    ) -> TicketNote: ...
