"""Per-integration request slots that hold across every worker and hub process: a vendor's
documented limit on requests in flight at once (Autotask's three per tracking identifier).

A request leases a free slot row (``FOR UPDATE SKIP LOCKED``, so callers never wait on each
other's locks), holds it while it is in flight and releases it; a lease outlives the longest
request, so a process that dies holding a slot loses it when the lease runs out. Within one
process, callers queue on a local semaphore first, so only as many poll the database as there
are slots.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID, uuid4

import psycopg
from sqlalchemy.ext.asyncio import AsyncEngine

_TAKE = """
WITH free AS MATERIALIZED (
    SELECT slot FROM request_slots
    WHERE integration_id = %(integration_id)s AND slot < %(slots)s
      AND held_until < clock_timestamp()
    ORDER BY slot
    LIMIT 1
    FOR UPDATE SKIP LOCKED
)
UPDATE request_slots AS r
SET held_until = clock_timestamp() + make_interval(secs => %(lease)s), holder = %(holder)s
FROM free
WHERE r.integration_id = %(integration_id)s AND r.slot = free.slot
RETURNING r.slot
"""
# MATERIALIZED: the free slot is chosen once. As a plain subquery the planner may rescan it
# (it does under row-level security), and each rescan skips to another row, so one request
# would lease several slots.
_CREATE = """
INSERT INTO request_slots (integration_id, slot, tenant_id)
SELECT %(integration_id)s, slot, %(tenant_id)s FROM generate_series(0, %(slots)s - 1) AS slot
ON CONFLICT DO NOTHING
"""
_RELEASE = """
UPDATE request_slots SET held_until = '-infinity', holder = NULL
WHERE integration_id = %(integration_id)s AND slot = %(slot)s AND holder = %(holder)s
"""
_FIRST_WAIT = 0.02
_LONGEST_WAIT = 0.5

_LOCAL: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict[UUID, tuple[int, asyncio.Semaphore]]
] = weakref.WeakKeyDictionary()


class PostgresRequestSlots:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    def for_integration(
        self, tenant_id: UUID, integration_id: UUID, *, slots: int, lease_seconds: float
    ) -> IntegrationRequestSlots:
        return IntegrationRequestSlots(
            self._engine, tenant_id, integration_id, slots=slots, lease_seconds=lease_seconds
        )


class IntegrationRequestSlots:
    """One integration's slots: ``async with slots.hold():`` around each request."""

    def __init__(
        self,
        engine: AsyncEngine,
        tenant_id: UUID,
        integration_id: UUID,
        *,
        slots: int,
        lease_seconds: float,
    ) -> None:
        if slots < 1:
            raise ValueError("an integration needs at least one request slot")
        self._engine = engine
        self._integration_id = integration_id
        self._slots = slots
        self._created = False
        self._parameters: dict[str, Any] = {
            "tenant_id": tenant_id,
            "integration_id": integration_id,
            "slots": slots,
            "lease": lease_seconds,
        }

    @contextlib.asynccontextmanager
    async def hold(self) -> AsyncIterator[None]:
        """Wait for a free slot, hold it for the block, then give it back."""
        async with self._local():
            holder = uuid4()
            slot = await self._take(holder)
            try:
                yield
            finally:
                # Shielded: a cancelled request still gives its slot back (or its lease ends).
                await asyncio.shield(self._release(slot, holder))

    def _local(self) -> asyncio.Semaphore:
        """This process's queue for the integration, so only ``slots`` callers poll."""
        local = _LOCAL.setdefault(asyncio.get_running_loop(), {})
        entry = local.get(self._integration_id)
        if entry is None or entry[0] != self._slots:
            entry = local[self._integration_id] = (self._slots, asyncio.Semaphore(self._slots))
        return entry[1]

    async def _take(self, holder: UUID) -> int:
        wait = _FIRST_WAIT
        while True:
            slot = await self._run(_TAKE, holder=holder)
            if slot is None:
                if not self._created:
                    await self._run(_CREATE)  # the integration's first request, or more slots
                    self._created = True
                # Again at once: the rows may have been created since the first try.
                slot = await self._run(_TAKE, holder=holder)
            if slot is not None:
                return slot
            # Every slot is held by another process: poll, backing off, until one frees.
            await asyncio.sleep(wait)
            wait = min(_LONGEST_WAIT, wait * 2)

    async def _release(self, slot: int, holder: UUID) -> None:
        await self._run(_RELEASE, slot=slot, holder=holder)

    async def _run(self, statement: str, **extra: Any) -> int | None:
        async with self._engine.connect() as connection:
            raw = await connection.get_raw_connection()
            driver = raw.driver_connection
            assert isinstance(driver, psycopg.AsyncConnection)
            try:
                await driver.execute(
                    "SELECT set_config('vectis.tenant_id', %s, true)",
                    (str(self._parameters["tenant_id"]),),
                )
                cursor = await driver.execute(statement, {**self._parameters, **extra})
                row = await cursor.fetchone() if cursor.description else None
                await driver.commit()
            except BaseException:
                await driver.rollback()
                raise
        return int(row[0]) if row else None
