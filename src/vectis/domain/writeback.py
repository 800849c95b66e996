"""Write-backs: changes Vectis makes in a vendor system on someone's behalf.

Each action is an attrs class in the ``WriteBackAction`` union; the application layer holds one
handler per action type, and the single write-back job dispatches through that table.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from attrs import field, frozen

from vectis.domain.audit import Actor
from vectis.domain.errors import InvalidValue


@frozen(kw_only=True)
class AddTicketNote:
    """Add a note or reply to a PSA ticket."""

    ticket_id: str
    text: str
    internal: bool = False

    def __attrs_post_init__(self) -> None:
        if not self.ticket_id.strip():
            raise InvalidValue("a ticket note needs the ticket's id")
        if not self.text.strip():
            raise InvalidValue("a ticket note must not be empty")
        if len(self.text) > 10_000:
            raise InvalidValue("a ticket note must be at most 10,000 characters")

    @property
    def target_id(self) -> str:
        return self.ticket_id


@frozen(kw_only=True)
class SubscribeWebhooks:
    """Ask the vendor to push changes to Vectis's receiver for this integration."""

    receiver_url: str

    def __attrs_post_init__(self) -> None:
        if not self.receiver_url.startswith(("https://", "http://")):
            raise InvalidValue("a webhook receiver must be an http(s) URL")

    @property
    def target_id(self) -> str:
        return self.receiver_url


WriteBackAction = AddTicketNote | SubscribeWebhooks
ACTION_NAMES: Mapping[type[WriteBackAction], str] = {
    AddTicketNote: "ticket.add_note",
    SubscribeWebhooks: "webhooks.subscribe",
}


class WriteBackStatus(enum.StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"

    @property
    def is_final(self) -> bool:
        return self in {WriteBackStatus.SUCCEEDED, WriteBackStatus.FAILED}


@frozen(kw_only=True)
class WriteBack:
    """One requested change to a vendor system and how it went."""

    id: UUID
    tenant_id: UUID
    integration_id: UUID
    action: WriteBackAction
    idempotency_key: str
    requested_by: Actor
    requested_at: datetime
    status: WriteBackStatus = WriteBackStatus.PENDING
    attempts: int = 0
    finished_at: datetime | None = None
    result: Mapping[str, Any] = field(factory=dict)
    error: str | None = None

    @property
    def action_name(self) -> str:
        return ACTION_NAMES[type(self.action)]
