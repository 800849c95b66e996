"""Per-integration rate limits that hold across every worker process: a token bucket row each,
and, for a vendor that documents one, a bound on requests in flight (``request_slots``).

Each call reserves a token at once (the row may go into debt) and learns how long to wait for
it, in one locked UPDATE whose arithmetic reads the row it updates — so concurrent callers in
any number of processes queue up fairly and never overspend. Time is the database's clock.
"""

from __future__ import annotations

import asyncio
import contextlib
from contextlib import AbstractAsyncContextManager
from typing import Any
from uuid import UUID

import psycopg
from sqlalchemy.ext.asyncio import AsyncEngine

from vectis.adapters.postgres.request_slots import IntegrationRequestSlots, PostgresRequestSlots

_RESERVE = """
UPDATE rate_buckets
SET tokens = least(%(capacity)s,
                   tokens + greatest(0, extract(epoch FROM clock_timestamp() - updated_at))
                          * %(rate)s) - %(cost)s,
    updated_at = clock_timestamp(),
    capacity = %(capacity)s,
    refill_per_second = %(rate)s
WHERE integration_id = %(integration_id)s
RETURNING tokens
"""
_CREATE = """
INSERT INTO rate_buckets (integration_id, tenant_id, capacity, refill_per_second, tokens,
                          updated_at)
VALUES (%(integration_id)s, %(tenant_id)s, %(capacity)s, %(rate)s, %(capacity)s, clock_timestamp())
ON CONFLICT DO NOTHING
"""


class PostgresRateLimiter:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    def for_integration(
        self,
        tenant_id: UUID,
        integration_id: UUID,
        *,
        per_minute: float,
        burst: float,
        at_once: int | None = None,
        lease_seconds: float = 120.0,
    ) -> IntegrationRateLimit:
        """The integration's limit; with ``at_once``, also at most that many requests in
        flight, each slot leased for ``lease_seconds`` (longer than any one request)."""
        slots = None
        if at_once is not None:
            slots = PostgresRequestSlots(self._engine).for_integration(
                tenant_id, integration_id, slots=at_once, lease_seconds=lease_seconds
            )
        return IntegrationRateLimit(
            self._engine,
            tenant_id,
            integration_id,
            rate=per_minute / 60.0,
            capacity=burst,
            slots=slots,
        )


class IntegrationRateLimit:
    """One integration's bucket: ``acquire()`` returns when a request may go out."""

    def __init__(
        self,
        engine: AsyncEngine,
        tenant_id: UUID,
        integration_id: UUID,
        *,
        rate: float,
        capacity: float,
        slots: IntegrationRequestSlots | None = None,
    ) -> None:
        self._engine = engine
        self._rate = rate
        self._slots = slots
        self._parameters: dict[str, Any] = {
            "tenant_id": tenant_id,
            "integration_id": integration_id,
            "rate": rate,
            "capacity": capacity,
            "cost": 1.0,
        }

    async def acquire(self) -> float:
        """Reserve one request and wait for its turn; return the seconds waited."""
        wait = await self._reserve()
        if wait > 0:
            await asyncio.sleep(wait)
        return wait

    def hold(self) -> AbstractAsyncContextManager[None]:
        """A slot for one request in flight, where the vendor bounds them."""
        return self._slots.hold() if self._slots is not None else contextlib.nullcontext()

    async def _reserve(self) -> float:
        async with self._engine.connect() as connection:
            assert connection.sync_connection is not None
            driver = connection.sync_connection.connection.driver_connection
            assert isinstance(driver, psycopg.AsyncConnection)
            try:
                tokens = await self._update(driver)
                if tokens is None:
                    await driver.execute(_CREATE, self._parameters)
                    tokens = await self._update(driver)
                await driver.commit()
            except BaseException:
                await driver.rollback()
                raise
        assert tokens is not None
        return max(0.0, -tokens / self._rate)

    async def _update(self, driver: psycopg.AsyncConnection[Any]) -> float | None:
        await driver.execute(
            "SELECT set_config('vectis.tenant_id', %s, true)",
            (str(self._parameters["tenant_id"]),),
        )
        row = await (await driver.execute(_RESERVE, self._parameters)).fetchone()
        return float(row[0]) if row else None
