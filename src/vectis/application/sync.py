"""Syncing integrations into the unified model, stream by stream, page by page.

Each page is stored in its own unit of work together with the events its changes stand for
and the stream's new cursor, so a sync that stops half-way keeps what it stored and resumes
where it stopped. One bad record is skipped and reported; one failing stream is recorded on
the run and the integration's health while the other streams go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any
from uuid import UUID, uuid4

import attrs

from vectis.application.errors import NotFound
from vectis.application.identity import require
from vectis.application.integrations import IntegrationService
from vectis.application.ports import Clock, Connectors
from vectis.application.sync_queue import request_sync
from vectis.application.unit_of_work import UnitOfWork, UnitOfWorkFactory
from vectis.domain.changes import (
    StoredAlert,
    StoredTicket,
    alert_events,
    note_events,
    ticket_events,
)
from vectis.domain.errors import VendorAuthFailed, VendorError
from vectis.domain.events import Event, EventKind, InboundEvent, SubjectRef, event_key
from vectis.domain.identity import Principal
from vectis.domain.integration import Integration
from vectis.domain.records import (
    Alert,
    AlertState,
    Deletion,
    Reference,
    SyncBatch,
    Ticket,
    TicketNote,
    VendorCompany,
)
from vectis.domain.sync import StreamCounts, SyncRun, SyncSource, SyncStatus
from vectis.domain.tenancy import Permission

logger = logging.getLogger(__name__)

DEFAULT_INTERVAL_MINUTES = 15
MAX_REPORTED_ERRORS = 100
STORE_CONCURRENCY = 2

Progress = Callable[[str, StreamCounts], None]


@attrs.define
class _StreamState:
    counts: StreamCounts = attrs.field(factory=StreamCounts)
    seen: set[str] = attrs.field(factory=set)
    record_type: type[Any] | None = None
    skipped: list[str] = attrs.field(factory=list)
    links: dict[str, UUID] = attrs.field(factory=dict)
    """The integration's company → customer links, read once per stream."""


@attrs.define
class _Plan:
    """Records of one type from one page, ready to write."""

    records: list[Any]
    customer_ids: dict[str, UUID] = attrs.field(factory=dict)
    changes: list[InboundEvent] = attrs.field(factory=list)
    tickets: dict[str, StoredTicket] = attrs.field(factory=dict)

    def events(self, vendor: str) -> list[InboundEvent]:
        """The events these records stand for. A note's event is keyed by the note, so one
        seen again (a re-read page) adds nothing to the stream."""
        if not self.records or type(self.records[0]) is not TicketNote:
            return self.changes
        return [
            event
            for note in self.records
            for event in note_events(vendor, note, self.tickets.get(note.ticket_id))
        ]


class SyncService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        integrations: IntegrationService,
        connectors: Connectors,
        clock: Clock,
    ) -> None:
        self._uow = uow
        self._integrations = integrations
        self._connectors = connectors
        self._clock = clock

    async def request(
        self, principal: Principal, integration_id: UUID, *, full: bool = False
    ) -> bool:
        """Queue a sync; ``False`` when one is already waiting for this integration."""
        require(principal, Permission.MANAGE_INTEGRATIONS)
        async with self._uow(principal.tenant_id) as uow:
            if await uow.integrations.get(integration_id) is None:
                raise NotFound(f"no integration {integration_id}")
            queued = await request_sync(uow, integration_id, full=full)
            await uow.commit()
        return queued

    async def schedule_due(self) -> int:
        """Queue a sync for every integration whose interval has passed (the periodic job)."""
        now = self._clock.now()
        queued = 0
        async with self._uow() as uow:
            tenant_ids = await uow.tenants.ids()
        for tenant_id in tenant_ids:
            async with self._uow(tenant_id) as uow:
                last = await uow.sync_runs.last_started()
                for integration in await uow.integrations.list_all():
                    if not integration.setting("sync_enabled", True):
                        continue
                    minutes = float(
                        integration.setting("sync_interval_minutes", DEFAULT_INTERVAL_MINUTES)
                    )
                    started = last.get(integration.id)
                    if started and (now - started).total_seconds() < minutes * 60:
                        continue
                    queued += await request_sync(uow, integration.id)
                await uow.commit()
        return queued

    async def runs(
        self, principal: Principal, integration_id: UUID, limit: int = 20
    ) -> list[SyncRun]:
        require(principal, Permission.READ)
        async with self._uow(principal.tenant_id) as uow:
            if await uow.integrations.get(integration_id) is None:
                raise NotFound(f"no integration {integration_id}")
            return await uow.sync_runs.latest(integration_id, limit)

    async def check(self, principal: Principal, integration_id: UUID) -> str:
        """Test an integration's credentials with one cheap authenticated call."""
        require(principal, Permission.MANAGE_INTEGRATIONS)
        async with self._uow(principal.tenant_id) as uow:
            integration = await uow.integrations.get(integration_id)
            if integration is None:
                raise NotFound(f"no integration {integration_id}")
            credentials = await self._integrations.open_credentials(uow, integration_id)
        try:
            label = await self._connectors.sync_source(integration, credentials).check()
        except VendorError as error:
            await self._record_health(integration, str(error))
            raise
        await self._record_health(integration, None)
        return label

    async def sync_now(
        self,
        principal: Principal,
        integration_id: UUID,
        *,
        full: bool = False,
        progress: Progress | None = None,
    ) -> SyncRun:
        """An operator's sync, run here rather than queued (``vectis integration sync``)."""
        require(principal, Permission.MANAGE_INTEGRATIONS)
        return await self.run(principal.tenant_id, integration_id, full=full, progress=progress)

    async def run(
        self,
        tenant_id: UUID,
        integration_id: UUID,
        *,
        full: bool = False,
        progress: Progress | None = None,
    ) -> SyncRun:
        """Sync one integration now (the job body, and ``vectis integration sync``)."""
        async with self._uow(tenant_id) as uow:
            integration = await uow.integrations.get(integration_id)
            if integration is None:
                raise NotFound(f"no integration {integration_id}")
            credentials = await self._integrations.open_credentials(uow, integration_id)
            cursors = {} if full else await uow.records.cursors(integration_id)
            run = SyncRun(
                id=uuid4(),
                tenant_id=tenant_id,
                integration_id=integration_id,
                started_at=self._clock.now(),
                full=full,
            )
            await uow.sync_runs.add(run)
            await uow.commit()
        source = self._connectors.sync_source(integration, credentials)
        states: dict[str, _StreamState] = {}
        errors: list[str] = []
        stream_errors: list[str] = []
        try:
            for stream in source.streams:
                state = states[stream] = _StreamState()
                complete = full or stream in source.snapshots
                try:
                    await self._sync_stream(
                        integration, source, stream, cursors.get(stream), state, complete, progress
                    )
                except VendorError as error:
                    errors.extend(state.skipped)
                    stream_errors.append(f"{stream}: {error}")
                    errors.append(stream_errors[-1])
                    logger.warning("sync of %s stopped in %s: %s", integration.name, stream, error)
                    if isinstance(error, VendorAuthFailed):
                        break  # every other stream would be refused the same way
                    continue
                errors.extend(state.skipped)
                if complete and state.record_type is not None:
                    await self._remove_missing(integration, state)
        except BaseException as error:
            # Not a vendor's refusal but a failure of ours (or a cancelled job): the run must
            # not stay "running" for ever.
            errors.append(f"the sync stopped: {type(error).__name__}: {error}")
            with contextlib.suppress(Exception):  # the original failure is what to report
                await self._finish(run, states, errors, SyncStatus.FAILED, errors[-1])
            raise
        status = SyncStatus.SUCCEEDED
        if stream_errors and len(stream_errors) >= len(states):
            status = SyncStatus.FAILED
        elif errors:
            status = SyncStatus.PARTIAL
        return await self._finish(
            run, states, errors, status, "; ".join(stream_errors) if stream_errors else None
        )

    async def _finish(
        self,
        run: SyncRun,
        states: Mapping[str, _StreamState],
        errors: Sequence[str],
        status: SyncStatus,
        health_error: str | None,
    ) -> SyncRun:
        """Record how the run ended, on the run and on the integration's health."""
        finished = attrs.evolve(
            run,
            status=status,
            finished_at=self._clock.now(),
            counts={stream: state.counts for stream, state in states.items()},
            errors=tuple(errors[:MAX_REPORTED_ERRORS]),
        )
        async with self._uow(run.tenant_id) as uow:
            await uow.sync_runs.save(finished)
            await uow.integrations.record_health(
                run.integration_id,
                at=finished.finished_at or run.started_at,
                error=health_error[:1000] if health_error else None,
            )
            await uow.commit()
        return finished

    async def _sync_stream(
        self,
        integration: Integration,
        source: SyncSource,
        stream: str,
        cursor: str | None,
        state: _StreamState,
        complete: bool,
        progress: Progress | None,
    ) -> None:
        """Store a stream's pages as they come, two at a time (one prepares while the other
        is written), committing in page order so a stored cursor never skips a page."""
        async with self._uow(integration.tenant_id) as uow:
            state.links = await uow.integrations.customer_links(integration.id)
        in_flight: deque[asyncio.Task[None]] = deque()
        previous: asyncio.Task[None] | None = None
        try:
            async for batch in read_ahead(source.read(stream, cursor)):
                state.skipped.extend(
                    f"{stream}: skipped {skipped.vendor_id or 'a record'}: {skipped.reason}"
                    for skipped in batch.skipped
                )
                previous = asyncio.create_task(
                    self._store(integration, stream, batch, state, complete, after=previous)
                )
                in_flight.append(previous)
                if len(in_flight) >= STORE_CONCURRENCY:
                    await in_flight.popleft()
                    if progress:
                        progress(stream, state.counts)
        finally:
            # Pages already read are stored even when reading the next one failed.
            results = await asyncio.gather(*in_flight, return_exceptions=True)
            if progress:
                progress(stream, state.counts)
            for result in results:
                if isinstance(result, BaseException) and not isinstance(
                    result, asyncio.CancelledError
                ):
                    raise result

    async def _store(
        self,
        integration: Integration,
        stream: str,
        batch: SyncBatch,
        state: _StreamState,
        track_seen: bool,
        *,
        after: asyncio.Task[None] | None,
    ) -> None:
        """Read what the page needs to know, then — once the page before has committed —
        write it. Reads take no locks and writes never overlap, so two pages can never wait
        on each other."""
        now = self._clock.now()
        by_type: dict[type[Any], list[Any]] = defaultdict(list)
        for record in batch.records:
            by_type[type(record)].append(record)
        created = updated = 0
        inbound: list[InboundEvent] = list(by_type.get(InboundEvent, []))
        async with self._uow(integration.tenant_id) as uow:
            plans = [
                await self._plan(uow, integration, records, state.links)
                for record_type, records in by_type.items()
                if record_type not in (InboundEvent, Deletion)
            ]
            if track_seen:
                for plan in plans:
                    state.record_type = type(plan.records[0])
                    state.seen.update(seen_key(record) for record in plan.records)
            # Copy everything aside first (no locks taken), so the wait for the page before
            # is spent encoding this one, and only the writes themselves are serial.
            staged = [
                await uow.records.stage(integration.id, plan.records, plan.customer_ids, now)
                for plan in plans
            ]
            for plan in plans:
                inbound.extend(plan.events(integration.vendor))
            events = await uow.events.stage(self._events(integration, inbound, state.links))
            if after is not None:
                await after  # the page before commits first (and if it failed, this one stops)
            for batch_of_records in staged:
                new, changed = await uow.records.apply(batch_of_records)
                created += len(new)
                updated += len(changed)
            await uow.events.apply(events)
            deleted = await self._delete(uow, integration, by_type.get(Deletion, []), now)
            await self._append_events(uow, integration, deleted, state.links)
            if batch.cursor is not None:
                await uow.records.save_cursor(integration.id, stream, batch.cursor, now)
            await uow.commit()
        counts = state.counts
        state.counts = StreamCounts(
            fetched=counts.fetched + len(batch.records),
            created=counts.created + created,
            updated=counts.updated + updated,
            skipped=counts.skipped + len(batch.skipped),
        )

    async def _plan(
        self,
        uow: UnitOfWork,
        integration: Integration,
        records: list[Any],
        links: Mapping[str, UUID],
    ) -> _Plan:
        """What storing records of one type needs: their customers and prior state."""
        record_type = type(records[0])
        plan = _Plan(records=records)
        if record_type is TicketNote:
            plan.tickets = await uow.records.stored_tickets(
                integration.id, {note.ticket_id for note in records}
            )
            companies = {
                note.id: plan.tickets[note.ticket_id].company_id
                for note in records
                if note.ticket_id in plan.tickets
            }
        else:
            companies = {str(record.id): _company_of(record) for record in records}
        plan.customer_ids = {
            key: links[company]
            for key, company in companies.items()
            if company is not None and company in links
        }
        if record_type is Ticket:
            before = await uow.records.stored_tickets(integration.id, [t.id for t in records])
            plan.changes = [
                event
                for ticket in records
                for event in ticket_events(integration.vendor, ticket, before.get(ticket.id))
            ]
        elif record_type is Alert:
            stored = await uow.records.stored_alerts(integration.id, [a.id for a in records])
            plan.changes = [
                event
                for alert in records
                for event in alert_events(integration.vendor, alert, stored.get(alert.id))
            ]
        return plan

    async def _delete(
        self, uow: UnitOfWork, integration: Integration, deletions: list[Deletion], now: Any
    ) -> list[InboundEvent]:
        events = []
        for deletion in deletions:
            removed = await uow.records.delete(
                integration.id, deletion.record_type, deletion.id, now
            )
            if removed and deletion.record_type == "ticket":
                stored = await uow.records.stored_tickets(integration.id, [deletion.id])
                ticket = stored.get(deletion.id)
                events.append(
                    InboundEvent(
                        external_id=event_key(EventKind.TICKET_DELETED, deletion.id),
                        kind=EventKind.TICKET_DELETED,
                        occurred_at=now,
                        subject=SubjectRef(
                            system=integration.vendor, type="ticket", id=deletion.id
                        ),
                        title=f"Ticket #{(ticket.number if ticket else '') or deletion.id} deleted",
                        detail=ticket.summary if ticket else "",
                        company_ref=ticket.company_id if ticket else None,
                    )
                )
        return events

    async def _remove_missing(self, integration: Integration, state: _StreamState) -> None:
        """After a complete listing, what it no longer shows is gone at the vendor."""
        now = self._clock.now()
        assert state.record_type is not None
        async with self._uow(integration.tenant_id) as uow:
            if state.record_type is Alert:
                cleared = await uow.records.resolve_missing_alerts(integration.id, state.seen, now)
                events = [
                    event
                    for alert in cleared
                    for event in alert_events(
                        integration.vendor, alert, StoredAlert(state=AlertState.OPEN)
                    )
                ]
                await self._append_events(uow, integration, events)
            else:
                await uow.records.delete_missing(integration.id, state.record_type, state.seen, now)
            await uow.commit()

    async def _append_events(
        self,
        uow: UnitOfWork,
        integration: Integration,
        inbound: Sequence[InboundEvent],
        links: Mapping[str, UUID] | None = None,
    ) -> None:
        if not inbound:
            return
        if links is None:
            refs = [event.company_ref for event in inbound if event.company_ref]
            links = await uow.integrations.linked_customers(integration.id, refs)
        await uow.events.append(self._events(integration, inbound, links))

    @staticmethod
    def _events(
        integration: Integration, inbound: Sequence[InboundEvent], links: Mapping[str, UUID]
    ) -> list[Event]:
        customers = dict(links)
        return [to_event(integration, event, customers) for event in inbound]

    async def _record_health(self, integration: Integration, error: str | None) -> None:
        async with self._uow(integration.tenant_id) as uow:
            await uow.integrations.record_health(integration.id, at=self._clock.now(), error=error)
            await uow.commit()


async def read_ahead(batches: AsyncIterator[SyncBatch]) -> AsyncIterator[SyncBatch]:
    """Fetch the next page while the current one is being stored (at most one page ahead,
    so memory stays bounded); the reader's errors surface where its pages would have."""
    queue: asyncio.Queue[tuple[SyncBatch | None, BaseException | None]] = asyncio.Queue(1)

    async def produce() -> None:
        try:
            async for batch in batches:
                await queue.put((batch, None))
        except Exception as error:  # handed to the consumer, which re-raises it
            await queue.put((None, error))
        else:
            await queue.put((None, None))

    producer = asyncio.create_task(produce())
    try:
        while True:
            batch, error = await queue.get()
            if error is not None:
                raise error
            if batch is None:
                return
            yield batch
    finally:
        producer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await producer
        await _close(batches)


async def _close(batches: AsyncIterator[SyncBatch]) -> None:
    close = getattr(batches, "aclose", None)
    if close is not None:
        await close()


def to_event(integration: Integration, inbound: InboundEvent, customers: dict[str, UUID]) -> Event:
    """An inbound event of an integration as an entry of the tenant's event stream."""
    return Event(
        tenant_id=integration.tenant_id,
        source=integration.vendor,
        kind=inbound.kind,
        occurred_at=inbound.occurred_at,
        title=inbound.title,
        detail=inbound.detail,
        customer_id=customers.get(inbound.company_ref or ""),
        subject=inbound.subject,
        integration_id=integration.id,
        payload=dict(inbound.payload),
        dedup_key=inbound.external_id,
    )


def seen_key(record: Any) -> str:
    """How a complete listing names a record (references are per kind: status 4 ≠ priority 4)."""
    return f"{record.kind}:{record.id}" if isinstance(record, Reference) else str(record.id)


def _company_of(record: Any) -> str | None:
    if isinstance(record, VendorCompany):
        return record.id
    company = getattr(record, "company_id", None)
    return str(company) if company else None
