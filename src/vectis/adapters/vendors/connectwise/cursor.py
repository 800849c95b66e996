"""The sync cursor of ConnectWise streams: a ``lastUpdated`` watermark, plus the parents read at it.

Incremental streams ask for ``lastUpdated >= [watermark]``: inclusive, so a record changed in
the same second as the watermark is never missed, and re-reading the boundary record is
harmless. Streams that fetch children per parent (notes per ticket, sites per company,
additions per agreement) also remember which parents they already read at the watermark
second, so an unchanged account costs one request — the parent query — and not one more per
boundary parent. Encoded as ``2026-11-27T08:34:12Z`` or ``2026-11-27T08:34:12Z|5001,5002``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from attrs import frozen

TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


@frozen
class Watermark:
    time: datetime | None = None
    seen: frozenset[int] = frozenset()

    @classmethod
    def parse(cls, cursor: str | None) -> Watermark:
        """The watermark a cursor stands for; an unreadable cursor reads everything again."""
        if not cursor:
            return cls()
        stamp, _, ids = cursor.partition("|")
        try:
            time = datetime.strptime(stamp, TIME_FORMAT).replace(tzinfo=UTC)
            seen = frozenset(int(part) for part in ids.split(",") if part)
        except ValueError:
            return cls()
        return cls(time, seen)

    def condition(self) -> str | None:
        """ConnectWise's condition syntax: datetimes go in square brackets."""
        return f"lastUpdated >= [{self.time.strftime(TIME_FORMAT)}]" if self.time else None

    def already_read(self, record: Mapping[str, Any]) -> bool:
        return (
            self.time is not None and _stamp(record) == self.time and record.get("id") in self.seen
        )

    def advance(self, record: Mapping[str, Any]) -> Watermark:
        """The watermark once ``record`` is stored (pages come in ``lastUpdated`` order)."""
        stamp = _stamp(record)
        if stamp is None or (self.time is not None and stamp < self.time):
            return self
        record_id = record.get("id")
        ids = frozenset((record_id,)) if isinstance(record_id, int) else frozenset()
        if stamp == self.time:
            return Watermark(stamp, self.seen | ids)
        return Watermark(stamp, ids)

    def encode(self, *, with_seen: bool) -> str | None:
        if self.time is None:
            return None
        stamp = self.time.strftime(TIME_FORMAT)
        if with_seen and self.seen:
            return stamp + "|" + ",".join(str(record_id) for record_id in sorted(self.seen))
        return stamp


def _stamp(record: Mapping[str, Any]) -> datetime | None:
    """``_info.lastUpdated`` to the second (truncating keeps the ``>=`` filter inclusive)."""
    info = record.get("_info")
    value = info.get("lastUpdated") if isinstance(info, Mapping) else None
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    parsed = parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return parsed.replace(microsecond=0)
