"""Audit append throughput: the hash-chained, RLS-scoped path vs plain INSERTs, same run.

Every side uses 8 concurrent writers (one tenant), one row per transaction, on one database:

- plain INSERT, raw psycopg: dedicated connections, a same-shaped row into a table with no
  chain, no trigger and no RLS — the floor of what PostgreSQL and the driver cost;
- plain INSERT, Vectis's pool: the same row and table, on connections checked out of Vectis's
  own pool as the runtime role — the baseline that isolates the chain and the RLS setting;
- audit append: Vectis's unit of work and audit service (tenant setting, entry, pending mark,
  commit), the clock stopping only once the linker has linked every entry into the chain.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _database import bench_database, runtime_login
from vectis.adapters.postgres.migrator import migrate
from vectis.application.audit import record
from vectis.container import Container
from vectis.domain.audit import Actor, ActorKind, AuditEntry, AuditTarget, Outcome
from vectis.settings import Settings

SECRET = "bench-secret-key-0123456789-0123456789"
ACTOR = Actor(kind=ActorKind.OPERATOR, id="4f0c2a8e", label="sam.okafor@harbor-point.example")
PAYLOAD = {
    "event": "disk.critical",
    "device": "acme-fs01",
    "pct_used": 96.4,
    "customer": "acme",
    "action": "ticket.add_note",
    "params": {"ticket_id": "4821", "text": "Disk at 96% on acme-fs01; cleaning up temp files."},
}
# The audit table's own columns and indexes, plus room for the chain link it would carry,
# but no chain, no pending mark, no trigger and no row-level security.
PLAIN_TABLE = """
CREATE TABLE bench_plain_audit (
    LIKE audit_log INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING INDEXES,
    seq bigint NOT NULL,
    prev_hash bytea NOT NULL,
    hash bytea NOT NULL
);
GRANT SELECT, INSERT ON bench_plain_audit TO vectis_app;
"""
PLAIN_INSERT = """
INSERT INTO bench_plain_audit (tenant_id, seq, occurred_at, actor_kind, actor_id, actor_label,
    action, target_system, target_id, payload, outcome, prev_hash, hash)
VALUES (%s, %s, now(), %s, %s, %s, %s, %s, %s, %s::json, %s, %s, %s)
"""


async def chained(container: Container, tenant_id: object, writers: int, entries: int) -> float:
    uow = container.uow()
    clock = container.clock()

    async def writer(number: int) -> None:
        for index in range(entries):
            async with uow(tenant_id) as unit:  # type: ignore[arg-type]
                await record(
                    unit,
                    clock,
                    actor=ACTOR,
                    action="writeback.ticket.add_note",
                    target=AuditTarget(system="connectwise", object_id=f"{number}-{index}"),
                    outcome=Outcome.SUCCEEDED,
                    payload=PAYLOAD,
                )
                await unit.commit()

    started = time.perf_counter()
    await asyncio.gather(*(writer(number) for number in range(writers)))
    await container.linker().drain()  # the clock stops once every entry is linked
    return time.perf_counter() - started


async def plain(url: str, tenant_id: object, writers: int, entries: int) -> float:
    libpq = url.replace("postgresql+psycopg://", "postgresql://")
    sample = _sample(tenant_id)

    async def writer(number: int) -> None:
        async with await psycopg.AsyncConnection.connect(
            libpq, options="-c role=vectis_app"
        ) as connection:
            for index in range(entries):
                async with connection.transaction():
                    await connection.execute(
                        PLAIN_INSERT,
                        _plain_row(sample, number * entries + index),
                    )

    started = time.perf_counter()
    await asyncio.gather(*(writer(number) for number in range(writers)))
    return time.perf_counter() - started


async def plain_pooled(
    container: Container, tenant_id: object, writers: int, entries: int
) -> float:
    """The same plain INSERT, through Vectis's own connection pool and driver access."""
    engine = container.engine()
    sample = _sample(tenant_id)

    async def writer(number: int) -> None:
        for index in range(entries):
            async with engine.connect() as connection:
                assert connection.sync_connection is not None
                driver = connection.sync_connection.connection.driver_connection
                await driver.execute(
                    PLAIN_INSERT,
                    _plain_row(sample, number * entries + index),
                )
                await driver.commit()

    started = time.perf_counter()
    await asyncio.gather(*(writer(number) for number in range(writers)))
    return time.perf_counter() - started


def _plain_row(sample: AuditEntry, seq: int) -> tuple[object, ...]:
    """One same-shaped row for the unchained table (fixed, meaningless hashes)."""
    fake_hash = b"\x00" * 32
    return (
        str(sample.tenant_id),
        seq,
        ACTOR.kind.value,
        ACTOR.id,
        ACTOR.label,
        sample.action,
        "connectwise",
        str(seq),
        sample.payload_json,
        "succeeded",
        fake_hash,
        fake_hash,
    )


def _sample(tenant_id: object) -> AuditEntry:
    return AuditEntry.record(
        tenant_id=tenant_id,  # type: ignore[arg-type]
        occurred_at=time_now(),
        actor=ACTOR,
        action="writeback.ticket.add_note",
        target=AuditTarget(system="connectwise", object_id="x"),
        outcome=Outcome.SUCCEEDED,
        payload=PAYLOAD,
    )


def time_now():  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    return datetime.now(UTC)


async def main(writers: int, entries: int) -> int:
    with bench_database() as url:
        await migrate(url)
        with psycopg.connect(url, autocommit=True) as owner:
            owner.execute(PLAIN_TABLE)
        settings = Settings(database_url=url, secret_key=SECRET)
        container = Container(
            settings=settings, database_url=await runtime_login(url), secret_key=SECRET
        )
        services = container.services()
        tenant = await services.tenancy.create_tenant("Bench MSP")
        total = writers * entries

        await plain(url, tenant.id, writers, 20)  # warm up every path
        await plain_pooled(container, tenant.id, writers, 20)
        await chained(container, tenant.id, writers, 20)
        plain_seconds = await plain(url, tenant.id, writers, entries)
        pooled_seconds = await plain_pooled(container, tenant.id, writers, entries)
        chained_seconds = await chained(container, tenant.id, writers, entries)
        report = await services.audit.verify()
        await container.linker().close()
        await container.http_client().aclose()
        await container.engine().dispose()

    plain_rate = total / plain_seconds
    pooled_rate = total / pooled_seconds
    chained_rate = total / chained_seconds
    print(f"writers: {writers}, entries per writer: {entries}, total per side: {total}")
    for label, rate, seconds in (
        ("plain INSERT, raw psycopg (baseline)", plain_rate, plain_seconds),
        ("plain INSERT, Vectis's pool", pooled_rate, pooled_seconds),
        ("audit append, chained + RLS", chained_rate, chained_seconds),
    ):
        print(f"{label:<38} {rate:7.0f} rows/s ({seconds:.2f} s)")
    print(
        f"{'ratio chained / pooled plain':<38} {chained_rate / pooled_rate:7.2f}"
        "   (goal >= 0.50: what the chain and the RLS setting cost)"
    )
    print(
        f"{'ratio chained / raw plain':<38} {chained_rate / plain_rate:7.2f}"
        "   (also charges the connection pool and unit of work)"
    )
    print(
        f"chain verified after the run: {'ok' if report.ok else 'BROKEN'} "
        f"({report.entries} entries in {report.tenants} chain)"
    )
    return 0 if report.ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--entries", type=int, default=400)
    arguments = parser.parse_args()
    sys.exit(asyncio.run(main(arguments.writers, arguments.entries)))
