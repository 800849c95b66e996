"""The chain walker finds the first broken link, whatever the kind of tampering."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import attrs

from vectis.domain.audit import (
    Actor,
    ActorKind,
    AuditEntry,
    AuditRecord,
    AuditTarget,
    ChainHead,
    ChainWalker,
    Outcome,
    chain_hash,
    genesis_hash,
)

TENANT = uuid4()


def _chain(length: int) -> list[AuditRecord]:
    records, prev = [], genesis_hash(TENANT)
    start = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
    for seq in range(1, length + 1):
        entry = AuditEntry.record(
            tenant_id=TENANT,
            occurred_at=start + timedelta(minutes=seq),
            actor=Actor(kind=ActorKind.OPERATOR, id="op-1", label="sam@example.com"),
            action="ticket.add_note",
            target=AuditTarget(system="connectwise", object_id=str(4800 + seq)),
            outcome=Outcome.SUCCEEDED,
            payload={"text": f"note {seq}", "pct_used": 96.4},
        )
        digest = chain_hash(prev, seq, entry.content_digest())
        records.append(AuditRecord(id=seq * 10, seq=seq, entry=entry, prev_hash=prev, hash=digest))
        prev = digest
    return records


def _walk(
    records: list[AuditRecord], head: ChainHead | None, checkpoint: ChainHead | None = None
) -> object:
    walker = ChainWalker(TENANT, checkpoint=checkpoint)
    for record in records:
        found = walker.step(record)
        if found:
            return found
    return walker.finish(head)


def _head(records: list[AuditRecord]) -> ChainHead:
    return ChainHead(tenant_id=TENANT, seq=records[-1].seq, hash=records[-1].hash)


def test_an_intact_chain_verifies() -> None:
    records = _chain(5)
    assert _walk(records, _head(records)) is None


def test_an_altered_payload_is_named() -> None:
    records = _chain(5)
    altered = attrs.evolve(records[2].entry, payload_json='{"text":"nothing happened"}')
    records[2] = attrs.evolve(records[2], entry=altered)

    found = _walk(records, _head(records))

    assert found.seq == 3 and found.record_id == 30 and "altered" in found.reason  # type: ignore[attr-defined]


def test_a_changed_actor_or_time_is_caught_too() -> None:
    records = _chain(3)
    moved = attrs.evolve(
        records[0].entry, occurred_at=records[0].entry.occurred_at + timedelta(seconds=1)
    )
    records[0] = attrs.evolve(records[0], entry=moved)
    assert _walk(records, _head(records)).seq == 1  # type: ignore[attr-defined]


def test_a_missing_entry_is_named() -> None:
    records = _chain(5)
    del records[1]
    found = _walk(records, _head(records))
    assert found.seq == 3 and "missing" in found.reason  # type: ignore[attr-defined]


def test_a_dropped_tail_shows_against_the_head() -> None:
    records = _chain(5)
    head = _head(records)
    found = _walk(records[:3], head)
    assert "does not match" in found.reason  # type: ignore[attr-defined]


def test_a_consistent_rewrite_shows_only_against_a_checkpoint() -> None:
    original = _chain(4)
    checkpoint = ChainHead(tenant_id=TENANT, seq=2, hash=original[1].hash)
    rewritten, prev = [], genesis_hash(TENANT)
    for record in original:
        entry = attrs.evolve(
            record.entry, actor=Actor(kind=ActorKind.SYSTEM, id=None, label="nobody")
        )
        digest = chain_hash(prev, record.seq, entry.content_digest())
        rewritten.append(attrs.evolve(record, entry=entry, prev_hash=prev, hash=digest))
        prev = digest

    assert _walk(rewritten, _head(rewritten)) is None
    found = _walk(rewritten, _head(rewritten), checkpoint)
    assert found.seq == 2 and "checkpoint" in found.reason  # type: ignore[attr-defined]


def test_payload_text_is_canonical_whatever_the_key_order() -> None:
    now = datetime.now(UTC)
    common = {
        "tenant_id": TENANT,
        "occurred_at": now,
        "actor": Actor(kind=ActorKind.SYSTEM, id=None, label="x"),
        "action": "a",
        "target": AuditTarget(system="s"),
        "outcome": Outcome.SUCCEEDED,
    }
    one = AuditEntry.record(payload={"b": 1, "a": [1, 2]}, **common)  # type: ignore[arg-type]
    two = AuditEntry.record(payload={"a": [1, 2], "b": 1}, **common)  # type: ignore[arg-type]
    assert one.payload_json == two.payload_json == '{"a":[1,2],"b":1}'
    assert one.content_digest() == two.content_digest()
