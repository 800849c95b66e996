"""The audit log is append-only, hash-chained per tenant, and tampering is detected."""

from __future__ import annotations

import asyncio
import itertools
import json
from uuid import UUID

import psycopg
import pytest

from tests.conftest import app_connection, owner_connection
from tests.factories import make_tenant
from vectis.adapters.clock import SystemClock
from vectis.application.audit import record
from vectis.application.services import Services
from vectis.container import Container
from vectis.domain.audit import (
    REDACTED,
    Actor,
    ActorKind,
    AuditTarget,
    ChainHead,
    Outcome,
    chain_hash,
    genesis_hash,
)

ROBOT = Actor(kind=ActorKind.SYSTEM, id=None, label="test")


async def _append(container: Container, tenant_id: UUID, count: int, **payload: object) -> None:
    """Append ``count`` entries, each in its own unit of work, and wait until they are linked."""
    for index in range(count):
        async with container.uow()(tenant_id) as uow:
            await record(
                uow,
                SystemClock(),
                actor=ROBOT,
                action="test.append",
                target=AuditTarget(system="test", object_id=str(index)),
                outcome=Outcome.SUCCEEDED,
                payload={"index": index, **payload},
            )
            await uow.commit()
    await container.linker().drain()


def _tamper(database_url: str, *statements: tuple[str, tuple[object, ...]]) -> list[object]:
    """Run statements as the owner with the append-only triggers switched off, as an attacker
    holding the owner role could."""
    results = []
    with owner_connection(database_url) as owner, owner.transaction():
        owner.execute("ALTER TABLE audit_log DISABLE TRIGGER USER")
        owner.execute("ALTER TABLE audit_chain DISABLE TRIGGER USER")
        for statement, parameters in statements:
            cursor = owner.execute(statement, parameters)  # type: ignore[arg-type]
            assert cursor.rowcount > 0, f"the tampering touched nothing: {statement}"
            results.append(cursor.fetchone() if cursor.description else None)
        owner.execute("ALTER TABLE audit_chain ENABLE TRIGGER USER")
        owner.execute("ALTER TABLE audit_log ENABLE TRIGGER USER")
    return results


async def test_entries_link_into_one_chain_per_tenant(
    services: Services, container: Container, database_url: str
) -> None:
    north = await make_tenant(services, "North IT")
    south = await make_tenant(services, "South IT")
    await _append(container, north.tenant.id, 3)
    await container.linker().drain()

    with owner_connection(database_url) as owner:
        rows = owner.execute(
            "SELECT tenant_id, seq, prev_hash, hash FROM audit_chain ORDER BY tenant_id, seq"
        ).fetchall()
        pending = owner.execute("SELECT count(*) FROM audit_pending").fetchone()
    by_tenant: dict[UUID, list[tuple[int, bytes, bytes]]] = {}
    for tenant_id, seq, prev_hash, hash_ in rows:
        by_tenant.setdefault(tenant_id, []).append((seq, bytes(prev_hash), bytes(hash_)))

    assert pending == (0,), "the linker has linked every committed entry"
    for tenant_id, chain in by_tenant.items():
        assert [seq for seq, _, _ in chain] == list(range(1, len(chain) + 1))
        assert chain[0][1] == genesis_hash(tenant_id)
        for (_, _, previous), (_, prev_hash, _) in itertools.pairwise(chain):
            assert prev_hash == previous
    assert len(by_tenant[north.tenant.id]) == len(by_tenant[south.tenant.id]) + 3
    assert (await services.audit.verify()).ok


async def test_the_stored_link_is_the_domains_hash_of_the_stored_entry(
    services: Services, container: Container
) -> None:
    world = await make_tenant(services)
    async with container.uow()(world.tenant.id) as uow:
        await record(
            uow,
            SystemClock(),
            actor=ROBOT,
            action="test.hash",
            target=AuditTarget(system="test"),
            outcome=Outcome.SUCCEEDED,
            payload={"pct_used": 96.4, "big": 1e20, "name": "Zoë"},
        )
        await uow.commit()
    await container.linker().drain()
    async with container.uow()(world.tenant.id) as uow:
        (stored,) = [
            item for item in await uow.audit.latest(50) if item.entry.action == "test.hash"
        ]

    assert stored.seq is not None and stored.prev_hash is not None
    assert stored.hash == chain_hash(stored.prev_hash, stored.seq, stored.entry.content_digest())
    assert stored.entry.payload == {"pct_used": 96.4, "big": 1e20, "name": "Zoë"}


async def test_secrets_are_redacted_before_they_are_chained(
    services: Services, container: Container, database_url: str
) -> None:
    world = await make_tenant(services)
    await _append(
        container,
        world.tenant.id,
        1,
        password="hunter2",
        nested={"api_key": "abc", "note": "token vectis_pat_" + "a" * 36},
    )
    with owner_connection(database_url) as owner:
        payload = owner.execute(
            "SELECT payload::text FROM audit_log WHERE action = 'test.append'"
        ).fetchone()[0]  # type: ignore[index]
    assert "hunter2" not in payload and "abc" not in payload and "vectis_pat_a" not in payload
    assert json.loads(payload)["password"] == REDACTED


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_log SET outcome = 'failed'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
        "UPDATE audit_chain SET hash = prev_hash",
        "DELETE FROM audit_chain",
        "TRUNCATE audit_chain",
        # Only vectis_link_audit() links entries, moves a chain head or clears a pending mark.
        "INSERT INTO audit_chain (tenant_id, seq, entry_id, prev_hash, hash) "
        "VALUES (gen_random_uuid(), 1, 1, '\\x00', '\\x00')",
        "UPDATE audit_chain_heads SET seq = seq + 1",
        "INSERT INTO audit_chain_heads (tenant_id, seq, hash) "
        "VALUES (gen_random_uuid(), 0, '\\x00')",
        "DELETE FROM audit_pending",
    ],
)
async def test_the_application_role_cannot_change_or_remove_entries(
    services: Services, database_url: str, statement: str
) -> None:
    world = await make_tenant(services)
    with app_connection(database_url) as connection:
        connection.execute(
            "SELECT set_config('vectis.tenant_id', %s, true)", (str(world.tenant.id),)
        )
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            connection.execute(statement)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("statement", "complaint"),
    [
        ("UPDATE audit_log SET outcome = 'failed'", "audit_log is append-only: UPDATE"),
        ("DELETE FROM audit_log", "audit_log is append-only: DELETE"),
        ("TRUNCATE audit_log CASCADE", "is append-only: TRUNCATE"),
        ("UPDATE audit_chain SET hash = prev_hash", "audit_chain is append-only: UPDATE"),
        ("DELETE FROM audit_chain", "audit_chain is append-only: DELETE"),
        ("TRUNCATE audit_chain", "audit_chain is append-only: TRUNCATE"),
    ],
)
async def test_even_the_owner_is_stopped_by_the_triggers(
    services: Services,
    container: Container,
    database_url: str,
    statement: str,
    complaint: str,
) -> None:
    await make_tenant(services)
    # The chain is linked after the entries commit: without links, an UPDATE or DELETE of
    # audit_chain touches no row and its row triggers never run.
    await container.linker().drain()
    with (
        owner_connection(database_url) as owner,
        pytest.raises(psycopg.errors.InsufficientPrivilege, match=complaint),
    ):
        owner.execute(statement)  # type: ignore[arg-type]


async def test_verify_names_the_entry_an_owner_edited_behind_the_triggers(
    services: Services, container: Container, database_url: str
) -> None:
    world = await make_tenant(services)
    await _append(container, world.tenant.id, 4)
    (edited,) = _tamper(
        database_url,
        (
            "UPDATE audit_log e SET payload = '{\"index\":99}' FROM audit_chain c "
            "WHERE c.entry_id = e.id AND e.tenant_id = %s AND e.action = 'test.append' "
            "AND e.target_id = '2' RETURNING c.seq, e.id",
            (str(world.tenant.id),),
        ),
    )

    report = await services.audit.verify()

    assert not report.ok
    (broken,) = report.breaks
    assert (broken.tenant_id, broken.seq, broken.record_id) == (world.tenant.id, *edited)  # type: ignore[misc]
    assert "altered" in broken.reason


async def test_verify_notices_a_deleted_entry(
    services: Services, container: Container, database_url: str
) -> None:
    world = await make_tenant(services)
    await _append(container, world.tenant.id, 3)
    _tamper(
        database_url,
        (
            "WITH gone AS (DELETE FROM audit_chain WHERE tenant_id = %s AND seq = 2 "
            "RETURNING entry_id) DELETE FROM audit_log WHERE id IN (SELECT entry_id FROM gone)",
            (str(world.tenant.id),),
        ),
    )

    (broken,) = (await services.audit.verify()).breaks
    assert broken.seq == 3
    assert "missing" in broken.reason


async def test_a_checkpoint_catches_a_chain_rewritten_wholesale(
    services: Services, container: Container, database_url: str
) -> None:
    world = await make_tenant(services)
    await _append(container, world.tenant.id, 3)
    checkpoint = {head.tenant_id: head for head in await services.audit.checkpoint()}

    # A superuser rewrites one entry and recomputes every hash after it: the chain is
    # internally consistent again, so only the checkpoint kept elsewhere can tell.
    _tamper(
        database_url,
        (
            "UPDATE audit_log SET actor_label = 'someone else' "
            "WHERE id = (SELECT entry_id FROM audit_chain WHERE tenant_id = %s AND seq = 1)",
            (str(world.tenant.id),),
        ),
    )
    await _rehash(container, database_url, world.tenant.id)

    assert (await services.audit.verify()).ok, "the rewrite is self-consistent"
    (broken,) = (await services.audit.verify(checkpoint)).breaks
    assert "checkpoint" in broken.reason


async def test_a_checkpoint_catches_a_truncated_chain(
    services: Services, container: Container
) -> None:
    world = await make_tenant(services)
    await _append(container, world.tenant.id, 2)
    head = next(h for h in await services.audit.checkpoint() if h.tenant_id == world.tenant.id)
    ahead = ChainHead(tenant_id=head.tenant_id, seq=head.seq + 5, hash=head.hash)

    report = await services.audit.verify({world.tenant.id: ahead})

    assert "removed" in report.breaks[0].reason


async def test_concurrent_writers_of_one_tenant_keep_one_linear_chain(
    services: Services, container: Container, database_url: str
) -> None:
    world = await make_tenant(services)
    await asyncio.gather(*[_append(container, world.tenant.id, 10) for _ in range(8)])
    await container.linker().drain()

    with owner_connection(database_url) as owner:
        seqs = [
            row[0]
            for row in owner.execute(
                "SELECT seq FROM audit_chain WHERE tenant_id = %s ORDER BY seq",
                (str(world.tenant.id),),
            )
        ]
        entries = owner.execute(
            "SELECT count(*) FROM audit_log WHERE tenant_id = %s", (str(world.tenant.id),)
        ).fetchone()
    assert seqs == list(range(1, len(seqs) + 1))
    assert entries == (len(seqs),)
    assert (await services.audit.verify()).ok


async def test_entries_a_crashed_writer_left_unlinked_are_linked_later(
    services: Services, container: Container
) -> None:
    world = await make_tenant(services)
    await container.linker().close()  # no background linking: only the sealing job can link it
    await _commit_without_linking(container, world.tenant.id)

    assert await services.audit.seal_all() == 1
    assert (await services.audit.verify()).ok


async def test_an_entry_whose_pending_mark_was_removed_is_reported(
    services: Services, container: Container, database_url: str
) -> None:
    world = await make_tenant(services)
    await container.linker().close()
    await _commit_without_linking(container, world.tenant.id)
    with owner_connection(database_url) as owner:  # the runtime role may not delete it
        (hidden,) = owner.execute(  # type: ignore[misc]
            "DELETE FROM audit_pending WHERE tenant_id = %s RETURNING entry_id",
            (world.tenant.id,),
        ).fetchone()

    (broken,) = (await services.audit.verify()).breaks

    assert broken.record_id == hidden
    assert "neither in the chain nor waiting" in broken.reason


async def _commit_without_linking(container: Container, tenant_id: UUID) -> None:
    """Commit an entry the way a unit of work does, then stop, as a crashed writer would."""
    async with container.uow()(tenant_id) as uow:
        await record(
            uow,
            SystemClock(),
            actor=ROBOT,
            action="test.crash",
            target=AuditTarget(system="test"),
            outcome=Outcome.SUCCEEDED,
        )
        await uow.audit.write_and_commit()  # type: ignore[attr-defined]


async def _rehash(container: Container, database_url: str, tenant_id: UUID) -> None:
    """Recompute a tenant's whole chain the way an attacker with the owner role could."""
    async with container.uow()(tenant_id) as uow:
        records = await uow.audit.records_after(0, up_to=10_000, limit=10_000)
    prev = genesis_hash(tenant_id)
    statements: list[tuple[str, tuple[object, ...]]] = []
    for stored in records:
        assert stored.seq is not None
        new_hash = chain_hash(prev, stored.seq, stored.entry.content_digest())
        statements.append(
            (
                "UPDATE audit_chain SET prev_hash = %s, hash = %s WHERE entry_id = %s",
                (prev, new_hash, stored.id),
            )
        )
        prev = new_hash
    statements.append(
        ("UPDATE audit_chain_heads SET hash = %s WHERE tenant_id = %s", (prev, str(tenant_id)))
    )
    _tamper(database_url, *statements)
