"""The hub's tables and figures over the unified model: sorted, filtered, keyset-paged lists
of a customer's tickets, alerts and devices, and the counts its overview and badges show."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any
from uuid import UUID

from sqlalchemy import (
    Select,
    Table,
    and_,
    case,
    false,
    func,
    literal,
    or_,
    select,
    true,
    tuple_,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from vectis.adapters.postgres.record_tables import RecordTable, table_of
from vectis.adapters.postgres.tables import alerts, devices, tickets, vendor_sites
from vectis.domain import record_types
from vectis.domain.errors import InvalidValue
from vectis.domain.listing import Listed, ListPosition, ListQuery, as_text
from vectis.domain.records import Alert, AlertState, Device, Held, Severity, Ticket

UNASSIGNED = "Unassigned"
_TICKETS = table_of(record_types.TICKET)
_ALERTS = table_of(record_types.ALERT)
_DEVICES = table_of(record_types.DEVICE)


def _sla_breached() -> ColumnElement[bool]:
    """Open tickets past an SLA target at the transaction's time: the SQL twin of
    ``TicketSla.state(...) == SlaState.BREACHED``, so the filter and the count agree with
    the badge the table shows."""
    now = func.now()
    return and_(
        tickets.c.closed.is_(False),
        or_(
            tickets.c.sla_in_sla.is_(False),
            func.coalesce(tickets.c.sla_responded_at, now) > tickets.c.sla_respond_by,
            tickets.c.sla_resolve_by < now,
        ),
    )


class PostgresRecordListings:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def tickets(self, query: ListQuery) -> Listed[Held[Ticket]]:
        statement = _live(tickets, query.customer_id)
        state = query.keep("state")
        if state == {"open"}:
            statement = statement.where(tickets.c.closed.is_(False))
        elif state == {"closed"}:
            statement = statement.where(tickets.c.closed.is_(True))
        for column in ("status", "priority"):
            if query.keep(column):
                statement = statement.where(tickets.c[column].in_(sorted(query.keep(column))))
        owners = query.keep("owner")
        if owners:
            statement = statement.where(
                or_(
                    tickets.c.owner.in_(sorted(owners - {UNASSIGNED})),
                    tickets.c.owner.is_(None) if UNASSIGNED in owners else false(),
                )
            )
        if query.keep("sla") == {"breached"}:
            statement = statement.where(_sla_breached())
        if query.keep("site"):
            named = select(vendor_sites.c.vendor_id).where(
                vendor_sites.c.integration_id == tickets.c.integration_id,
                func.lower(vendor_sites.c.name).in_([s.lower() for s in query.keep("site")]),
            )
            statement = statement.where(tickets.c.site_id.in_(named.scalar_subquery()))
        if query.search:
            pattern = _contains(query.search)
            statement = statement.where(
                or_(tickets.c.summary.ilike(pattern), tickets.c.number.ilike(pattern))
            )
        rows, following = await self._page(statement, _TICKETS, query)
        options = {
            column: await self._distinct(tickets, tickets.c[column], query.customer_id)
            for column in ("status", "priority", "owner")
        }
        options["owner"] = [UNASSIGNED, *options["owner"]]
        return Listed(
            rows=[
                Held(integration_id=row.integration_id, record=_TICKETS.of_row(row)) for row in rows
            ],
            next=following,
            options=options,
        )

    async def alerts(self, query: ListQuery) -> Listed[Held[Alert]]:
        statement = _live(alerts, query.customer_id)
        state = query.keep("state")
        if state == {"active"}:
            statement = statement.where(alerts.c.state != AlertState.RESOLVED)
        elif state == {"resolved"}:
            statement = statement.where(alerts.c.state == AlertState.RESOLVED)
        if query.keep("severity"):
            statement = statement.where(alerts.c.severity.in_(sorted(query.keep("severity"))))
        if query.keep("site"):
            on_site = select(devices.c.vendor_id).where(
                devices.c.integration_id == alerts.c.integration_id,
                func.lower(devices.c.site).in_([s.lower() for s in query.keep("site")]),
            )
            statement = statement.where(alerts.c.device_id.in_(on_site.scalar_subquery()))
        if query.search:
            statement = statement.where(alerts.c.message.ilike(_contains(query.search)))
        rows, following = await self._page(statement, _ALERTS, query)
        return Listed(
            rows=[
                Held(integration_id=row.integration_id, record=_ALERTS.of_row(row)) for row in rows
            ],
            next=following,
            options={"severity": list(Severity.ORDER)},
        )

    async def devices(self, query: ListQuery) -> Listed[Held[Device]]:
        """One row per machine: a device in both a PSA's asset list and the RMM is the record
        that knows more about it (last seen, patch and antivirus state: the RMM's)."""
        statement = _live(devices, query.customer_id).where(~_better_known_elsewhere())
        for column, name in (("patch", "patch_state"), ("av", "av_state"), ("site", "site")):
            if query.keep(column):
                statement = statement.where(devices.c[name].in_(sorted(query.keep(column))))
        if query.search:
            pattern = _contains(query.search)
            statement = statement.where(
                or_(devices.c.name.ilike(pattern), devices.c.os.ilike(pattern))
            )
        rows, following = await self._page(statement, _DEVICES, query)
        return Listed(
            rows=[
                Held(integration_id=row.integration_id, record=_DEVICES.of_row(row)) for row in rows
            ],
            next=following,
            options={"site": await self._distinct(devices, devices.c.site, query.customer_id)},
        )

    async def open_tickets_by_priority(self, customer_id: UUID) -> list[tuple[str, int]]:
        priority = func.coalesce(tickets.c.priority, "No priority")
        statement = (
            select(priority, func.count())
            .where(*_live_conditions(tickets, customer_id), tickets.c.closed.is_(False))
            .group_by(priority)
            .order_by(func.count().desc(), priority)
        )
        return [(row[0], row[1]) for row in await self._connection.execute(statement)]

    async def open_tickets_breaching_sla(self, customer_id: UUID) -> int:
        statement = select(func.count()).where(
            *_live_conditions(tickets, customer_id), _sla_breached()
        )
        return int((await self._connection.execute(statement)).scalar_one())

    async def active_alerts_by_severity(self, customer_id: UUID) -> dict[str, int]:
        statement = (
            select(alerts.c.severity, func.count())
            .where(*_live_conditions(alerts, customer_id), alerts.c.state != AlertState.RESOLVED)
            .group_by(alerts.c.severity)
        )
        return {row[0]: row[1] for row in await self._connection.execute(statement)}

    async def devices_by_patch_state(self, customer_id: UUID) -> dict[str, int]:
        statement = (
            select(devices.c.patch_state, func.count())
            .where(*_live_conditions(devices, customer_id), ~_better_known_elsewhere())
            .group_by(devices.c.patch_state)
        )
        return {row[0]: row[1] for row in await self._connection.execute(statement)}

    async def health(self, customer_ids: Collection[UUID]) -> dict[UUID, tuple[int, int]]:
        """For each customer: open tickets and active alerts (the list's badges)."""
        if not customer_ids:
            return {}
        ids = list(customer_ids)
        open_tickets = (
            select(tickets.c.customer_id, func.count().label("n"))
            .where(
                tickets.c.customer_id.in_(ids),
                tickets.c.deleted_at.is_(None),
                tickets.c.closed.is_(False),
            )
            .group_by(tickets.c.customer_id)
        )
        active_alerts = (
            select(alerts.c.customer_id, func.count().label("n"))
            .where(
                alerts.c.customer_id.in_(ids),
                alerts.c.deleted_at.is_(None),
                alerts.c.state != AlertState.RESOLVED,
            )
            .group_by(alerts.c.customer_id)
        )
        counts: dict[UUID, list[int]] = {customer: [0, 0] for customer in ids}
        for index, statement in enumerate((open_tickets, active_alerts)):
            for row in await self._connection.execute(statement):
                counts[row.customer_id][index] = row.n
        return {customer: (pair[0], pair[1]) for customer, pair in counts.items()}

    async def _page(
        self, statement: Select[Any], listed: RecordTable, query: ListQuery
    ) -> tuple[list[Any], ListPosition | None]:
        sort, parse = listed.sorts[query.sort]
        table = listed.table
        key = (sort, table.c.integration_id, table.c.vendor_id)
        if query.after is not None:
            try:
                value = parse(query.after.value)
            except ValueError:
                raise InvalidValue(
                    "the page link is not valid; start again from the first page"
                ) from None
            bound = tuple_(
                literal(value, sort.type),
                literal(query.after.integration_id),
                literal(query.after.vendor_id),
            )
            position = tuple_(*key)
            statement = statement.where(position < bound if query.descending else position > bound)
        order = [column.desc() if query.descending else column.asc() for column in key]
        statement = statement.add_columns(sort.label("sort_value"))
        rows = list(
            await self._connection.execute(statement.order_by(*order).limit(query.limit + 1))
        )
        shown = rows[: query.limit]
        if len(rows) <= query.limit or not shown:
            return shown, None
        last = shown[-1]
        return shown, ListPosition(
            value=as_text(last.sort_value),
            integration_id=last.integration_id,
            vendor_id=last.vendor_id,
        )

    async def _distinct(
        self, table: Table, column: ColumnElement[Any], customer_id: UUID
    ) -> list[str]:
        statement = (
            select(column)
            .where(*_live_conditions(table, customer_id), column.is_not(None), column != "")
            .distinct()
            .order_by(column)
            .limit(100)
        )
        return [row[0] for row in await self._connection.execute(statement)]


def _knowledge(table: Any) -> ColumnElement[Any]:
    """How much a device record knows: last seen, patch state, antivirus state (0 to 3)."""
    return (
        case((table.c.last_seen_at.is_not(None), 1), else_=0)
        + case((table.c.patch_state != "unknown", 1), else_=0)
        + case((table.c.av_state != "unknown", 1), else_=0)
    )


def _better_known_elsewhere() -> ColumnElement[bool]:
    """Another live record of the customer's names the same machine and knows more (or as
    much, and sorts first): this one is its duplicate."""
    other = devices.alias("other")
    return (
        select(other.c.vendor_id)
        .where(
            other.c.customer_id == devices.c.customer_id,
            other.c.deleted_at.is_(None),
            func.lower(other.c.name) == func.lower(devices.c.name),
            or_(
                _knowledge(other) > _knowledge(devices),
                (_knowledge(other) == _knowledge(devices))
                & (
                    tuple_(other.c.integration_id, other.c.vendor_id)
                    < tuple_(devices.c.integration_id, devices.c.vendor_id)
                ),
            ),
        )
        .exists()
    )


def _live_conditions(table: Table, customer_id: UUID) -> tuple[Any, ...]:
    return (table.c.customer_id == customer_id, table.c.deleted_at.is_(None), true())


def _live(table: Table, customer_id: UUID) -> Select[Any]:
    return select(table).where(*_live_conditions(table, customer_id))


def _contains(search: str) -> str:
    escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
