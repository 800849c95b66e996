"""One sync run of one integration: its streams one after another, each page stored as it
comes, and how the run ended recorded on the run and the integration's health.

One bad record is skipped and reported; one failing stream is recorded on the run and the
integration's health while the other streams go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from uuid import UUID, uuid4

import attrs

from vectis.application.errors import NotFound
from vectis.application.integrations import IntegrationService
from vectis.application.ports import Clock, Connectors
from vectis.application.sync_pages import PageWriter, StreamState, append_events, read_ahead
from vectis.application.unit_of_work import UnitOfWorkFactory
from vectis.domain.changes import cleared_alert_events
from vectis.domain.errors import VendorAuthFailed, VendorError
from vectis.domain.integration import Integration
from vectis.domain.record_types import named
from vectis.domain.sync import StreamCounts, SyncRun, SyncSource, SyncStatus

logger = logging.getLogger(__name__)

MAX_REPORTED_ERRORS = 100
STORE_CONCURRENCY = 2

Progress = Callable[[str, StreamCounts], None]


class SyncRunner:
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
        self._pages = PageWriter(uow, clock)

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
        source = self._connectors.port(SyncSource, integration, credentials)
        states: dict[str, StreamState] = {}
        errors: list[str] = []
        stream_errors: list[str] = []
        try:
            for stream in source.streams:
                state = states[stream] = StreamState(
                    counts=StreamCounts(method=source.read_methods.get(stream, ""))
                )
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
                if complete:
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
        states: Mapping[str, StreamState],
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
        state: StreamState,
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
                    self._pages.store(integration, stream, batch, state, complete, after=previous)
                )
                in_flight.append(previous)
                if len(in_flight) >= STORE_CONCURRENCY:
                    await in_flight.popleft()
                    await self._refresh_statistics(integration, state)
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

    async def _refresh_statistics(self, integration: Integration, state: StreamState) -> None:
        """Have the database count the rows of the types this stream has grown enough, in a
        unit of work of its own while the next page is being written."""
        due = state.statistics_due()
        if not due:
            return
        async with self._uow(integration.tenant_id) as uow:
            for name in due:
                await uow.records.refresh_statistics(name)
            await uow.commit()

    async def _remove_missing(self, integration: Integration, state: StreamState) -> None:
        """After a complete listing, what it no longer shows is gone at the vendor — for
        each record type the stream yielded, by that type's own keys."""
        now = self._clock.now()
        async with self._uow(integration.tenant_id) as uow:
            for name, seen in state.seen.items():
                kind = named(name)
                assert kind is not None, f"the sync saw records of no known type {name!r}"
                if kind.resolved_when_missing:
                    cleared = await uow.records.resolve_missing_alerts(integration.id, seen, now)
                    events = [
                        event
                        for alert in cleared
                        for event in cleared_alert_events(integration.vendor, alert)
                    ]
                    await append_events(uow, integration, events)
                else:
                    await uow.records.delete_missing(integration.id, name, seen, now)
            await uow.commit()
