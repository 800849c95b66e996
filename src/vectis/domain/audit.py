"""The append-only audit log: entries, secret redaction and the per-tenant hash chain.

Each tenant's entries form one chain: ``hash = SHA-256(prev_hash ‖ seq as 8 big-endian bytes ‖
content_digest)``. The content digest covers every field of the entry, with the payload in the
exact canonical JSON text that is stored, so a verifier recomputes it byte for byte.
"""

from __future__ import annotations

import enum
import hashlib
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from attrs import frozen

REDACTED = "[redacted]"
_SECRET_KEY = re.compile(
    r"pass(word|phrase)?|secret|token|api[-_]?key|private[-_]?key|authori[sz]ation|"
    r"credential|signing[-_]?key|cookie|session",
    re.IGNORECASE,
)
_SECRET_VALUE = re.compile(r"vectis_pat_[0-9A-Za-z]{36}")


class ActorKind(enum.StrEnum):
    OPERATOR = "operator"
    TOKEN = "token"  # noqa: S105 (an actor kind, not a secret)
    PORTAL_USER = "portal_user"
    RULE = "rule"
    SYSTEM = "system"


class Outcome(enum.StrEnum):
    REQUESTED = "requested"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    DENIED = "denied"


@frozen(kw_only=True)
class Actor:
    """Who did something: an operator, a token, a portal user, a rule or Vectis itself."""

    kind: ActorKind
    id: str | None
    label: str


@frozen(kw_only=True)
class AuditTarget:
    """What was acted on: a system (``vectis``, ``connectwise``…) and an object id in it."""

    system: str
    object_id: str | None = None


@frozen(kw_only=True)
class AuditEntry:
    """One fact for the audit log, before it is chained; its payload is already redacted."""

    tenant_id: UUID
    occurred_at: datetime
    actor: Actor
    action: str
    target: AuditTarget
    payload_json: str
    outcome: Outcome

    @classmethod
    def record(
        cls,
        *,
        tenant_id: UUID,
        occurred_at: datetime,
        actor: Actor,
        action: str,
        target: AuditTarget,
        outcome: Outcome,
        payload: Mapping[str, Any] | None = None,
    ) -> AuditEntry:
        """Build an entry, redacting secrets and fixing the payload's canonical text."""
        return cls(
            tenant_id=tenant_id,
            occurred_at=occurred_at.astimezone(UTC),
            actor=actor,
            action=action,
            target=target,
            payload_json=canonical_json(redact(dict(payload or {}))),
            outcome=outcome,
        )

    @property
    def payload(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.payload_json)
        return loaded

    def content_digest(self) -> bytes:
        header = canonical_json(
            {
                "tenant_id": str(self.tenant_id),
                "occurred_at": self.occurred_at.astimezone(UTC).isoformat(),
                "actor": {
                    "kind": self.actor.kind.value,
                    "id": self.actor.id,
                    "label": self.actor.label,
                },
                "action": self.action,
                "target": {"system": self.target.system, "object_id": self.target.object_id},
                "outcome": self.outcome.value,
            }
        )
        return hashlib.sha256(header.encode() + b"\n" + self.payload_json.encode()).digest()


@frozen(kw_only=True)
class AuditRecord:
    """An entry as stored, with its link in the tenant's chain once it has one.

    Links are added right after the entry's transaction commits; until then ``seq`` and the
    hashes are ``None`` (the entry is *pending*).
    """

    id: int
    entry: AuditEntry
    seq: int | None = None
    prev_hash: bytes | None = None
    hash: bytes | None = None

    @property
    def is_chained(self) -> bool:
        return self.seq is not None and self.hash is not None


@frozen(kw_only=True)
class ChainHead:
    """The latest link of one tenant's chain; kept outside the database as a checkpoint."""

    tenant_id: UUID
    seq: int
    hash: bytes

    @classmethod
    def genesis(cls, tenant_id: UUID) -> ChainHead:
        """The head of a chain with no entries yet."""
        return cls(tenant_id=tenant_id, seq=0, hash=genesis_hash(tenant_id))


@frozen(kw_only=True)
class ChainBreak:
    """The first entry of a tenant's chain that does not verify, and why."""

    tenant_id: UUID
    seq: int
    record_id: int | None
    reason: str

    def describe(self) -> str:
        where = f"entry #{self.seq}" + (f" (id {self.record_id})" if self.record_id else "")
        return f"tenant {self.tenant_id}: {where}: {self.reason}"


def genesis_hash(tenant_id: UUID) -> bytes:
    """The hash that the first entry of a tenant's chain links to."""
    return hashlib.sha256(b"vectis-audit-genesis:" + str(tenant_id).encode()).digest()


def chain_hash(prev_hash: bytes, seq: int, content_digest: bytes) -> bytes:
    return hashlib.sha256(prev_hash + seq.to_bytes(8, "big", signed=True) + content_digest).digest()


class ChainWalker:
    """Checks one tenant's records, fed in ``seq`` order, and reports the first break.

    ``checkpoint`` is an earlier head kept outside the database: it catches a chain that was
    rewritten wholesale by someone able to recompute every hash.
    """

    def __init__(self, tenant_id: UUID, *, checkpoint: ChainHead | None = None) -> None:
        self.tenant_id = tenant_id
        self.checkpoint = checkpoint
        self.checked = 0
        self._prev = genesis_hash(tenant_id)
        self._last_seq = 0
        self._last_id: int | None = None

    def step(self, record: AuditRecord) -> ChainBreak | None:
        problem = _check_link(record, self._last_seq + 1, self._prev)
        if problem is None and self._contradicts_checkpoint(record):
            problem = "hash differs from the checkpoint: the chain was rewritten"
        if problem or record.seq is None or record.hash is None:
            return ChainBreak(
                tenant_id=self.tenant_id,
                seq=record.seq or self._last_seq + 1,
                record_id=record.id,
                reason=problem or "is not in the chain",
            )
        self._prev, self._last_seq, self._last_id = record.hash, record.seq, record.id
        self.checked += 1
        return None

    def _contradicts_checkpoint(self, record: AuditRecord) -> bool:
        checkpoint = self.checkpoint
        return bool(checkpoint and record.seq == checkpoint.seq and record.hash != checkpoint.hash)

    def finish(self, head: ChainHead | None) -> ChainBreak | None:
        """Compare where the walk ended with the database's chain head and the checkpoint."""
        last_seq = self._last_seq
        if self.checkpoint and self.checkpoint.seq > last_seq:
            return ChainBreak(
                tenant_id=self.tenant_id,
                seq=last_seq + 1,
                record_id=None,
                reason=(
                    f"the checkpoint names entry #{self.checkpoint.seq} "
                    f"but the chain ends at #{last_seq}: entries were removed"
                ),
            )
        head_seq = head.seq if head else 0
        if head_seq != last_seq or (head is not None and head.hash != self._prev):
            return ChainBreak(
                tenant_id=self.tenant_id,
                seq=last_seq,
                record_id=self._last_id,
                reason=f"the chain head (#{head_seq}) does not match the last entry (#{last_seq})",
            )
        return None


def redact(value: Any) -> Any:
    """Replace secret-looking fields and token-shaped strings so they never reach the log."""
    if isinstance(value, Mapping):
        return {
            str(key): REDACTED if _SECRET_KEY.search(str(key)) else redact(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    if isinstance(value, str):
        return _SECRET_VALUE.sub(REDACTED, value)
    return value


def canonical_json(value: Any) -> str:
    """The one JSON text of a value: sorted keys, no spaces, no NaN, UTF-8 kept."""
    return json.dumps(
        value,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
        default=str,
    )


def _check_link(record: AuditRecord, expected_seq: int, prev: bytes) -> str | None:
    if record.seq is None or record.hash is None:
        return "is not in the chain"
    if record.seq != expected_seq:
        return f"expected entry #{expected_seq} next: an entry is missing or out of place"
    if record.prev_hash != prev:
        return "does not link to the entry before it"
    if record.hash != chain_hash(prev, record.seq, record.entry.content_digest()):
        return "content does not match its hash: the entry was altered"
    return None
