"""The customer page: one stable URL per tab, each loading only its own data.

Tabs read what the connectors synced into PostgreSQL, never a vendor's API, so a slow or
failing vendor never holds a page up: its tab shows what was last synced.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

import falcon
import falcon.asgi
from attrs import frozen

from vectis.application.customer_hub import CustomerWiring
from vectis.application.services import Services
from vectis.domain.errors import InvalidValue
from vectis.domain.integration import VendorInfo
from vectis.domain.listing import Listed, ListPosition, ListQuery, choose
from vectis.domain.record_types import ALERT_LISTING, DEVICE_LISTING, TICKET_LISTING, Listing
from vectis.domain.tenancy import Permission
from vectis.domain.timeline import (
    TimelinePosition,
    TimelineQuery,
    Topic,
    by_day,
    day_range,
    parse_topics,
    period,
)
from vectis.entrypoints.http.cursors import PageCursors, table_scope, timeline_scope
from vectis.entrypoints.http.hub.charts import activity_charts
from vectis.entrypoints.http.hub.forms import form_fields
from vectis.entrypoints.http.hub.rendering import page
from vectis.entrypoints.http.hub.submissions import idempotency_key


@frozen(kw_only=True)
class Tab:
    key: str
    label: str
    records: str | None = None
    """The kind of record it lists: the connectors declaring they fill it fill this tab."""
    planned: tuple[str, ...] = ()
    """Connectors that will fill it and are not in this release yet."""

    def fillers(self, vendors: Sequence[VendorInfo]) -> list[VendorInfo]:
        return [vendor for vendor in vendors if self.records in vendor.fills]


TABS = (
    Tab(key="overview", label="Overview"),
    Tab(key="tickets", label="Tickets", records="tickets"),
    Tab(key="alerts", label="Alerts", records="alerts"),
    Tab(key="devices", label="Devices", records="devices"),
    Tab(key="backups", label="Backups", planned=("Datto BCDR",)),
    Tab(key="contracts", label="Contracts", records="contracts"),
    Tab(key="invoices", label="Invoices", planned=("QuickBooks Online",)),
    Tab(key="notes", label="Notes"),
    Tab(key="timeline", label="Timeline"),
    Tab(
        key="security",
        label="Security",
        planned=("SentinelOne", "ESET", "Huntress", "Microsoft Defender"),
    ),
    Tab(key="m365", label="M365", planned=("Microsoft 365",)),
    Tab(key="licensing", label="Licensing", planned=("Pax8",)),
)
_BY_KEY = {tab.key: tab for tab in TABS}


class CustomerHub:
    """GET one tab of a customer (``suffix`` routes); POST writes a note."""

    auth = "session"

    def __init__(self, services: Services, cursors: PageCursors) -> None:
        self._services = services
        self._cursors = cursors

    async def on_get(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, customer_id: UUID
    ) -> None:
        wiring = await self._frame(req, customer_id)
        overview = await self._services.hub.overview(req.context.principal, customer_id)
        await self._render(
            req, resp, wiring, "overview", overview=overview, charts=activity_charts(overview)
        )

    async def on_get_tickets(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, customer_id: UUID
    ) -> None:
        wiring = await self._frame(req, customer_id)
        query = _list_query(
            req,
            customer_id,
            self._cursors,
            TICKET_LISTING,
        )
        if query.keep("sla") - {"breached"}:
            raise InvalidValue("the SLA filter takes breached or all")
        listed = await self._services.hub.tickets(req.context.principal, query)
        desks = []
        if req.context.principal.can(Permission.WRITE_BACK):
            desks = await self._services.records.desks(req.context.principal, customer_id)
        await self._render(
            req,
            resp,
            wiring,
            "tickets",
            listed=listed,
            query=query,
            desks=desks,
            statuses={desk.integration.id: desk.choices("status") for desk in desks},
            here=req.relative_uri,
            next_after=self._next_after(listed, query, "tickets"),
        )

    async def on_get_alerts(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, customer_id: UUID
    ) -> None:
        wiring = await self._frame(req, customer_id)
        query = _list_query(
            req,
            customer_id,
            self._cursors,
            ALERT_LISTING,
        )
        listed = await self._services.hub.alerts(req.context.principal, query)
        await self._render(
            req,
            resp,
            wiring,
            "alerts",
            listed=listed,
            query=query,
            next_after=self._next_after(listed, query, "alerts"),
        )

    async def on_get_devices(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, customer_id: UUID
    ) -> None:
        wiring = await self._frame(req, customer_id)
        query = _list_query(
            req,
            customer_id,
            self._cursors,
            DEVICE_LISTING,
        )
        listed = await self._services.hub.devices(req.context.principal, query)
        await self._render(
            req,
            resp,
            wiring,
            "devices",
            listed=listed,
            query=query,
            next_after=self._next_after(listed, query, "devices"),
        )

    async def on_get_contracts(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, customer_id: UUID
    ) -> None:
        wiring = await self._frame(req, customer_id)
        contracts = await self._services.hub.contracts(req.context.principal, customer_id)
        await self._render(req, resp, wiring, "contracts", contracts=contracts)

    async def on_get_notes(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, customer_id: UUID
    ) -> None:
        wiring = await self._frame(req, customer_id)
        notes = await self._services.timeline.notes(req.context.principal, customer_id)
        await self._render(req, resp, wiring, "notes", notes=notes)

    async def on_post_notes(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, customer_id: UUID
    ) -> None:
        form = await form_fields(req)
        note = await self._services.timeline.add_note(
            req.context.principal,
            customer_id,
            form.get("body", ""),
            format=form.get("format", "text"),
            idempotency_key=idempotency_key(req.context.principal, form),
        )
        raise falcon.HTTPSeeOther(f"/customers/{customer_id}/notes#note-{note.id}")

    async def on_get_timeline(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, customer_id: UUID
    ) -> None:
        wiring = await self._frame(req, customer_id)
        principal = req.context.principal
        choice = _TimelineChoice.of(req, principal.time_zone, self._services)
        scope = timeline_scope(customer_id)
        timeline = await self._services.timeline.page(
            principal,
            TimelineQuery(
                customer_id=customer_id,
                since=choice.since,
                until=choice.until,
                sources=frozenset(choice.sources),
                topics=choice.topics,
                site=choice.site,
                after=self._cursors.read(req.get_param("after"), scope, TimelinePosition.decode),
            ),
        )
        sources = sorted({"vectis", *wiring.vendors()})
        await self._render(
            req,
            resp,
            wiring,
            "timeline",
            timeline=timeline,
            days=by_day(timeline.entries, principal.time_zone),
            choice=choice,
            sources=sources,
            topics=list(Topic),
            next_url=(
                f"?{choice.query_string(after=self._cursors.issue(timeline.next, scope))}"
                if timeline.next
                else None
            ),
        )

    async def on_get_planned(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, customer_id: UUID, tab: str
    ) -> None:
        if tab not in _BY_KEY or not _BY_KEY[tab].planned:
            raise falcon.HTTPNotFound(title="Not found", description=f"no tab {tab!r}")
        wiring = await self._frame(req, customer_id)
        await self._render(req, resp, wiring, tab)

    def _next_after(self, listed: Listed[Any], query: ListQuery, table: str) -> str | None:
        """The signed cursor of the table's next page, if it has one."""
        if listed.next is None:
            return None
        return self._cursors.issue(listed.next, table_scope(table, query.customer_id, query.sort))

    async def _frame(self, req: falcon.asgi.Request, customer_id: UUID) -> CustomerWiring:
        principal = req.context.principal
        req.context.tenant = await self._services.tenancy.get_tenant(principal)
        return await self._services.hub.wiring(principal, customer_id)

    async def _render(
        self,
        req: falcon.asgi.Request,
        resp: falcon.asgi.Response,
        wiring: CustomerWiring,
        tab: str,
        **context: Any,
    ) -> None:
        principal = req.context.principal
        current = _BY_KEY[tab]
        known = self._services.integrations.vendors()
        fillers = current.fillers(known)
        page(
            req,
            resp,
            f"customer/{tab}.html",
            customer=wiring.customer,
            wiring=wiring,
            tabs=TABS,
            tab=current,
            filled=not current.planned
            and (
                current.records is None
                or bool(wiring.vendors() & {vendor.key for vendor in fillers})
            ),
            filler_labels=[vendor.label for vendor in fillers],
            vendor_labels={vendor.key: vendor.label for vendor in known},
            integrations={integration.id: integration for integration in wiring.integrations},
            can_write=principal.can(Permission.WRITE_BACK),
            zone=principal.time_zone,
            params=req.params,
            **context,
        )


class NotePage:
    """A note with its history (GET), and edits to it (POST)."""

    auth = "session"

    def __init__(self, services: Services) -> None:
        self._services = services

    async def on_get(
        self,
        req: falcon.asgi.Request,
        resp: falcon.asgi.Response,
        customer_id: UUID,
        note_id: UUID,
    ) -> None:
        principal = req.context.principal
        req.context.tenant = await self._services.tenancy.get_tenant(principal)
        wiring = await self._services.hub.wiring(principal, customer_id)
        note, history = await self._services.timeline.note(principal, customer_id, note_id)
        page(
            req,
            resp,
            "customer/note.html",
            customer=wiring.customer,
            note=note,
            history=history,
            can_write=principal.can(Permission.WRITE_BACK),
            zone=principal.time_zone,
        )

    async def on_post(
        self,
        req: falcon.asgi.Request,
        resp: falcon.asgi.Response,
        customer_id: UUID,
        note_id: UUID,
    ) -> None:
        form = await form_fields(req)
        await self._services.timeline.edit_note(
            req.context.principal,
            customer_id,
            note_id,
            form.get("body", ""),
            format=form.get("format", "text"),
        )
        raise falcon.HTTPSeeOther(f"/customers/{customer_id}/notes#note-{note_id}")


@frozen(kw_only=True)
class _TimelineChoice:
    """The timeline filters as the operator set them, and the query string that keeps them."""

    period: str
    start: date | None
    end: date | None
    since: datetime | None
    until: datetime | None
    sources: Sequence[str]
    topics: frozenset[Topic]
    site: str | None = None

    @classmethod
    def of(cls, req: falcon.asgi.Request, zone: str, services: Services) -> _TimelineChoice:
        name = choose(req.get_param("period"), ("all", "today", "week", "range"), "the period")
        start = end = None
        since = until = None
        if name in ("today", "week"):
            since, until = period(name, services.hub.now(), zone)
        elif name == "range":
            start, end = _day(req.get_param("from")), _day(req.get_param("to"))
            since, until = day_range(start, end, zone)
        return cls(
            period=name,
            start=start,
            end=end,
            since=since,
            until=until,
            sources=sorted(set(req.get_param_as_list("source") or [])),
            topics=parse_topics(req.get_param_as_list("topic") or []),
            site=req.get_param("site") or None,
        )

    def query_string(self, **extra: str) -> str:
        pairs: list[tuple[str, str]] = [("period", self.period)]
        if self.start:
            pairs.append(("from", self.start.isoformat()))
        if self.end:
            pairs.append(("to", self.end.isoformat()))
        pairs += [("source", source) for source in self.sources]
        pairs += [("topic", topic.value) for topic in sorted(self.topics)]
        if self.site:
            pairs.append(("site", self.site))
        pairs += list(extra.items())
        return urlencode(pairs)


def _list_query(
    req: falcon.asgi.Request,
    customer_id: UUID,
    cursors: PageCursors,
    listing: Listing,
) -> ListQuery:
    """A table's query from its URL: ``q``, one parameter per filter, ``sort``, ``dir``,
    ``after``. A filter's ``all`` (or the default, when absent) keeps everything."""
    sort = choose(req.get_param("sort"), listing.sorts, "this table")
    direction = req.get_param("dir") or ("asc" if sort in listing.ascending_first else "desc")
    if direction not in ("asc", "desc"):
        raise InvalidValue("sort direction is asc or desc")
    chosen: dict[str, frozenset[str]] = {}
    for name in listing.filters:
        values = req.get_param_as_list(name)
        if values is None and name in listing.defaults:
            values = [listing.defaults[name]]
        kept = frozenset(value for value in values or () if value and value != "all")
        if kept:
            chosen[name] = kept
    after = cursors.read(
        req.get_param("after"), table_scope(listing.name, customer_id, sort), ListPosition.decode
    )
    return ListQuery(
        customer_id=customer_id,
        sort=sort,
        descending=direction == "desc",
        search=(req.get_param("q") or "").strip(),
        filters=chosen,
        after=after,
    )


def _day(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidValue(f"{value!r} is not a day (YYYY-MM-DD)") from None
