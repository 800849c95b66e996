"""The ticketing capability every PSA connector offers, in Vectis's own words."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from attrs import frozen


@frozen(kw_only=True)
class TicketNote:
    """A note or reply on a PSA ticket."""

    id: str
    ticket_id: str
    text: str
    internal: bool
    created_at: datetime | None = None


class Ticketing(Protocol):
    """Reads and writes tickets in a PSA (ConnectWise Manage, Autotask, HaloPSA)."""

    async def add_note(
        self, ticket_id: str, text: str, *, internal: bool, idempotency_key: str
    ) -> TicketNote:
        """Add a note to a ticket; ``idempotency_key`` lets a retry find an earlier attempt."""
        ...
