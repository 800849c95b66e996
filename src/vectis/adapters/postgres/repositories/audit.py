"""The audit log: one statement appends an entry and advances the tenant's chain head."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import psycopg
from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from vectis.adapters.postgres.tables import audit_chain_heads
from vectis.domain.audit import (
    Actor,
    ActorKind,
    AuditEntry,
    AuditRecord,
    AuditTarget,
    ChainHead,
    Outcome,
    chain_hash,
    genesis_hash,
)

# The head row is the per-tenant serialisation point: UPDATE locks it until commit, and its
# SET clause reads the previous hash of the row version it finally updates, so concurrent
# appends of one tenant form one linear chain. The formula mirrors domain.audit.chain_hash.
_APPEND = """
    WITH head AS (
        UPDATE audit_chain_heads
        SET seq = seq + 1,
            prev_hash = hash,
            hash = sha256(hash || int8send(seq + 1) || %(digest)s)
        WHERE tenant_id = %(tenant_id)s
        RETURNING seq, prev_hash, hash
    )
    INSERT INTO audit_log (
        tenant_id, seq, occurred_at, actor_kind, actor_id, actor_label, action,
        target_system, target_id, payload, outcome, prev_hash, hash
    )
    SELECT %(tenant_id)s, head.seq, %(occurred_at)s, %(actor_kind)s, %(actor_id)s,
           %(actor_label)s, %(action)s, %(target_system)s, %(target_id)s,
           CAST(%(payload)s AS json), %(outcome)s, head.prev_hash, head.hash
    FROM head
    RETURNING id, seq, prev_hash, hash
"""

_COLUMNS = (
    "id, tenant_id, seq, occurred_at, actor_kind, actor_id, actor_label, action, "
    "target_system, target_id, payload::text AS payload_json, outcome, prev_hash, hash"
)


class PostgresAuditLog:
    """Appends run on the driver connection: they are the per-tenant serialisation point, so
    every microsecond spent between taking the head row and committing is paid by all writers."""

    def __init__(self, connection: AsyncConnection, driver: psycopg.AsyncConnection[Any]) -> None:
        self._connection = connection
        self._driver = driver

    async def append(self, entry: AuditEntry) -> AuditRecord:
        digest = entry.content_digest()
        parameters = {
            "tenant_id": entry.tenant_id,
            "digest": digest,
            "occurred_at": entry.occurred_at,
            "actor_kind": entry.actor.kind.value,
            "actor_id": entry.actor.id,
            "actor_label": entry.actor.label,
            "action": entry.action,
            "target_system": entry.target.system,
            "target_id": entry.target.object_id,
            "payload": entry.payload_json,
            "outcome": entry.outcome.value,
        }
        row = await (await self._driver.execute(_APPEND, parameters)).fetchone()
        if row is None:
            await self._start_chain(entry.tenant_id)
            row = await (await self._driver.execute(_APPEND, parameters)).fetchone()
            assert row is not None
        record_id, seq, prev_hash, hash_ = row
        record = AuditRecord(
            id=record_id, seq=seq, entry=entry, prev_hash=bytes(prev_hash), hash=bytes(hash_)
        )
        if record.hash != chain_hash(record.prev_hash, record.seq, digest):
            raise RuntimeError("the database computed a different audit hash than Vectis")
        return record

    async def head(self) -> ChainHead | None:
        row = (await self._connection.execute(select(audit_chain_heads))).first()
        if row is None:
            return None
        return ChainHead(tenant_id=row.tenant_id, seq=row.seq, hash=bytes(row.hash))

    async def records_after(self, seq: int, *, up_to: int, limit: int) -> list[AuditRecord]:
        statement = text(
            f"SELECT {_COLUMNS} FROM audit_log "  # noqa: S608
            "WHERE seq > :seq AND seq <= :up_to ORDER BY seq LIMIT :limit"
        )
        rows = await self._connection.execute(
            statement, {"seq": seq, "up_to": up_to, "limit": limit}
        )
        return [_record(row._mapping) for row in rows]

    async def latest(self, limit: int) -> list[AuditRecord]:
        statement = text(
            f"SELECT {_COLUMNS} FROM audit_log ORDER BY seq DESC LIMIT :limit"  # noqa: S608
        )
        rows = await self._connection.execute(statement, {"limit": limit})
        return [_record(row._mapping) for row in rows]

    async def _start_chain(self, tenant_id: UUID) -> None:
        genesis = genesis_hash(tenant_id)
        await self._connection.execute(
            pg_insert(audit_chain_heads)
            .values(tenant_id=tenant_id, seq=0, hash=genesis, prev_hash=genesis)
            .on_conflict_do_nothing()
        )


def _record(row: Any) -> AuditRecord:
    entry = AuditEntry(
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
    return AuditRecord(
        id=row["id"],
        seq=row["seq"],
        entry=entry,
        prev_hash=bytes(row["prev_hash"]),
        hash=bytes(row["hash"]),
    )
