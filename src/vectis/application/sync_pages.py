"""One page of a sync stream, stored: its records, the events their changes stand for, and
the stream's new cursor, in one unit of work.

What each record type needs (its customer, the stored state its changes are compared with,
the events they make) comes from its ``RecordType``, not from branches here.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import attrs

from vectis.application.ports import Clock
from vectis.application.unit_of_work import UnitOfWork, UnitOfWorkFactory
from vectis.domain.changes import to_event
from vectis.domain.events import Event, InboundEvent
from vectis.domain.integration import Integration
from vectis.domain.record_types import RecordType, named, record_type_of
from vectis.domain.records import Deletion, SyncBatch
from vectis.domain.sync import StreamCounts

STATISTICS_AFTER = 1_000
"""Rows of a type a stream creates before the database is asked to count them (a first sync
otherwise plans each page's lookups for the empty table it started from)."""


@attrs.define
class StreamState:
    """What a run has learnt of one stream so far."""

    counts: StreamCounts = attrs.field(factory=StreamCounts)
    seen: dict[str, set[str]] = attrs.field(factory=lambda: defaultdict(set))
    """Per record type (its name), the keys a complete listing showed."""
    skipped: list[str] = attrs.field(factory=list)
    links: dict[str, UUID] = attrs.field(factory=dict)
    """The integration's company → customer links, read once per stream."""
    created: dict[str, int] = attrs.field(factory=lambda: defaultdict(int))
    """Per record type (its name), the rows this stream has created so far."""
    counted_at: dict[str, int] = attrs.field(factory=dict)
    """Per record type, how many created rows will have the database count them again."""

    def statistics_due(self) -> list[str]:
        """The record types grown enough since the database last counted them: after the
        first ``STATISTICS_AFTER`` rows, then each time they have grown fourfold (a few
        ANALYZEs in the largest first sync, none in an incremental one)."""
        due = [
            name
            for name, created in self.created.items()
            if created >= self.counted_at.get(name, STATISTICS_AFTER)
        ]
        for name in due:
            self.counted_at[name] = self.created[name] * 4
        return due


@attrs.define
class _Plan:
    """Records of one type from one page, ready to write."""

    records: list[Any]
    customer_ids: dict[str, UUID] = attrs.field(factory=dict)
    events: list[InboundEvent] = attrs.field(factory=list)


class PageWriter:
    """Stores the pages of a stream, each in its own unit of work."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def store(
        self,
        integration: Integration,
        stream: str,
        batch: SyncBatch,
        state: StreamState,
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
                await _plan(uow, integration, records, state.links)
                for record_type, records in by_type.items()
                if record_type not in (InboundEvent, Deletion)
            ]
            if track_seen:
                for plan in plans:
                    kind = record_type_of(plan.records[0])
                    state.seen[kind.name].update(kind.key(record) for record in plan.records)
            # Copy everything aside first (no locks taken), so the wait for the page before
            # is spent encoding this one, and only the writes themselves are serial.
            staged = [
                await uow.records.stage(integration.id, plan.records, plan.customer_ids, now)
                for plan in plans
            ]
            for plan in plans:
                inbound.extend(plan.events)
            events = await uow.events.stage(_events(integration, inbound, state.links))
            if after is not None:
                await after  # the page before commits first (and if it failed, this one stops)
            created_by_type: dict[str, int] = {}
            for plan, batch_of_records in zip(plans, staged, strict=True):
                new, changed = await uow.records.apply(batch_of_records)
                created_by_type[record_type_of(plan.records[0]).name] = len(new)
                created += len(new)
                updated += len(changed)
            await uow.events.apply(events)
            deleted = await _delete(uow, integration, by_type.get(Deletion, []), now)
            await append_events(uow, integration, deleted, state.links)
            if batch.cursor is not None:
                await uow.records.save_cursor(integration.id, stream, batch.cursor, now)
            await uow.commit()
        for name, count in created_by_type.items():
            state.created[name] += count
        counts = state.counts
        state.counts = attrs.evolve(
            counts,
            fetched=counts.fetched + len(batch.records),
            created=counts.created + created,
            updated=counts.updated + updated,
            skipped=counts.skipped + len(batch.skipped),
        )


async def append_events(
    uow: UnitOfWork,
    integration: Integration,
    inbound: Sequence[InboundEvent],
    links: Mapping[str, UUID] | None = None,
) -> None:
    """Add events to the tenant's stream, for the customers their companies are linked to."""
    if not inbound:
        return
    if links is None:
        refs = [event.company_ref for event in inbound if event.company_ref]
        links = await uow.integrations.linked_customers(integration.id, refs)
    await uow.events.append(_events(integration, inbound, links))


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


async def _plan(
    uow: UnitOfWork, integration: Integration, records: list[Any], links: Mapping[str, UUID]
) -> _Plan:
    """What storing records of one type needs: their customers and the events they make."""
    kind = record_type_of(records[0])
    stored = await _stored(uow, integration, kind, records)
    plan = _Plan(records=records)
    for record in records:
        before = stored.get(kind.compared_key(record))
        company = kind.company(record, before)
        if company and company in links:
            plan.customer_ids[str(record.id)] = links[company]
        if kind.changes is not None:
            plan.events.extend(kind.changes(integration.vendor, record, before))
    return plan


async def _stored(
    uow: UnitOfWork, integration: Integration, kind: RecordType, records: list[Any]
) -> dict[str, Any]:
    if kind.compared_with is None:
        return {}
    keys = {kind.compared_key(record) for record in records}
    return await uow.records.stored(integration.id, kind.compared_with, keys)


async def _delete(
    uow: UnitOfWork, integration: Integration, deletions: list[Deletion], now: datetime
) -> list[InboundEvent]:
    events = []
    for deletion in deletions:
        removed = await uow.records.delete(integration.id, deletion.record_type, deletion.id, now)
        kind = named(deletion.record_type)
        if removed and kind is not None and kind.removal is not None:
            before = {}
            if kind.compared_with is not None:
                before = await uow.records.stored(integration.id, kind.compared_with, [deletion.id])
            events += kind.removal(integration.vendor, deletion.id, before.get(deletion.id), now)
    return events


def _events(
    integration: Integration, inbound: Sequence[InboundEvent], links: Mapping[str, UUID]
) -> list[Event]:
    return [to_event(integration, event, links) for event in inbound]


async def _close(batches: AsyncIterator[SyncBatch]) -> None:
    close = getattr(batches, "aclose", None)
    if close is not None:
        await close()
