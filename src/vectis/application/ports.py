"""Outbound ports the use cases need, other than the unit of work and its repositories."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol, TypeVar
from uuid import UUID

from attrs import frozen

from vectis.domain.events import InboundEvent
from vectis.domain.integration import Credentials, Integration, VendorInfo, capability

P = TypeVar("P")


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""
        ...


class PasswordHasher(Protocol):
    """Password hashes, slow on purpose: awaited, so the event loop keeps serving meanwhile."""

    async def hash(self, password: str) -> str: ...

    async def verify(self, password_hash: str, password: str) -> bool:
        """Whether ``password`` matches; never raises for a wrong password."""
        ...

    def needs_rehash(self, password_hash: str) -> bool: ...


class SecretBox(Protocol):
    """Authenticated encryption of secrets at rest, bound to a context (e.g. the row id)."""

    def seal(self, plaintext: bytes, *, context: bytes) -> bytes: ...

    def open(self, sealed: bytes, *, context: bytes) -> bytes: ...


class JobQueue(Protocol):
    """Defers background jobs on the unit of work's own connection and transaction."""

    async def defer(
        self,
        task_name: str,
        arguments: Mapping[str, Any],
        *,
        queueing_lock: str | None = None,
        lock: str | None = None,
    ) -> bool:
        """Queue a job; ``False`` when a job with the same queueing lock is already waiting."""
        ...


@capability("sends no webhooks Vectis reads")
class WebhookParser(Protocol):
    """Checks a vendor's delivery for authenticity and reads the events it carries."""

    async def parse(
        self, headers: Mapping[str, str], body: bytes, received_at: datetime
    ) -> list[InboundEvent]:
        """Raise ``WebhookRejected`` for a forged, stale or malformed delivery."""
        ...


@capability("cannot push changes to Vectis")
class WebhookSubscriptions(Protocol):
    """Registers Vectis's receiver with the vendor, so changes are pushed, not polled."""

    async def ensure_subscribed(self, receiver_url: str) -> str:
        """Register the receiver unless it already is; return the vendor's subscription id."""
        ...


class UrlPolicy(Protocol):
    """Decides which vendor base URLs an operator may point an integration at."""

    async def check_base_url(self, url: str) -> str:
        """Return the URL normalised, or raise ``InvalidValue`` saying why it is refused."""
        ...


class AuditChainer(Protocol):
    """Links a tenant's pending audit entries onto its hash chain."""

    async def seal(self, tenant_id: UUID) -> int: ...


class Connectors(Protocol):
    """Builds the vendor gateway that offers a capability for one integration.

    A capability is its port Protocol (``Ticketing``, ``Alerting``, ``SyncSource``,
    ``WebhookParser``, ``WebhookSubscriptions``…): each vendor declares the ones it offers.
    """

    def vendors(self) -> list[VendorInfo]:
        """The vendors Vectis can connect, and what connecting each one asks for."""
        ...

    async def check_credentials(self, integration: Integration, credentials: Credentials) -> str:
        """One cheap authenticated call (the integration need not be stored yet); return a
        label for the account, or raise ``VendorError``."""
        ...

    def port(self, port: type[P], integration: Integration, credentials: Credentials) -> P:
        """The integration's gateway offering ``port``; ``VendorRejected`` naming the vendor and
        the capability when its connector offers no such thing."""
        ...


@frozen(kw_only=True)
class Readiness:
    """Whether the database answers and its schema is the one this code expects."""

    database_ok: bool
    schema_current: bool
    detail: str

    @property
    def ready(self) -> bool:
        return self.database_ok and self.schema_current


class DatabaseProbe(Protocol):
    async def readiness(self) -> Readiness: ...
