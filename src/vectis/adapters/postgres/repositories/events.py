"""The event stream and the inbox that deduplicates what connectors deliver."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime
from functools import cache
from typing import Any
from uuid import UUID

import psycopg
from psycopg.rows import tuple_row
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from vectis.adapters.postgres.bulk import Staged, apply, stage_rows
from vectis.adapters.postgres.storage import dump_inbound, load_inbound
from vectis.adapters.postgres.tables import events, inbox
from vectis.application.unit_of_work import InboxItem
from vectis.domain.events import Event, InboundEvent, SubjectRef
from vectis.domain.timeline import TimelineQuery

_TIMELINE_COLUMNS = (
    "id, source, kind, occurred_at, title, detail, site_id, "
    "subject_system, subject_type, subject_id, integration_id, payload"
)


_DAILY_COUNTS = (
    "SELECT (timezone(%(zone)s, occurred_at))::date AS day, kind, count(*) FROM events "
    "WHERE tenant_id = %(tenant)s AND customer_id = %(customer)s "
    "AND occurred_at >= %(since)s AND kind = ANY(%(kinds)s) GROUP BY 1, 2"
)

_STAGED_COLUMNS = (
    "tenant_id",
    "customer_id",
    "site_id",
    "source",
    "kind",
    "occurred_at",
    "title",
    "detail",
    "subject_system",
    "subject_type",
    "subject_id",
    "integration_id",
    "payload",
    "dedup_key",
)
"""The columns an event is staged with, in the order ``stage`` lists its values."""


class PostgresEventStream:
    def __init__(
        self,
        connection: AsyncConnection,
        driver: psycopg.AsyncConnection[Any] | None = None,
        tenant_id: UUID | None = None,
    ) -> None:
        self._connection = connection
        self._driver = driver
        self._tenant_id = tenant_id

    async def timeline(self, query: TimelineQuery, *, look_ahead: int = 0) -> list[Event]:
        """Up to ``query.limit + look_ahead`` entries of one customer, newest first, from
        ``query.after``.

        One short statement per filter combination, walking the (tenant, customer, time)
        index backwards: its cost follows the page size, not the history's length."""
        assert self._driver is not None, "the unit of work hands its driver connection over"
        assert self._tenant_id is not None, "a timeline belongs to one tenant"
        params: dict[str, Any] = {
            "tenant": self._tenant_id,
            "customer": query.customer_id,
            "limit": query.limit + look_ahead,
            "since": query.since,
            "until": query.until,
            "sources": sorted(query.sources),
            "kinds": sorted(query.kinds),
            "site": query.site.lower() if query.site else None,
            "at": query.after.occurred_at if query.after else None,
            "id": query.after.event_id if query.after else None,
        }
        statement = _timeline_statement(
            since=query.since is not None,
            until=query.until is not None,
            sources=bool(query.sources),
            kinds=bool(query.kinds),
            site=query.site is not None,
            after=query.after is not None,
        )
        async with self._driver.cursor(row_factory=tuple_row) as cursor:
            await cursor.execute(statement, params, prepare=True)
            rows = await cursor.fetchall()
        tenant, customer = self._tenant_id, query.customer_id
        return [
            Event(
                id=row[0],
                tenant_id=tenant,
                customer_id=customer,
                source=row[1],
                kind=row[2],
                occurred_at=row[3],
                title=row[4],
                detail=row[5],
                site_id=row[6],
                subject=SubjectRef(system=row[7], type=row[8], id=row[9]) if row[7] else None,
                integration_id=row[10],
                payload=row[11],
            )
            for row in rows
        ]

    async def daily_counts(
        self, customer_id: UUID, kinds: Collection[str], since: datetime, zone: str
    ) -> dict[date, dict[str, int]]:
        """How many events of each of ``kinds`` a customer had per local day since ``since``."""
        assert self._driver is not None, "the unit of work hands its driver connection over"
        assert self._tenant_id is not None, "a customer's events belong to one tenant"
        counts: dict[date, dict[str, int]] = {}
        async with self._driver.cursor(row_factory=tuple_row) as cursor:
            await cursor.execute(
                _DAILY_COUNTS,
                {
                    "zone": zone,
                    "tenant": self._tenant_id,
                    "customer": customer_id,
                    "since": since,
                    "kinds": sorted(kinds),
                },
            )
            for day, kind, count in await cursor.fetchall():
                counts.setdefault(day, {})[kind] = count
        return counts

    async def append(self, new_events: Sequence[Event]) -> list[int]:
        return await self.apply(await self.stage(new_events))

    async def apply(self, staged: Staged | None) -> list[int]:
        return [row.id for row in await apply(self._connection, staged)]

    async def stage(self, new_events: Sequence[Event]) -> Staged | None:
        """Copy events aside, to be appended by ``apply`` (locks nothing)."""
        if not new_events:
            return None
        rows = [
            (
                event.tenant_id,
                event.customer_id,
                event.site_id,
                event.source,
                event.kind,
                event.occurred_at,
                event.title,
                event.detail,
                event.subject.system if event.subject else None,
                event.subject.type if event.subject else None,
                event.subject.id if event.subject else None,
                event.integration_id,
                dict(event.payload),
                event.dedup_key,
            )
            for event in new_events
        ]
        return await stage_rows(
            self._connection,
            events,
            _STAGED_COLUMNS,
            rows,
            conflict=["integration_id", "dedup_key"],
            conflict_where="dedup_key IS NOT NULL",
            returning="id",
        )


# An entry is at a site when the record it is about is: a ticket whose vendor site, or a device
# (or the device an alert is on) whose site, has the site's name.
_AT_SITE = """(
    (subject_type = 'ticket' AND EXISTS (
        SELECT 1 FROM tickets t JOIN vendor_sites s
          ON s.integration_id = t.integration_id AND s.vendor_id = t.site_id
         WHERE t.integration_id = events.integration_id AND t.vendor_id = events.subject_id
           AND lower(s.name) = %(site)s))
    OR (subject_type = 'device' AND EXISTS (
        SELECT 1 FROM devices d
         WHERE d.integration_id = events.integration_id AND d.vendor_id = events.subject_id
           AND lower(d.site) = %(site)s))
    OR (subject_type = 'alert' AND EXISTS (
        SELECT 1 FROM alerts a JOIN devices d
          ON d.integration_id = a.integration_id AND d.vendor_id = a.device_id
         WHERE a.integration_id = events.integration_id AND a.vendor_id = events.subject_id
           AND lower(d.site) = %(site)s))
)"""


@cache
def _timeline_statement(
    *, since: bool, until: bool, sources: bool, kinds: bool, site: bool, after: bool
) -> str:
    """The timeline's SQL with only the conditions in use, so each plan stays simple."""
    conditions = ["tenant_id = %(tenant)s", "customer_id = %(customer)s"]
    if since:
        conditions.append("occurred_at >= %(since)s")
    if until:
        conditions.append("occurred_at < %(until)s")
    if sources:
        conditions.append("source = ANY(%(sources)s)")
    if kinds:
        conditions.append("kind = ANY(%(kinds)s)")
    if site:
        conditions.append(_AT_SITE)
    if after:
        conditions.append("(occurred_at, id) < (%(at)s, %(id)s)")
    return (
        f"SELECT {_TIMELINE_COLUMNS} FROM events WHERE "  # noqa: S608 (fixed fragments only)
        + " AND ".join(conditions)
        + " ORDER BY occurred_at DESC, id DESC LIMIT %(limit)s"
    )


class PostgresInbox:
    def __init__(self, connection: AsyncConnection, tenant_id: UUID | None) -> None:
        self._connection = connection
        self._tenant_id = tenant_id

    async def add(self, integration_id: UUID, new: Sequence[InboundEvent], at: datetime) -> int:
        if not new:
            return 0
        rows = [
            {
                "tenant_id": self._tenant_id,
                "integration_id": integration_id,
                "external_id": event.external_id,
                "kind": event.kind,
                "received_at": at,
                "event": dump_inbound(event),
            }
            for event in new
        ]
        statement = pg_insert(inbox).values(rows).on_conflict_do_nothing().returning(inbox.c.id)
        return len((await self._connection.execute(statement)).all())

    async def claim(self, limit: int) -> list[InboxItem]:
        statement = (
            select(inbox.c.id, inbox.c.integration_id, inbox.c.received_at, inbox.c.event)
            .where(inbox.c.tenant_id == self._tenant_id, inbox.c.processed_at.is_(None))
            .order_by(inbox.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [
            InboxItem(
                id=row.id,
                integration_id=row.integration_id,
                received_at=row.received_at,
                event=load_inbound(row.event),
            )
            for row in await self._connection.execute(statement)
        ]

    async def mark_processed(self, item_ids: Sequence[int], at: datetime) -> None:
        if item_ids:
            await self._connection.execute(
                update(inbox).where(inbox.c.id.in_(list(item_ids))).values(processed_at=at)
            )
