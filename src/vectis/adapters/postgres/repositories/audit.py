"""The audit log: entries are inserted with the change they record; links follow at once.

An append inserts the entry and marks it pending, in the caller's transaction, taking no lock
that other writers wait on. Right after that transaction commits, the unit of work asks the
``PostgresAuditChainer`` to link every pending entry of the tenant onto its chain, under the
tenant's chain-head row. So concurrent writers share one fsync'd chain step instead of queueing
one commit each behind the head.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any
from uuid import UUID

import psycopg
from psycopg.rows import dict_row
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from vectis.domain.audit import (
    Actor,
    ActorKind,
    AuditEntry,
    AuditRecord,
    AuditTarget,
    ChainHead,
    Outcome,
)

_APPEND = """
WITH entry AS (
    INSERT INTO audit_log (tenant_id, occurred_at, actor_kind, actor_id, actor_label, action,
                           target_system, target_id, payload, outcome)
    VALUES (%(tenant_id)s, %(occurred_at)s, %(actor_kind)s, %(actor_id)s, %(actor_label)s,
            %(action)s, %(target_system)s, %(target_id)s, CAST(%(payload)s AS json), %(outcome)s)
    RETURNING id, tenant_id
)
INSERT INTO audit_pending (entry_id, tenant_id, digest)
SELECT id, tenant_id, %(digest)s FROM entry
"""
_ENTRY_COLUMNS = (
    "e.id, e.tenant_id, e.occurred_at, e.actor_kind, e.actor_id, e.actor_label, e.action, "
    "e.target_system, e.target_id, e.payload::text AS payload_json, e.outcome"
)
_CHAINED = f"""
SELECT c.seq, c.prev_hash, c.hash, {_ENTRY_COLUMNS}
FROM audit_chain c JOIN audit_log e ON e.id = c.entry_id
WHERE c.seq > %(after)s AND c.seq <= %(up_to)s
ORDER BY c.seq LIMIT %(limit)s
"""  # noqa: S608 (constant column lists)
_LATEST = f"""
SELECT c.seq, c.prev_hash, c.hash, {_ENTRY_COLUMNS}
FROM audit_log e LEFT JOIN audit_chain c ON c.entry_id = e.id
ORDER BY e.id DESC LIMIT %(limit)s
"""  # noqa: S608
_UNLINKED = """
SELECT e.id FROM audit_log e
WHERE NOT EXISTS (SELECT 1 FROM audit_chain c WHERE c.entry_id = e.id)
  AND NOT EXISTS (SELECT 1 FROM audit_pending p WHERE p.entry_id = e.id)
ORDER BY e.id LIMIT %(limit)s
"""
_PENDING_IDS = "SELECT entry_id FROM audit_pending WHERE tenant_id = %s ORDER BY entry_id LIMIT %s"
_LINK = "SELECT vectis_link_audit(%s, %s)"
_CHAIN_BATCH = 1_000
logger = logging.getLogger(__name__)


class PostgresAuditLog:
    """Appends are written at commit time, as the transaction's last statements.

    They are inserted inside the unit of work's transaction, so they commit with the change or
    not at all; they take no lock another writer waits on (linking happens after the commit).
    """

    def __init__(self, connection: AsyncConnection, driver: psycopg.AsyncConnection[Any]) -> None:
        self._connection = connection
        self._driver = driver
        self._buffered: list[dict[str, Any]] = []

    @property
    def appended(self) -> bool:
        return bool(self._buffered)

    async def append(self, entry: AuditEntry) -> None:
        self._buffered.append(
            {
                "tenant_id": entry.tenant_id,
                "occurred_at": entry.occurred_at,
                "actor_kind": entry.actor.kind.value,
                "actor_id": entry.actor.id,
                "actor_label": entry.actor.label,
                "action": entry.action,
                "target_system": entry.target.system,
                "target_id": entry.target.object_id,
                "payload": entry.payload_json,
                "outcome": entry.outcome.value,
                "digest": entry.content_digest(),
            }
        )

    async def write_and_commit(self) -> None:
        """Insert the buffered entries, then commit the transaction."""
        for parameters in self._buffered:
            await self._driver.execute(_APPEND, parameters)
        await self._driver.commit()

    async def head(self) -> ChainHead | None:
        async with self._driver.cursor(row_factory=dict_row) as cursor:
            await cursor.execute("SELECT tenant_id, seq, hash FROM audit_chain_heads")
            row = await cursor.fetchone()
        if row is None:
            return None
        return ChainHead(tenant_id=row["tenant_id"], seq=row["seq"], hash=bytes(row["hash"]))

    async def records_after(self, seq: int, *, up_to: int, limit: int) -> list[AuditRecord]:
        return await self._records(_CHAINED, {"after": seq, "up_to": up_to, "limit": limit})

    async def latest(self, limit: int) -> list[AuditRecord]:
        return await self._records(_LATEST, {"limit": limit})

    async def unlinked(self, limit: int = 10) -> list[int]:
        cursor = await self._driver.execute(_UNLINKED, {"limit": limit})
        return [row[0] for row in await cursor.fetchall()]

    async def _records(self, query: str, parameters: dict[str, Any]) -> list[AuditRecord]:
        async with self._driver.cursor(row_factory=dict_row) as cursor:
            await cursor.execute(query, parameters)
            return [_record(row) for row in await cursor.fetchall()]


class AuditLinker:
    """Links committed entries onto their tenants' chains in the background, in batches.

    One per process. A unit of work that appended entries notifies it after committing and
    returns at once; the linker then runs chain steps on its own connection until nothing of
    those tenants is pending. Concurrent writers therefore share chain steps instead of each
    waiting for one, and an append costs about what a plain INSERT costs. Entries are linked
    milliseconds after their commit; whatever a crash leaves pending, the periodic sealing job
    (and ``vectis audit verify``) links.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._dirty: set[UUID] = set()
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None

    def notify(self, tenant_id: UUID) -> None:
        self._dirty.add(tenant_id)
        self._idle.clear()
        self._wake.set()
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def drain(self) -> None:
        """Wait until everything notified so far is linked (or given up on)."""
        while self._task is not None and not self._task.done() and not self._idle.is_set():
            await asyncio.wait(
                [asyncio.ensure_future(self._idle.wait()), self._task],
                return_when=asyncio.FIRST_COMPLETED,
            )

    async def close(self) -> None:
        await self.drain()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self._link_until_idle()
            except (psycopg.Error, OSError, SQLAlchemyError):
                logger.warning("audit linking failed; retrying shortly", exc_info=True)
                await asyncio.sleep(1.0)
                self._wake.set()

    async def _link_until_idle(self) -> None:
        async with self._engine.connect() as connection:
            raw = await connection.get_raw_connection()
            driver = raw.driver_connection
            assert isinstance(driver, psycopg.AsyncConnection)
            while True:
                if not self._dirty:
                    self._idle.set()
                await self._wake.wait()
                self._wake.clear()
                tenants, self._dirty = self._dirty, set()
                for tenant_id in tenants:
                    try:
                        await seal_on(driver, tenant_id)
                    except BaseException:
                        self._dirty.add(tenant_id)
                        raise


class PostgresAuditChainer:
    """Links a tenant's pending entries onto its chain, one batch per locked chain step."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def seal(self, tenant_id: UUID) -> int:
        """Link every committed pending entry of the tenant; return how many this call linked."""
        async with self._engine.connect() as connection:
            raw = await connection.get_raw_connection()
            driver = raw.driver_connection
            assert isinstance(driver, psycopg.AsyncConnection)
            return await seal_on(driver, tenant_id)


async def seal_on(
    driver: psycopg.AsyncConnection[Any], tenant_id: UUID, *, patience: float = 10.0
) -> int:
    """Link every committed pending entry of the tenant, on a connection with no open
    transaction; wait (politely) while another session holds the tenant's chain head.

    Gives up after ``patience`` seconds, leaving the rest for the periodic sealing job.
    """
    linked = 0
    deadline = asyncio.get_running_loop().time() + patience
    while True:
        step = await _chain_step(driver, tenant_id)
        if step >= 0:
            linked += step
            if step < _CHAIN_BATCH:
                return linked
        elif asyncio.get_running_loop().time() > deadline:
            logger.warning("gave up linking audit entries of tenant %s for now", tenant_id)
            return linked
        else:
            await asyncio.sleep(0.002)


async def _chain_step(driver: psycopg.AsyncConnection[Any], tenant_id: UUID) -> int:
    """One round trip: link up to a batch server-side and commit; -1 if the head is busy."""
    try:
        async with driver.pipeline():
            cursor = await driver.execute(_LINK, (tenant_id, _CHAIN_BATCH))
            await driver.commit()
        row = await cursor.fetchone()
    except BaseException:
        await driver.rollback()
        raise
    return int(row[0]) if row else 0


def _entry(row: dict[str, Any]) -> AuditEntry:
    return AuditEntry(
        tenant_id=row["tenant_id"],
        occurred_at=row["occurred_at"],
        actor=Actor(
            kind=ActorKind(row["actor_kind"]), id=row["actor_id"], label=row["actor_label"]
        ),
        action=row["action"],
        target=AuditTarget(system=row["target_system"], object_id=row["target_id"]),
        payload_json=row["payload_json"],
        outcome=Outcome(row["outcome"]),
    )


def _record(row: dict[str, Any]) -> AuditRecord:
    return AuditRecord(
        id=row["id"],
        entry=_entry(row),
        seq=row["seq"],
        prev_hash=bytes(row["prev_hash"]) if row["prev_hash"] is not None else None,
        hash=bytes(row["hash"]) if row["hash"] is not None else None,
    )
