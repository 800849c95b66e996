"""An in-memory unit of work and repositories for service tests that need no PostgreSQL.

State lives in a ``FakeDatabase`` a test can inspect. A unit of work works on a copy of it and
writes the copy back on ``commit()``, so leaving the block without committing drops everything,
as PostgreSQL's does. Each table keeps rows of every tenant; reads see the bound tenant's only
(row-level security, roughly) except the lookups the real ones make across tenants.
Repositories, RLS, jobs and the end-to-end slice are tested against real PostgreSQL; a service
reaching a repository faked here fails loudly with ``NotFaked``.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any
from uuid import UUID

import attrs
from attrs import define, field, frozen

from vectis.application.errors import Conflict, NotFound
from vectis.application.unit_of_work import InboxItem
from vectis.domain.audit import AuditEntry
from vectis.domain.customer import Customer, Site
from vectis.domain.events import Event, InboundEvent
from vectis.domain.identity import OperatorSession, PersonalAccessToken
from vectis.domain.integration import Integration
from vectis.domain.notes import CustomerNote, NoteRevision
from vectis.domain.sign_in_throttle import SignInAttempt, SignInLock, ThrottleRules
from vectis.domain.tenancy import Operator, Tenant
from vectis.domain.writeback import WriteBack


class NotFaked(AssertionError):
    """The service under test reached a repository this fake does not offer: test it against
    PostgreSQL instead."""


@frozen(kw_only=True)
class DeferredJob:
    task_name: str
    arguments: dict[str, Any]
    queueing_lock: str | None = None
    lock: str | None = None


@define
class FakeDatabase:
    """Every table the fakes keep: what committed units of work left behind."""

    tenants: dict[UUID, Tenant] = field(factory=dict)
    customers: dict[UUID, Customer] = field(factory=dict)
    operators: dict[UUID, tuple[Operator, str]] = field(factory=dict)
    tokens: dict[bytes, PersonalAccessToken] = field(factory=dict)
    sessions: dict[bytes, OperatorSession] = field(factory=dict)
    audit: list[AuditEntry] = field(factory=list)
    events: list[Event] = field(factory=list)
    integrations: dict[UUID, tuple[Integration, bytes]] = field(factory=dict)
    links: dict[tuple[UUID, str], UUID] = field(factory=dict)
    inbox: list[InboxItem] = field(factory=list)
    processed: set[int] = field(factory=set)
    writebacks: dict[UUID, WriteBack] = field(factory=dict)
    notes: dict[UUID, CustomerNote] = field(factory=dict)
    revisions: dict[UUID, list[NoteRevision]] = field(factory=dict)
    jobs: list[DeferredJob] = field(factory=list)
    commits: int = 0

    def actions(self) -> list[str]:
        """The committed audit entries' actions, oldest first."""
        return [entry.action for entry in self.audit]


class FakeUnitOfWorkFactory:
    """Opens fake units of work over one ``FakeDatabase``; ``fail_defer`` makes every job
    the queue is given refused, as a queue that is down would."""

    def __init__(self, database: FakeDatabase | None = None) -> None:
        self.database = database or FakeDatabase()
        self.fail_defer: Exception | None = None

    def __call__(self, tenant_id: UUID | None = None) -> FakeUnitOfWork:
        return FakeUnitOfWork(self, tenant_id)


class FakeUnitOfWork:
    def __init__(self, factory: FakeUnitOfWorkFactory, tenant_id: UUID | None) -> None:
        self._factory = factory
        self._tenant_id = tenant_id
        self.data = copy.deepcopy(factory.database)
        self.tenants = _Tenants(self)
        self.customers = _Customers(self)
        self.operators = _Operators(self)
        self.tokens = _Tokens(self)
        self.sessions = _Sessions(self)
        self.throttle = _NeverThrottled()
        self.audit = _Audit(self)
        self.events = _Events(self)
        self.integrations = _Integrations(self)
        self.inbox = _Inbox(self)
        self.writebacks = _WriteBacks(self)
        self.notes = _Notes(self)
        self.jobs = _Jobs(self)
        for name in ("records", "reader", "listings", "sync_runs"):
            setattr(self, name, _NotFaked(name))

    @property
    def tenant_id(self) -> UUID | None:
        return self._tenant_id

    async def bind_tenant(self, tenant_id: UUID) -> None:
        self._tenant_id = tenant_id

    async def commit(self) -> None:
        self.data.commits += 1
        self._factory.database = copy.deepcopy(self.data)

    async def __aenter__(self) -> FakeUnitOfWork:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        return None

    def mine(self, tenant_id: UUID) -> bool:
        return self._tenant_id is not None and tenant_id == self._tenant_id


class _Repository:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    @property
    def _data(self) -> FakeDatabase:
        return self._uow.data


class _Tenants(_Repository):
    async def add(self, tenant: Tenant) -> None:
        if any(t.slug == tenant.slug for t in self._data.tenants.values()):
            raise Conflict(f"a tenant with the slug {tenant.slug!r} already exists")
        self._data.tenants[tenant.id] = tenant

    async def get(self, tenant_id: UUID) -> Tenant | None:
        return self._data.tenants.get(tenant_id)

    async def get_by_slug(self, slug: str) -> Tenant | None:
        return next((t for t in self._data.tenants.values() if t.slug == slug), None)

    async def ids(self) -> list[UUID]:
        return list(self._data.tenants)


class _Customers(_Repository):
    async def add(self, customer: Customer) -> None:
        if any(c.slug == customer.slug for c in self._visible()):
            raise Conflict(f"a customer with the slug {customer.slug!r} already exists")
        self._data.customers[customer.id] = customer

    async def add_site(self, site: Site) -> None:
        customer = self._data.customers[site.customer_id]
        self._data.customers[customer.id] = attrs.evolve(customer, sites=(*customer.sites, site))

    async def get(self, customer_id: UUID) -> Customer | None:
        customer = self._data.customers.get(customer_id)
        return customer if customer and self._uow.mine(customer.tenant_id) else None

    async def get_by_slug(self, slug: str) -> Customer | None:
        return next((c for c in self._visible() if c.slug == slug), None)

    async def find(self, *, search: str | None = None, limit: int = 500) -> list[Customer]:
        found = [c for c in self._visible() if not search or search.lower() in c.name.lower()]
        return sorted(found, key=lambda c: c.name.lower())[:limit]

    def _visible(self) -> list[Customer]:
        return [c for c in self._data.customers.values() if self._uow.mine(c.tenant_id)]


class _Operators(_Repository):
    async def add(self, operator: Operator, password_hash: str) -> None:
        if any(o.email == operator.email for o, _ in self._data.operators.values()):
            raise Conflict(f"an operator with the e-mail address {operator.email} already exists")
        self._data.operators[operator.id] = (operator, password_hash)

    async def get(self, operator_id: UUID) -> Operator | None:
        found = self._data.operators.get(operator_id)
        return found[0] if found and self._uow.mine(found[0].tenant_id) else None

    async def find_for_login(self, email: str) -> tuple[Operator, str] | None:
        return next((o for o in self._data.operators.values() if o[0].email == email), None)

    async def set_password(self, operator_id: UUID, password_hash: str) -> None:
        operator, _ = self._data.operators[operator_id]
        self._data.operators[operator_id] = (operator, password_hash)

    async def set_time_zone(self, operator_id: UUID, zone: str) -> None:
        operator, hashed = self._data.operators[operator_id]
        self._data.operators[operator_id] = (attrs.evolve(operator, time_zone=zone), hashed)


class _Tokens(_Repository):
    async def add(self, token: PersonalAccessToken, digest: bytes) -> None:
        self._data.tokens[digest] = token

    async def get(self, token_id: UUID) -> PersonalAccessToken | None:
        return next((t for t in self._visible() if t.id == token_id), None)

    async def find_by_digest(self, digest: bytes) -> PersonalAccessToken | None:
        return self._data.tokens.get(digest)

    async def revoke(self, token_id: UUID, at: datetime) -> None:
        self._change(token_id, revoked_at=at)

    async def touch(self, token_id: UUID, at: datetime) -> None:
        self._change(token_id, last_used_at=at)

    async def list_all(self, *, operator_id: UUID | None = None) -> list[PersonalAccessToken]:
        return [t for t in self._visible() if operator_id in (None, t.operator_id)]

    def _visible(self) -> list[PersonalAccessToken]:
        return [t for t in self._data.tokens.values() if self._uow.mine(t.tenant_id)]

    def _change(self, token_id: UUID, **changes: Any) -> None:
        for digest, token in self._data.tokens.items():
            if token.id == token_id:
                self._data.tokens[digest] = attrs.evolve(token, **changes)


class _Sessions(_Repository):
    async def add(self, session: OperatorSession, digest: bytes) -> None:
        self._data.sessions[digest] = session

    async def find_by_digest(self, digest: bytes) -> OperatorSession | None:
        return self._data.sessions.get(digest)

    async def end(self, session_id: UUID, at: datetime) -> None:
        self._change(session_id, ended_at=at)

    async def touch(self, session_id: UUID, at: datetime) -> None:
        self._change(session_id, last_seen_at=at)

    def _change(self, session_id: UUID, **changes: Any) -> None:
        for digest, session in self._data.sessions.items():
            if session.id == session_id:
                self._data.sessions[digest] = attrs.evolve(session, **changes)


class _NeverThrottled:
    """A throttle that refuses no one (the real one is tested against PostgreSQL)."""

    async def reserve(
        self, attempt: SignInAttempt, rules: ThrottleRules, at: datetime
    ) -> timedelta | None:
        return None

    async def succeeded(self, attempt: SignInAttempt, rules: ThrottleRules, at: datetime) -> None:
        return None

    async def locks(self, rules: ThrottleRules, at: datetime) -> list[SignInLock]:
        return []

    async def clear(self, operator_id: UUID) -> int:
        return 0


class _Audit(_Repository):
    async def append(self, entry: AuditEntry) -> None:
        self._data.audit.append(entry)

    def __getattr__(self, name: str) -> Any:
        raise NotFaked(f"the fake audit log keeps entries only (no {name}); use PostgreSQL")


class _Events(_Repository):
    """The event stream, appended to only (its timeline reads are PostgreSQL's)."""

    async def append(self, events: Sequence[Event]) -> list[int]:
        keys = {(e.integration_id, e.dedup_key) for e in self._data.events if e.dedup_key}
        stored = []
        for event in events:
            if event.dedup_key and (event.integration_id, event.dedup_key) in keys:
                continue
            keys.add((event.integration_id, event.dedup_key))
            self._data.events.append(event)
            stored.append(len(self._data.events))
        return stored

    def __getattr__(self, name: str) -> Any:
        raise NotFaked(f"the fake event stream is appended to only (no {name}); use PostgreSQL")


class _Integrations(_Repository):
    async def add(self, integration: Integration, sealed_credentials: bytes) -> None:
        if any(i.name == integration.name for i in await self.list_all()):
            raise Conflict(f"an integration named {integration.name!r} already exists")
        self._data.integrations[integration.id] = (integration, sealed_credentials)

    async def get(self, integration_id: UUID) -> Integration | None:
        found = self._data.integrations.get(integration_id)
        return found[0] if found and self._uow.mine(found[0].tenant_id) else None

    async def find_for_webhook(self, integration_id: UUID) -> Integration | None:
        found = self._data.integrations.get(integration_id)
        return found[0] if found else None

    async def sealed_credentials(self, integration_id: UUID) -> bytes:
        return self._held(integration_id)[1]

    async def list_all(self) -> list[Integration]:
        held = self._data.integrations.values()
        return sorted((i for i, _ in held if self._uow.mine(i.tenant_id)), key=lambda i: i.name)

    async def update_connection(
        self, integration_id: UUID, *, base_url: str, sealed_credentials: bytes
    ) -> None:
        integration, _ = self._held(integration_id)
        moved = attrs.evolve(integration, base_url=base_url)
        self._data.integrations[integration_id] = (moved, sealed_credentials)

    async def record_health(self, integration_id: UUID, *, at: datetime, error: str | None) -> None:
        integration, sealed = self._held(integration_id)
        health = {"last_error_at": at, "last_error": error} if error else {"last_success_at": at}
        self._data.integrations[integration_id] = (attrs.evolve(integration, **health), sealed)

    async def link_customer(
        self, integration_id: UUID, company_ref: str, customer_id: UUID
    ) -> None:
        self._held(integration_id)
        self._data.links[(integration_id, company_ref)] = customer_id

    async def linked_customers(
        self, integration_id: UUID, company_refs: Sequence[str]
    ) -> dict[str, UUID]:
        links = await self.customer_links(integration_id)
        return {ref: links[ref] for ref in company_refs if ref in links}

    async def customer_links(self, integration_id: UUID) -> dict[str, UUID]:
        return {ref: c for (i, ref), c in self._data.links.items() if i == integration_id}

    def _held(self, integration_id: UUID) -> tuple[Integration, bytes]:
        found = self._data.integrations.get(integration_id)
        if found is None or not self._uow.mine(found[0].tenant_id):
            raise NotFound(f"no integration {integration_id}")
        return found


class _Inbox(_Repository):
    async def add(self, integration_id: UUID, events: Sequence[InboundEvent], at: datetime) -> int:
        seen = {(i.integration_id, i.event.external_id) for i in self._data.inbox}
        added = 0
        for event in events:
            if (integration_id, event.external_id) not in seen:
                seen.add((integration_id, event.external_id))
                item_id = len(self._data.inbox) + 1
                self._data.inbox.append(
                    InboxItem(
                        id=item_id, integration_id=integration_id, received_at=at, event=event
                    )
                )
                added += 1
        return added

    async def claim(self, limit: int) -> list[InboxItem]:
        waiting = [item for item in self._data.inbox if item.id not in self._data.processed]
        return [item for item in waiting if self._mine(item)][:limit]

    async def mark_processed(self, item_ids: Sequence[int], at: datetime) -> None:
        self._data.processed.update(item_ids)

    def _mine(self, item: InboxItem) -> bool:
        held = self._data.integrations.get(item.integration_id)
        return held is not None and self._uow.mine(held[0].tenant_id)


class _WriteBacks(_Repository):
    async def add(self, writeback: WriteBack) -> WriteBack:
        for held in self._data.writebacks.values():
            if (held.tenant_id, held.idempotency_key) == (
                writeback.tenant_id,
                writeback.idempotency_key,
            ):
                return held
        self._data.writebacks[writeback.id] = writeback
        return writeback

    async def get(self, writeback_id: UUID, *, for_update: bool = False) -> WriteBack | None:
        held = self._data.writebacks.get(writeback_id)
        return held if held and self._uow.mine(held.tenant_id) else None

    async def save(self, writeback: WriteBack) -> None:
        self._data.writebacks[writeback.id] = writeback


class _Notes(_Repository):
    async def add(self, note: CustomerNote) -> CustomerNote:
        if note.idempotency_key is not None:
            for stored in self._data.notes.values():
                same_tenant = stored.tenant_id == note.tenant_id
                if same_tenant and stored.idempotency_key == note.idempotency_key:
                    return stored
        self._data.notes[note.id] = note
        self._data.revisions[note.id] = [_revision(note)]
        return note

    async def get(self, note_id: UUID, *, for_update: bool = False) -> CustomerNote | None:
        note = self._data.notes.get(note_id)
        return note if note and self._uow.mine(note.tenant_id) else None

    async def save(self, note: CustomerNote) -> None:
        self._data.notes[note.id] = note
        self._data.revisions[note.id].append(_revision(note))

    async def for_customer(self, customer_id: UUID, *, limit: int) -> list[CustomerNote]:
        notes = [n for n in self._data.notes.values() if n.customer_id == customer_id]
        mine = [n for n in notes if self._uow.mine(n.tenant_id)]
        return sorted(mine, key=lambda n: n.created_at, reverse=True)[:limit]

    async def revisions(self, note_id: UUID) -> list[NoteRevision]:
        return list(reversed(self._data.revisions.get(note_id, [])))


class _Jobs(_Repository):
    async def defer(
        self,
        task_name: str,
        arguments: Any,
        *,
        queueing_lock: str | None = None,
        lock: str | None = None,
    ) -> bool:
        if self._uow._factory.fail_defer is not None:
            raise self._uow._factory.fail_defer
        if queueing_lock and any(j.queueing_lock == queueing_lock for j in self._data.jobs):
            return False
        job = DeferredJob(
            task_name=task_name, arguments=dict(arguments), queueing_lock=queueing_lock, lock=lock
        )
        self._data.jobs.append(job)
        return True


class _NotFaked:
    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, method: str) -> Any:
        raise NotFaked(f"uow.{self._name}.{method} is not faked; test this against PostgreSQL")


def _revision(note: CustomerNote) -> NoteRevision:
    return NoteRevision(
        revision=note.revision,
        body=note.body,
        format=note.format,
        author=note.edited_by,
        written_at=note.updated_at,
    )
