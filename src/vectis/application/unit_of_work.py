"""The unit of work and the repositories it carries.

A use case opens one unit of work, bound to one tenant, does its reads and writes, appends its
audit entries and defers its jobs on it, then commits once: all of it lands, or none of it.
Leaving the block without ``commit()`` rolls everything back.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import date, datetime, timedelta
from typing import Any, Protocol
from uuid import UUID

from attrs import frozen

from vectis.application.ports import JobQueue
from vectis.domain.audit import AuditEntry, AuditRecord, ChainHead
from vectis.domain.customer import Customer, Site
from vectis.domain.events import Event, InboundEvent
from vectis.domain.identity import OperatorSession, PersonalAccessToken
from vectis.domain.integration import Integration
from vectis.domain.listing import Listed, ListQuery
from vectis.domain.notes import CustomerNote, NoteRevision
from vectis.domain.records import (
    Alert,
    Contract,
    Device,
    Held,
    Reference,
    Ticket,
    TicketNote,
    VendorCompany,
)
from vectis.domain.sign_in_throttle import SignInAttempt, SignInLock, ThrottleRules
from vectis.domain.sync import SyncRun
from vectis.domain.tenancy import Operator, Tenant
from vectis.domain.timeline import TimelineQuery
from vectis.domain.writeback import WriteBack


@frozen(kw_only=True)
class InboxItem:
    """An inbound event waiting to become part of the event stream."""

    id: int
    integration_id: UUID
    received_at: datetime
    event: InboundEvent


class TenantRepository(Protocol):
    async def add(self, tenant: Tenant) -> None: ...
    async def get(self, tenant_id: UUID) -> Tenant | None: ...
    async def get_by_slug(self, slug: str) -> Tenant | None: ...
    async def ids(self) -> list[UUID]:
        """Every tenant's id (and nothing else of them), for the jobs that visit each."""
        ...

    async def set_branding(
        self,
        tenant_id: UUID,
        *,
        accent_color: str | None,
        logo: tuple[bytes, str] | None,
        keep_logo: bool,
    ) -> None: ...
    async def logo(self, tenant_id: UUID) -> tuple[bytes, str] | None:
        """The logo's bytes and media type."""
        ...


class CustomerRepository(Protocol):
    async def add(self, customer: Customer) -> None: ...
    async def add_site(self, site: Site) -> None: ...
    async def get(self, customer_id: UUID) -> Customer | None: ...
    async def get_by_slug(self, slug: str) -> Customer | None: ...
    async def find(self, *, search: str | None = None, limit: int = 500) -> list[Customer]: ...


class OperatorRepository(Protocol):
    async def add(self, operator: Operator, password_hash: str) -> None: ...
    async def get(self, operator_id: UUID) -> Operator | None: ...
    async def find_for_login(self, email: str) -> tuple[Operator, str] | None:
        """Look an operator up by e-mail across tenants (sign-in precedes knowing the tenant)."""
        ...

    async def set_password(self, operator_id: UUID, password_hash: str) -> None: ...
    async def set_time_zone(self, operator_id: UUID, zone: str) -> None: ...


class TokenRepository(Protocol):
    async def add(self, token: PersonalAccessToken, digest: bytes) -> None: ...
    async def get(self, token_id: UUID) -> PersonalAccessToken | None: ...
    async def find_by_digest(self, digest: bytes) -> PersonalAccessToken | None:
        """Look a token up by its digest across tenants (the request names no tenant)."""
        ...

    async def revoke(self, token_id: UUID, at: datetime) -> None: ...
    async def touch(self, token_id: UUID, at: datetime) -> None: ...
    async def list_all(self, *, operator_id: UUID | None = None) -> list[PersonalAccessToken]: ...


class SessionRepository(Protocol):
    async def add(self, session: OperatorSession, digest: bytes) -> None: ...
    async def find_by_digest(self, digest: bytes) -> OperatorSession | None:
        """Look a session up by its digest across tenants (the cookie names no tenant)."""
        ...

    async def end(self, session_id: UUID, at: datetime) -> None: ...
    async def touch(self, session_id: UUID, at: datetime) -> None: ...


class LoginThrottleStore(Protocol):
    """Sign-in attempts counted per key, shared by all processes; no key can be listed."""

    async def reserve(
        self, attempt: SignInAttempt, rules: ThrottleRules, at: datetime
    ) -> timedelta | None:
        """Count the attempt as a failure under each of its keys and return ``None``, or
        refuse it and return how long to wait: one atomic step, before the password is
        checked, so parallel attempts cannot pass a limit."""
        ...

    async def succeeded(self, attempt: SignInAttempt, rules: ThrottleRules, at: datetime) -> None:
        """Forgive the account's failures from this address, and remember the address."""
        ...

    async def locks(self, rules: ThrottleRules, at: datetime) -> list[SignInLock]:
        """The bound tenant's operators with failed sign-ins in the window."""
        ...

    async def clear(self, operator_id: UUID) -> int:
        """Lift the bound tenant's operator's cool-down and per-address counts; how many
        counters were cleared."""
        ...


class AuditLog(Protocol):
    async def append(self, entry: AuditEntry) -> None:
        """Record an entry in the unit of work; it is stored with the commit and linked into
        the tenant's hash chain right after."""
        ...

    async def head(self) -> ChainHead | None: ...
    async def records_after(self, seq: int, *, up_to: int, limit: int) -> list[AuditRecord]:
        """Linked records with ``seq`` in (seq, up_to], in chain order."""
        ...

    async def latest(self, limit: int) -> list[AuditRecord]: ...
    async def unlinked(self, limit: int = 10) -> list[int]:
        """Ids of entries neither linked nor pending: someone removed their pending mark."""
        ...


class Staged(Protocol):
    """A batch copied aside in the unit of work, written when it is applied."""


class EventStream(Protocol):
    async def append(self, events: Sequence[Event]) -> list[int]:
        """Append events; one whose ``dedup_key`` the integration already has is dropped.
        Return the ids of those stored."""
        ...

    async def stage(self, events: Sequence[Event]) -> Staged | None:
        """``append`` in two steps: copy aside now (taking no locks)…"""
        ...

    async def apply(self, staged: Staged | None) -> list[int]:
        """…and append when ``apply`` is called."""
        ...

    async def timeline(self, query: TimelineQuery, *, look_ahead: int = 0) -> list[Event]:
        """Up to ``query.limit + look_ahead`` events of one customer, newest first, after
        ``query.after`` (``look_ahead`` rows past the page tell whether another page follows)."""
        ...

    async def daily_counts(
        self, customer_id: UUID, kinds: Collection[str], since: datetime, zone: str
    ) -> dict[date, dict[str, int]]:
        """How many events of each of ``kinds`` a customer had per local day since ``since``."""
        ...


class NoteRepository(Protocol):
    async def add(self, note: CustomerNote) -> CustomerNote:
        """Store a new note; if its idempotency key wrote one before, that note instead."""
        ...

    async def get(self, note_id: UUID, *, for_update: bool = False) -> CustomerNote | None: ...
    async def save(self, note: CustomerNote) -> None:
        """Store an edited note and its new text as the next revision."""
        ...

    async def for_customer(self, customer_id: UUID, *, limit: int) -> list[CustomerNote]: ...
    async def revisions(self, note_id: UUID) -> list[NoteRevision]:
        """Every text the note has had, newest first."""
        ...


class RecordStore(Protocol):
    """The unified model's records, keyed by (integration, vendor id)."""

    async def stage(
        self,
        integration_id: UUID,
        records: Sequence[Any],
        customer_ids: Mapping[str, UUID],
        at: datetime,
    ) -> Staged | None:
        """Store records of one type (``customer_ids`` by vendor id) in two steps: copy them
        aside now (taking no locks)…"""
        ...

    async def apply(self, staged: Staged | None) -> tuple[list[str], list[str]]:
        """…and write when ``apply`` is called; the vendor ids created and those changed
        (unchanged records are not written)."""
        ...

    async def stored(
        self, integration_id: UUID, record_type: str, vendor_ids: Collection[str]
    ) -> dict[str, Any]:
        """What changes of ``record_type`` (a ``RecordType.name``) are compared with: its
        ``StoredTicket`` or ``StoredAlert`` by vendor id."""
        ...

    async def resolve_missing_alerts(
        self, integration_id: UUID, seen: Collection[str], at: datetime
    ) -> list[Alert]: ...
    async def delete_missing(
        self, integration_id: UUID, record_type: str, seen: Collection[str], at: datetime
    ) -> int:
        """Mark deleted the rows of ``record_type`` that ``seen`` (keys as ``RecordType.key``
        makes them) does not name."""
        ...

    async def delete(
        self, integration_id: UUID, record_type: str, vendor_id: str, at: datetime
    ) -> bool: ...
    async def relink(self, integration_id: UUID, company_ref: str, customer_id: UUID) -> None: ...
    async def companies(self, integration_id: UUID) -> list[VendorCompany]: ...
    async def cursors(self, integration_id: UUID) -> dict[str, str]: ...
    async def save_cursor(
        self, integration_id: UUID, stream: str, cursor: str, at: datetime
    ) -> None: ...
    async def refresh_statistics(self, record_type: str) -> None:
        """Have the database count a record type's rows afresh, after a sync grew them."""
        ...


class RecordReader(Protocol):
    """Reads of the unified model for one customer."""

    async def ticket(self, integration_id: UUID, ticket_id: str) -> Held[Ticket] | None: ...
    async def notes(self, integration_id: UUID, ticket_id: str) -> list[TicketNote]: ...
    async def alert(self, integration_id: UUID, alert_id: str) -> Held[Alert] | None: ...
    async def contracts(self, customer_id: UUID) -> list[Held[Contract]]: ...
    async def references(self, integration_id: UUID) -> list[Reference]: ...
    async def customer_companies(self, customer_id: UUID) -> dict[UUID, str]:
        """For each integration, the vendor company linked to this customer."""
        ...


class RecordListings(Protocol):
    """The hub's tables and figures: sorted, filtered, keyset-paged, counted."""

    async def tickets(self, query: ListQuery) -> Listed[Held[Ticket]]: ...
    async def alerts(self, query: ListQuery) -> Listed[Held[Alert]]: ...
    async def devices(self, query: ListQuery) -> Listed[Held[Device]]: ...
    async def open_tickets_by_priority(self, customer_id: UUID) -> list[tuple[str, int]]: ...
    async def open_tickets_breaching_sla(self, customer_id: UUID) -> int: ...
    async def active_alerts_by_severity(self, customer_id: UUID) -> dict[str, int]: ...
    async def devices_by_patch_state(self, customer_id: UUID) -> dict[str, int]: ...
    async def health(self, customer_ids: Collection[UUID]) -> dict[UUID, tuple[int, int]]:
        """For each customer: open tickets and active alerts."""
        ...


class SyncRunRepository(Protocol):
    async def add(self, run: SyncRun) -> None: ...
    async def save(self, run: SyncRun) -> None: ...
    async def latest(self, integration_id: UUID, limit: int = 20) -> list[SyncRun]: ...
    async def last_started(self) -> dict[UUID, datetime]:
        """When each of the tenant's integrations last started a sync."""
        ...


class Inbox(Protocol):
    async def add(self, integration_id: UUID, events: Sequence[InboundEvent], at: datetime) -> int:
        """Store events not seen before for this integration; return how many were new."""
        ...

    async def claim(self, limit: int) -> list[InboxItem]:
        """Lock up to ``limit`` unprocessed items that no other worker holds."""
        ...

    async def mark_processed(self, item_ids: Sequence[int], at: datetime) -> None: ...


class IntegrationRepository(Protocol):
    async def add(self, integration: Integration, sealed_credentials: bytes) -> None: ...
    async def get(self, integration_id: UUID) -> Integration | None: ...
    async def find_for_webhook(self, integration_id: UUID) -> Integration | None:
        """Look an integration up across tenants (a webhook names only the integration)."""
        ...

    async def sealed_credentials(self, integration_id: UUID) -> bytes: ...
    async def list_all(self) -> list[Integration]: ...
    async def update_connection(
        self, integration_id: UUID, *, base_url: str, sealed_credentials: bytes
    ) -> None: ...
    async def record_health(
        self, integration_id: UUID, *, at: datetime, error: str | None
    ) -> None: ...
    async def link_customer(
        self, integration_id: UUID, company_ref: str, customer_id: UUID
    ) -> None: ...
    async def linked_customers(
        self, integration_id: UUID, company_refs: Sequence[str]
    ) -> dict[str, UUID]: ...
    async def customer_links(self, integration_id: UUID) -> dict[str, UUID]:
        """Every company of this integration linked to a customer."""
        ...


class WriteBackRepository(Protocol):
    async def add(self, writeback: WriteBack) -> WriteBack:
        """Store a new write-back, or return the one already stored under its idempotency key."""
        ...

    async def get(self, writeback_id: UUID, *, for_update: bool = False) -> WriteBack | None: ...
    async def save(self, writeback: WriteBack) -> None: ...


class UnitOfWork(Protocol):
    tenants: TenantRepository
    customers: CustomerRepository
    operators: OperatorRepository
    tokens: TokenRepository
    sessions: SessionRepository
    throttle: LoginThrottleStore
    audit: AuditLog
    events: EventStream
    notes: NoteRepository
    inbox: Inbox
    integrations: IntegrationRepository
    writebacks: WriteBackRepository
    records: RecordStore
    reader: RecordReader
    listings: RecordListings
    sync_runs: SyncRunRepository
    jobs: JobQueue

    @property
    def tenant_id(self) -> UUID | None: ...

    async def bind_tenant(self, tenant_id: UUID) -> None:
        """Scope everything that follows to one tenant (row-level security does the rest)."""
        ...

    async def commit(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(
        self, tenant_id: UUID | None = None
    ) -> AbstractAsyncContextManager[UnitOfWork]: ...
