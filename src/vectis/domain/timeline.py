"""A customer's timeline: its slice of the event stream, newest first, read page by page.

Pages are cut by keyset (the last entry's time and id), never by offset, so a page costs the
same at the top of a ten-year history as at its end, and new events never shift a page.
"""

from __future__ import annotations

import base64
import binascii
import enum
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from attrs import field, frozen

from vectis.domain.errors import InvalidValue
from vectis.domain.events import Event, EventKind

PAGE_SIZE = 100
MAX_PAGE_SIZE = 500


class Topic(enum.StrEnum):
    """What kinds of entry an operator filters the timeline by."""

    TICKETS = "tickets"
    ALERTS = "alerts"
    PATCHING = "patching"
    ANTIVIRUS = "antivirus"
    NOTES = "notes"
    WRITEBACKS = "writebacks"

    @property
    def kinds(self) -> frozenset[str]:
        return _KINDS[self]

    @property
    def label(self) -> str:
        return self.value.replace("writebacks", "write-backs").capitalize()


_KINDS = {
    Topic.TICKETS: frozenset(
        {
            EventKind.TICKET_OPENED,
            EventKind.TICKET_UPDATED,
            EventKind.TICKET_CLOSED,
            EventKind.TICKET_DELETED,
            EventKind.TICKET_NOTE_ADDED,
            EventKind.TICKET_REPLY_RECEIVED,
        }
    ),
    Topic.ALERTS: frozenset({EventKind.ALERT_RAISED, EventKind.ALERT_RESET}),
    Topic.PATCHING: frozenset({EventKind.PATCH_CYCLE_COMPLETED}),
    Topic.ANTIVIRUS: frozenset({EventKind.AV_DEFINITIONS_UPDATED}),
    Topic.NOTES: frozenset({EventKind.NOTE_ADDED, EventKind.NOTE_EDITED}),
    Topic.WRITEBACKS: frozenset({EventKind.WRITEBACK_SUCCEEDED, EventKind.WRITEBACK_FAILED}),
}


@frozen(kw_only=True, order=True)
class TimelinePosition:
    """Where a page ended: the next page starts strictly older than this entry."""

    occurred_at: datetime
    event_id: int

    def encode(self) -> str:
        raw = f"{self.occurred_at.isoformat()}|{self.event_id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> TimelinePosition:
        """The position a page link carries; a tampered or truncated one is refused."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
            when, _, event_id = raw.partition("|")
            position = cls(occurred_at=datetime.fromisoformat(when), event_id=int(event_id))
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise InvalidValue(
                "the timeline page link is not valid; start again from the top"
            ) from None
        if position.occurred_at.tzinfo is None:
            raise InvalidValue("the timeline page link is not valid; start again from the top")
        return position


@frozen(kw_only=True)
class TimelineQuery:
    """One page of one customer's timeline: a time range, sources and topics to keep."""

    customer_id: UUID
    since: datetime | None = None
    until: datetime | None = None
    sources: frozenset[str] = frozenset()
    topics: frozenset[Topic] = frozenset()
    site: str | None = None
    """One site of a multi-site customer, by name: entries about its tickets and devices."""
    after: TimelinePosition | None = None
    limit: int = PAGE_SIZE

    def __attrs_post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_PAGE_SIZE:
            raise InvalidValue(f"a timeline page holds 1 to {MAX_PAGE_SIZE} entries")
        for moment in (self.since, self.until):
            if moment is not None and moment.tzinfo is None:
                raise InvalidValue("timeline bounds must carry a time zone")
        if self.since and self.until and self.since >= self.until:
            raise InvalidValue("the timeline range must start before it ends")

    @property
    def kinds(self) -> frozenset[str]:
        """The event kinds the topics stand for (empty: every kind)."""
        return frozenset().union(*(topic.kinds for topic in self.topics))


@frozen(kw_only=True)
class TimelinePage:
    entries: Sequence[Event]
    next: TimelinePosition | None = None
    """Where the following (older) page starts; ``None`` on the last page."""


@frozen(kw_only=True)
class Day:
    """Entries of one calendar day in the operator's time zone."""

    day: date
    entries: Sequence[Event] = field(factory=tuple)


def by_day(entries: Iterable[Event], zone: str) -> list[Day]:
    """Group newest-first entries by their local day, keeping their order."""
    local = ZoneInfo(zone)
    days: list[Day] = []
    current: list[Event] = []
    current_day: date | None = None
    for entry in entries:
        day = entry.occurred_at.astimezone(local).date()
        if day != current_day:
            if current_day is not None:
                days.append(Day(day=current_day, entries=tuple(current)))
            current_day, current = day, []
        current.append(entry)
    if current_day is not None:
        days.append(Day(day=current_day, entries=tuple(current)))
    return days


def period(name: str, now: datetime, zone: str) -> tuple[datetime, datetime]:
    """``today`` or ``week`` (the last seven days including today) in the operator's zone."""
    local_now = now.astimezone(ZoneInfo(zone))
    midnight = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
    tomorrow = midnight + timedelta(days=1)
    if name == "today":
        return midnight, tomorrow
    if name == "week":
        return midnight - timedelta(days=6), tomorrow
    raise InvalidValue(f"unknown period {name!r}; expected today or week")


def day_range(
    first: date | None, last: date | None, zone: str
) -> tuple[datetime | None, datetime | None]:
    """From the start of ``first`` to the end of ``last``, local days in ``zone`` (either
    end may be open)."""
    local = ZoneInfo(zone)
    since = datetime(first.year, first.month, first.day, tzinfo=local) if first else None
    until = (
        datetime(last.year, last.month, last.day, tzinfo=local) + timedelta(days=1)
        if last
        else None
    )
    if since and until and since >= until:
        raise InvalidValue("the range must start on or before the day it ends")
    return since, until


def parse_topics(values: Iterable[str]) -> frozenset[Topic]:
    topics = set()
    for value in values:
        try:
            topics.add(Topic(value))
        except ValueError:
            names = ", ".join(topic.value for topic in Topic)
            raise InvalidValue(f"unknown timeline topic {value!r}; expected {names}") from None
    return frozenset(topics)
