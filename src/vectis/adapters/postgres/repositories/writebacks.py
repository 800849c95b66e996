"""Write-backs: requested vendor changes, their idempotency keys and outcomes."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from vectis.adapters.postgres.storage import dump_action, dump_actor, load_action, load_actor
from vectis.adapters.postgres.tables import writebacks
from vectis.domain.writeback import WriteBack, WriteBackStatus


class PostgresWriteBackRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, writeback: WriteBack) -> WriteBack:
        name, params = dump_action(writeback.action)
        statement = (
            pg_insert(writebacks)
            .values(
                id=writeback.id,
                tenant_id=writeback.tenant_id,
                integration_id=writeback.integration_id,
                action=name,
                params=params,
                idempotency_key=writeback.idempotency_key,
                status=writeback.status.value,
                requested_by=dump_actor(writeback.requested_by),
                requested_at=writeback.requested_at,
                attempts=writeback.attempts,
                result=dict(writeback.result),
            )
            .on_conflict_do_nothing(
                index_elements=[writebacks.c.tenant_id, writebacks.c.idempotency_key]
            )
            .returning(writebacks.c.id)
        )
        if (await self._connection.execute(statement)).first() is not None:
            return writeback
        existing = await self._connection.execute(
            select(writebacks).where(writebacks.c.idempotency_key == writeback.idempotency_key)
        )
        return _writeback(existing.one()._mapping)

    async def get(self, writeback_id: UUID, *, for_update: bool = False) -> WriteBack | None:
        statement = select(writebacks).where(writebacks.c.id == writeback_id)
        if for_update:
            statement = statement.with_for_update()
        row = (await self._connection.execute(statement)).first()
        return _writeback(row._mapping) if row else None

    async def save(self, writeback: WriteBack) -> None:
        await self._connection.execute(
            update(writebacks)
            .where(writebacks.c.id == writeback.id)
            .values(
                status=writeback.status.value,
                attempts=writeback.attempts,
                finished_at=writeback.finished_at,
                result=dict(writeback.result),
                error=writeback.error,
            )
        )


def _writeback(row: Any) -> WriteBack:
    return WriteBack(
        id=row["id"],
        tenant_id=row["tenant_id"],
        integration_id=row["integration_id"],
        action=load_action(row["action"], row["params"]),
        idempotency_key=row["idempotency_key"],
        requested_by=load_actor(row["requested_by"]),
        requested_at=row["requested_at"],
        status=WriteBackStatus(row["status"]),
        attempts=row["attempts"],
        finished_at=row["finished_at"],
        result=row["result"],
        error=row["error"],
    )
