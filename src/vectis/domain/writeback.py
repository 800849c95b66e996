"""Write-backs: changes Vectis makes in a vendor system on someone's behalf.

Each action is an attrs class in the ``WriteBackAction`` union; the application layer holds one
handler per action type, and the single write-back job dispatches through that table. An action's
``target_kind`` names the kind of vendor record its ``target_id`` is the id of, so the vendor's id
form can be checked when the write-back is requested.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

from attrs import field, frozen

from vectis.domain.audit import Actor
from vectis.domain.errors import InvalidValue
from vectis.domain.records import TicketChange, TicketDraft


@frozen(kw_only=True)
class AddTicketNote:
    """Add a note or reply to a PSA ticket."""

    target_kind: ClassVar[str | None] = "ticket"
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


def _vendor_id(value: str | None, what: str) -> str | None:
    if value is None:
        return None
    value = str(value).strip()
    if not value or len(value) > 100:
        raise InvalidValue(f"{what} must be a vendor id of 1 to 100 characters")
    return value


@frozen(kw_only=True)
class CreateTicket:
    """Open a ticket in a PSA for a customer (``company_id`` is the PSA's id for it)."""

    target_kind: ClassVar[str | None] = "company"
    company_id: str
    summary: str
    description: str = ""
    board_id: str | None = None
    priority_id: str | None = None

    def __attrs_post_init__(self) -> None:
        self.draft  # noqa: B018 - validates

    @property
    def draft(self) -> TicketDraft:
        return TicketDraft(
            company_id=self.company_id,
            summary=self.summary,
            description=self.description,
            board_id=_vendor_id(self.board_id, "a board"),
            priority_id=_vendor_id(self.priority_id, "a priority"),
        )

    @property
    def target_id(self) -> str:
        return self.company_id


@frozen(kw_only=True)
class UpdateTicket:
    """Change a PSA ticket's status, priority, board or owner."""

    target_kind: ClassVar[str | None] = "ticket"
    ticket_id: str
    status_id: str | None = None
    priority_id: str | None = None
    board_id: str | None = None
    owner_id: str | None = None

    def __attrs_post_init__(self) -> None:
        _vendor_id(self.ticket_id, "a ticket")
        self.change  # noqa: B018 - validates

    @property
    def change(self) -> TicketChange:
        return TicketChange(
            status_id=_vendor_id(self.status_id, "a status"),
            priority_id=_vendor_id(self.priority_id, "a priority"),
            board_id=_vendor_id(self.board_id, "a board"),
            owner_id=_vendor_id(self.owner_id, "an owner"),
        )

    @property
    def target_id(self) -> str:
        return self.ticket_id


@frozen(kw_only=True)
class ResetAlert:
    """Acknowledge an RMM alert by resetting it (NinjaOne's ``/alert/{uid}/reset``)."""

    target_kind: ClassVar[str | None] = "alert"
    alert_id: str

    def __attrs_post_init__(self) -> None:
        _vendor_id(self.alert_id, "an alert")

    @property
    def target_id(self) -> str:
        return self.alert_id


@frozen(kw_only=True)
class SubscribeWebhooks:
    """Ask the vendor to push changes to Vectis's receiver for this integration."""

    target_kind: ClassVar[str | None] = None
    receiver_url: str

    def __attrs_post_init__(self) -> None:
        if not self.receiver_url.startswith(("https://", "http://")):
            raise InvalidValue("a webhook receiver must be an http(s) URL")

    @property
    def target_id(self) -> str:
        return self.receiver_url


WriteBackAction = CreateTicket | UpdateTicket | AddTicketNote | ResetAlert | SubscribeWebhooks
ACTION_NAMES: Mapping[type[WriteBackAction], str] = {
    CreateTicket: "ticket.create",
    UpdateTicket: "ticket.update",
    AddTicketNote: "ticket.add_note",
    ResetAlert: "alert.reset",
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
