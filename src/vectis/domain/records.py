"""The unified model: what every connector's vendor objects become inside Vectis.

Each record carries the vendor's own id (``id``, a string) and, where it belongs to a customer,
the vendor's id of that company or organisation (``company_id``); the integration's customer
mapping ties those to Vectis customers. Times are timezone-aware. Connectors build these inside
their adapter, so vendor JSON never travels further.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Generic, TypeVar
from uuid import UUID

from attrs import field, frozen

from vectis.domain.errors import InvalidValue
from vectis.domain.events import InboundEvent


def _aware(value: datetime | None, what: str) -> None:
    if value is not None and value.tzinfo is None:
        raise InvalidValue(f"{what} must carry a time zone")


@frozen(kw_only=True)
class Named:
    """A vendor's reference to a board, status, priority or member: its id and display name."""

    id: str
    name: str


class ReferenceKind:
    BOARD = "board"
    STATUS = "status"
    PRIORITY = "priority"
    MEMBER = "member"


@frozen(kw_only=True)
class Reference:
    """One choice an operator can pick when writing to a PSA (a board, status, priority…)."""

    kind: str
    id: str
    name: str
    closed: bool = False
    """For statuses: whether a ticket in this status counts as closed."""


@frozen(kw_only=True)
class VendorCompany:
    """A vendor's company/client/organisation: what the customer mapping ties to a customer."""

    id: str
    name: str
    identifier: str = ""
    updated_at: datetime | None = None


@frozen(kw_only=True)
class VendorSite:
    id: str
    company_id: str
    name: str
    updated_at: datetime | None = None


@frozen(kw_only=True)
class Contact:
    id: str
    company_id: str
    name: str
    email: str = ""
    phone: str = ""
    updated_at: datetime | None = None


class SlaState:
    """Where a ticket stands against its service-level targets."""

    ON_TRACK = "on_track"
    BREACHED = "breached"
    MET = "met"


@frozen(kw_only=True)
class TicketSla:
    """A ticket's service-level targets as its PSA keeps them, and what the PSA knows of
    meeting them. ``in_sla`` is the vendor's own verdict where it gives one (ConnectWise's
    ``isInSla``); otherwise the state follows from the times."""

    name: str = ""
    respond_by: datetime | None = None
    responded_at: datetime | None = None
    resolve_by: datetime | None = None
    in_sla: bool | None = None

    def __attrs_post_init__(self) -> None:
        for name in ("respond_by", "responded_at", "resolve_by"):
            _aware(getattr(self, name), f"an SLA's {name}")

    @property
    def known(self) -> bool:
        """Whether the vendor said anything about the SLA at all."""
        return any(
            value is not None
            for value in (self.respond_by, self.responded_at, self.resolve_by, self.in_sla)
        )

    def due(self) -> datetime | None:
        """The next target still to meet: the response until there is one, then resolution."""
        if self.responded_at is None and self.respond_by is not None:
            return self.respond_by
        return self.resolve_by

    def state(self, now: datetime, *, closed_at: datetime | None) -> str | None:
        """``SlaState`` at ``now`` for a ticket closed at ``closed_at`` (``None``: still open)."""
        if not self.known:
            return None
        late_response = self.respond_by is not None and (
            (self.responded_at or closed_at or now) > self.respond_by
        )
        late_resolution = self.resolve_by is not None and (closed_at or now) > self.resolve_by
        if self.in_sla is False or late_response or late_resolution:
            return SlaState.BREACHED
        return SlaState.MET if closed_at is not None else SlaState.ON_TRACK


@frozen(kw_only=True)
class Ticket:
    """A PSA ticket; ``number`` is what the vendor shows people, ``url`` its console page."""

    id: str
    company_id: str | None
    summary: str
    opened_at: datetime
    updated_at: datetime
    number: str = ""
    description: str = ""
    board: Named | None = None
    status: Named | None = None
    priority: Named | None = None
    owner: Named | None = None
    contact_id: str | None = None
    site_id: str | None = None
    closed: bool = False
    closed_at: datetime | None = None
    url: str = ""
    sla: TicketSla | None = None

    def __attrs_post_init__(self) -> None:
        if not self.id:
            raise InvalidValue("a ticket needs the vendor's id")
        for name in ("opened_at", "updated_at", "closed_at"):
            _aware(getattr(self, name), f"a ticket's {name}")

    def sla_state(self, now: datetime) -> str | None:
        """``SlaState`` at ``now``; a closed ticket whose PSA gave no closing time counts as
        closed when it last changed."""
        if self.sla is None:
            return None
        closed_at = self.closed_at or (self.updated_at if self.closed else None)
        return self.sla.state(now, closed_at=closed_at)


@frozen(kw_only=True)
class TicketNote:
    """A note, reply or action on a ticket; ``from_customer`` marks the customer's replies."""

    id: str
    ticket_id: str
    text: str
    internal: bool
    created_at: datetime | None = None
    author: str = ""
    from_customer: bool = False

    def __attrs_post_init__(self) -> None:
        _aware(self.created_at, "a note's created_at")


@frozen(kw_only=True)
class ContractLine:
    id: str
    description: str
    quantity: Decimal = Decimal(1)
    unit_price: Decimal | None = None


def _lines(lines: Iterable[ContractLine]) -> tuple[ContractLine, ...]:
    return tuple(lines)


@frozen(kw_only=True)
class Contract:
    """A PSA agreement/contract with its billable lines."""

    id: str
    company_id: str
    name: str
    kind: str = ""
    status: str = "active"
    starts_on: date | None = None
    ends_on: date | None = None
    lines: Sequence[ContractLine] = field(factory=tuple, converter=_lines)
    updated_at: datetime | None = None


class PatchState:
    UP_TO_DATE = "up_to_date"
    PENDING = "pending"
    FAILED = "failed"
    UNKNOWN = "unknown"


class AvState:
    PROTECTED = "protected"
    OUTDATED = "outdated"
    DISABLED = "disabled"
    UNKNOWN = "unknown"


@frozen(kw_only=True)
class Device:
    """A managed endpoint as an RMM (or a PSA's configuration items) knows it."""

    id: str
    company_id: str | None
    name: str
    kind: str = ""
    os: str = ""
    site: str = ""
    online: bool | None = None
    last_seen_at: datetime | None = None
    patch_state: str = PatchState.UNKNOWN
    patches_pending: int = 0
    av_state: str = AvState.UNKNOWN
    av_definitions_at: datetime | None = None
    updated_at: datetime | None = None
    url: str = ""

    def __attrs_post_init__(self) -> None:
        _aware(self.last_seen_at, "a device's last_seen_at")


class Severity:
    """Alert severities, most urgent first; connectors map the vendor's scale onto these.

    ``UNKNOWN`` is for an alert whose vendor gave no severity (or one Vectis cannot read): it
    comes last, and no connector guesses a severity instead.
    """

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"
    UNKNOWN = "unknown"
    ORDER = (CRITICAL, HIGH, MEDIUM, LOW, INFO, UNKNOWN)


class AlertState:
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


@frozen(kw_only=True)
class Alert:
    id: str
    company_id: str | None
    message: str
    severity: str
    raised_at: datetime
    state: str = AlertState.OPEN
    device_id: str | None = None
    source: str = ""
    updated_at: datetime | None = None
    url: str = ""

    def __attrs_post_init__(self) -> None:
        if self.severity not in Severity.ORDER:
            raise InvalidValue(f"unknown alert severity {self.severity!r}")
        _aware(self.raised_at, "an alert's raised_at")


@frozen(kw_only=True)
class Deletion:
    """The vendor says an object is gone: ``record_type`` is ``ticket``, ``alert``, …"""

    record_type: str
    id: str


SyncedRecord = (
    Reference
    | VendorCompany
    | VendorSite
    | Contact
    | Ticket
    | TicketNote
    | Contract
    | Device
    | Alert
    | Deletion
    | InboundEvent
)
"""What a sync stream yields. ``InboundEvent`` carries activity that is only an event (a patch
cycle, an AV definition update); the rest are upserted and become events when they change."""


@frozen(kw_only=True)
class SkippedRecord:
    """A vendor object the connector could not read; the sync reports it and goes on."""

    stream: str
    reason: str
    vendor_id: str | None = None


def _records(records: Iterable[SyncedRecord]) -> tuple[SyncedRecord, ...]:
    return tuple(records)


def _skipped(skipped: Iterable[SkippedRecord]) -> tuple[SkippedRecord, ...]:
    return tuple(skipped)


@frozen(kw_only=True)
class SyncBatch:
    """One page of a stream, mapped.

    ``cursor`` is where the next sync of this stream resumes if it stops after this batch is
    stored (the vendor's updated-since value or its own cursor); ``None`` leaves it unchanged.
    """

    records: Sequence[SyncedRecord] = field(factory=tuple, converter=_records)
    skipped: Sequence[SkippedRecord] = field(factory=tuple, converter=_skipped)
    cursor: str | None = None


@frozen(kw_only=True)
class TicketDraft:
    """A ticket to create; ids are the vendor's (a company, board, priority…)."""

    company_id: str
    summary: str
    description: str = ""
    board_id: str | None = None
    priority_id: str | None = None
    status_id: str | None = None

    def __attrs_post_init__(self) -> None:
        if not self.company_id.strip():
            raise InvalidValue("a new ticket needs the customer's company in the PSA")
        if not self.summary.strip():
            raise InvalidValue("a new ticket needs a summary")
        if len(self.summary) > 200:
            raise InvalidValue("a ticket summary must be at most 200 characters")


@frozen(kw_only=True)
class TicketChange:
    """Fields of a ticket to change; ``None`` leaves a field as it is."""

    status_id: str | None = None
    priority_id: str | None = None
    board_id: str | None = None
    owner_id: str | None = None

    def __attrs_post_init__(self) -> None:
        if not any((self.status_id, self.priority_id, self.board_id, self.owner_id)):
            raise InvalidValue("a ticket update must change at least one field")


T = TypeVar("T")


@frozen(kw_only=True)
class Held(Generic[T]):
    """A synced record together with the integration it came from."""

    integration_id: UUID
    record: T
