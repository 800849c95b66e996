"""Sync runs: one row per sync of an integration, written as it starts and as it ends."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import attrs
from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from vectis.adapters.postgres.tables import sync_runs
from vectis.domain.sync import StreamCounts, SyncRun, SyncStatus


class PostgresSyncRunRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, run: SyncRun) -> None:
        await self._connection.execute(insert(sync_runs).values(**_row(run)))

    async def save(self, run: SyncRun) -> None:
        await self._connection.execute(
            update(sync_runs).where(sync_runs.c.id == run.id).values(**_row(run))
        )

    async def latest(self, integration_id: UUID, limit: int = 20) -> list[SyncRun]:
        statement = (
            select(sync_runs)
            .where(sync_runs.c.integration_id == integration_id)
            .order_by(sync_runs.c.started_at.desc())
            .limit(limit)
        )
        return [_run(row._mapping) for row in await self._connection.execute(statement)]

    async def last_started(self) -> dict[UUID, datetime]:
        statement = select(sync_runs.c.integration_id, func.max(sync_runs.c.started_at)).group_by(
            sync_runs.c.integration_id
        )
        return {row[0]: row[1] for row in await self._connection.execute(statement)}


def _row(run: SyncRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "tenant_id": run.tenant_id,
        "integration_id": run.integration_id,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "full_sync": run.full,
        "status": run.status.value,
        "counts": {stream: attrs.asdict(counts) for stream, counts in run.counts.items()},
        "errors": list(run.errors),
    }


def _run(row: Any) -> SyncRun:
    return SyncRun(
        id=row["id"],
        tenant_id=row["tenant_id"],
        integration_id=row["integration_id"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        full=row["full_sync"],
        status=SyncStatus(row["status"]),
        counts={stream: StreamCounts(**counts) for stream, counts in row["counts"].items()},
        errors=row["errors"],
    )
