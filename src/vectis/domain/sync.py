"""Syncing a vendor account into the unified model: the port connectors offer, and the record
of each run."""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Protocol
from uuid import UUID

from attrs import field, frozen

from vectis.domain.integration import capability
from vectis.domain.records import SyncBatch


@capability("cannot be synced by Vectis yet")
class SyncSource(Protocol):
    """One vendor account, read as named streams (``companies``, ``tickets``, ``notes``…).

    ``streams`` is in dependency order (companies before the tickets that name them). ``read``
    yields mapped pages; with a ``cursor`` from an earlier run it yields only what changed since,
    and when nothing changed it costs one cheap request.
    """

    @property
    def streams(self) -> Sequence[str]: ...

    @property
    def snapshots(self) -> Sequence[str]:
        """Streams read in full every time (the vendor has no updated-since filter): what
        such a read no longer lists is gone at the vendor."""
        ...

    @property
    def read_methods(self) -> Mapping[str, str]:
        """How each stream reads — a documented changed-since filter, or a full read whose
        changes Vectis detects — in a technician's words, kept on the sync-run record."""
        ...

    async def check(self) -> str:
        """One cheap authenticated call; return a label for the account (raise ``VendorError``)."""
        ...

    def read(self, stream: str, cursor: str | None) -> AsyncIterator[SyncBatch]: ...


def _strings(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


class SyncStatus(enum.StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"
    """Finished, but some records were skipped or some streams failed."""
    FAILED = "failed"


@frozen(kw_only=True)
class StreamCounts:
    fetched: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    method: str = ""
    """How the stream was read (the source's ``read_methods``)."""


@frozen(kw_only=True)
class SyncRun:
    """One sync of one integration: when, how much, and what went wrong."""

    id: UUID
    tenant_id: UUID
    integration_id: UUID
    started_at: datetime
    full: bool = False
    status: SyncStatus = SyncStatus.RUNNING
    finished_at: datetime | None = None
    counts: Mapping[str, StreamCounts] = field(factory=dict)
    errors: Sequence[str] = field(factory=tuple, converter=_strings)

    @property
    def total(self) -> StreamCounts:
        runs = list(self.counts.values())
        return StreamCounts(
            fetched=sum(c.fetched for c in runs),
            created=sum(c.created for c in runs),
            updated=sum(c.updated for c in runs),
            skipped=sum(c.skipped for c in runs),
        )
