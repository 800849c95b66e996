"""HaloPSA behind Vectis's ports: the sync streams and webhook registration (tickets are
written in ``ticketing``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

import cattrs

from vectis.adapters.vendors.halopsa import mapping, wire
from vectis.adapters.vendors.halopsa.client import HaloClient, one, unwrap
from vectis.adapters.vendors.halopsa.settings import HaloSettings
from vectis.domain.errors import InvalidValue, VendorRejected
from vectis.domain.records import (
    Deletion,
    Reference,
    SkippedRecord,
    SyncBatch,
    SyncedRecord,
    Ticket,
    TicketNote,
)

W = TypeVar("W")
WEBHOOK_USERNAME = "vectis"
UNREADABLE = (cattrs.BaseValidationError, InvalidValue, ValueError, TypeError, KeyError)


class HaloReferences:
    """The statuses, priorities, teams and agents of one account, read once per instance."""

    def __init__(self, client: HaloClient, settings: HaloSettings) -> None:
        self._client = client
        self._settings = settings
        self._loaded: list[Reference] | None = None

    async def all(self, *, fresh: bool = False) -> list[Reference]:
        if self._loaded is None or fresh:
            statuses = await self._rows("/Status", wire.Status)
            priorities = await self._rows("/Priority", wire.Priority)
            teams = await self._rows("/Team", wire.Team)
            agents = await self._rows("/Agent", wire.Agent)
            self._loaded = mapping.references(
                statuses,
                priorities,
                teams,
                agents,
                closed_status_ids=self._settings.closed_status_ids,
            )
        return self._loaded

    async def names(self) -> mapping.Names:
        return mapping.names_of(await self.all())

    async def _rows(self, path: str, kind: type[W]) -> list[W]:
        rows, _ = unwrap(await self._client.get(path), self._settings.key(path), path)
        return [row for row in (_structure(raw, kind) for raw in rows) if row is not None]


class HaloSync:
    """``SyncSource`` on HaloPSA; incremental streams filter on ``lastupdatefromdate``.

    Cursors are ISO times: the newest last-change time read, sent again next time (Halo's
    filter is inclusive). Lists are not known to be ordered by that time, so only a stream's
    last page carries the cursor. Notes are the actions of each changed ticket, one request per
    ticket (Halo lists actions per ticket); a first sync reads those of the tickets changed in
    the last ``notes_history_days`` only.
    """

    streams: Sequence[str] = (
        "references",
        "companies",
        "sites",
        "contacts",
        "tickets",
        "notes",
        "contracts",
        "devices",
    )
    snapshots: Sequence[str] = ("references", "contracts")

    def __init__(self, client: HaloClient, settings: HaloSettings) -> None:
        self._client = client
        self._settings = settings
        self._references = HaloReferences(client, settings)
        self._base = client.account.base_url

    async def check(self) -> str:
        agent = await self._client.get("/Agent/me")
        name = agent.get("name") if isinstance(agent, dict) else None
        host = urlsplit(self._base).netloc or self._base
        return f"{host} as {name}" if name else host

    def read(self, stream: str, cursor: str | None) -> AsyncIterator[SyncBatch]:
        since = _since(cursor)
        if stream == "references":
            return self._snapshot_references()
        if stream == "contracts":
            return self._contracts()
        if stream == "notes":
            return self._notes(since)
        if stream == "tickets":
            return self._tickets(since)
        incremental: dict[str, tuple[str, Any, Any, Any]] = {
            "companies": ("/Client", wire.Client, mapping.company, _stamp("alastupdate")),
            "sites": ("/Site", wire.Site, mapping.site, _stamp("slastupdate")),
            "contacts": ("/Users", wire.User, mapping.contact, _stamp("ulastupdate")),
            "devices": ("/Asset", wire.Asset, self._device, mapping.asset_updated_at),
        }
        if stream not in incremental:
            raise VendorRejected(f"HaloPSA has no stream {stream!r}")
        path, kind, to_record, stamp = incremental[stream]
        return self._incremental(stream, path, since, kind, to_record, stamp)

    async def _snapshot_references(self) -> AsyncIterator[SyncBatch]:
        yield _batch(await self._references.all(fresh=True))

    async def _incremental(
        self,
        stream: str,
        path: str,
        since: datetime | None,
        kind: type[W],
        to_record: Callable[[W], SyncedRecord],
        stamp: Callable[[W], datetime | None],
    ) -> AsyncIterator[SyncBatch]:
        mark, carried = since, False
        async for rows, last in self._pages(path, since):
            records, skipped = [], []
            for raw in rows:
                try:
                    row = wire.structure(raw, kind)
                    records.append(to_record(row))
                except UNREADABLE as error:
                    skipped.append(_skip(stream, raw, error))
                    continue
                mark = _later(mark, stamp(row))
            carried = carried or last
            yield _batch(records, skipped, _cursor(mark) if last else None)
        if not carried:
            yield _batch((), (), _cursor(mark))

    async def _tickets(self, since: datetime | None) -> AsyncIterator[SyncBatch]:
        mark, carried = since, False
        async for rows, last in self._pages("/Tickets", since):
            records: list[SyncedRecord] = []
            skipped, changed = [], []
            for raw in rows:
                try:
                    row = wire.structure(raw, wire.Ticket)
                except UNREADABLE as error:
                    skipped.append(_skip("tickets", raw, error))
                    continue
                moment = mapping.ticket_updated_at(row)
                mark = _later(mark, moment)
                if row.deleted:
                    records.append(Deletion(record_type="ticket", id=str(row.id)))
                    continue
                # The boundary ticket (changed exactly at the cursor) was stored last time;
                # leaving it out spares the reference look-ups an unchanged account would cost.
                if since is None or moment is None or moment > since:
                    changed.append((raw, row))
            names = await self._references.names() if changed else mapping.Names()
            for raw, row in changed:
                try:
                    records.append(self._ticket(row, names))
                except UNREADABLE as error:
                    skipped.append(_skip("tickets", raw, error))
            carried = carried or last
            yield _batch(records, skipped, _cursor(mark) if last else None)
        if not carried:
            yield _batch((), (), _cursor(mark))

    async def _notes(self, since: datetime | None) -> AsyncIterator[SyncBatch]:
        """Actions of the tickets changed since the cursor (Halo lists actions per ticket only)."""
        mark, carried = since, False
        floor = since
        if floor is None and self._settings.notes_history_days > 0:
            floor = self._client.clock.now() - timedelta(days=self._settings.notes_history_days)
        async for rows, last in self._pages("/Tickets", floor):
            records: list[SyncedRecord] = []
            skipped: list[SkippedRecord] = []
            for raw in rows:
                row = _structure(raw, wire.Ticket)
                if row is None:
                    continue  # the tickets stream reports it
                changed = mapping.ticket_updated_at(row)
                mark = _later(mark, changed)
                if since is not None and changed is not None and changed <= since:
                    continue  # the boundary ticket: its actions were read with it last time
                notes, bad = await actions(self._client, self._settings, row.id)
                records += notes
                skipped += bad
            carried = carried or last
            yield _batch(records, skipped, _cursor(mark) if last else None)
        if not carried:
            yield _batch((), (), _cursor(mark))

    async def _contracts(self) -> AsyncIterator[SyncBatch]:
        lines: dict[int, list[wire.InvoiceLine]] = defaultdict(list)
        if self._settings.contract_lines:
            async for rows, _ in self._client.pages(
                "/RecurringInvoice",
                {"includelines": "true"},
                key=self._settings.key("/RecurringInvoice"),
                page_size=self._settings.page_size,
            ):
                for invoice in (_structure(raw, wire.RecurringInvoice) for raw in rows):
                    for line in invoice.lines if invoice else ():
                        owner = line.contract_id or (invoice.contract_id if invoice else None)
                        if owner:
                            lines[owner].append(line)
        async for rows, _ in self._client.pages(
            "/ClientContract",
            {},
            key=self._settings.key("/ClientContract"),
            page_size=self._settings.page_size,
        ):
            records: list[SyncedRecord] = []
            skipped = []
            for raw in rows:
                try:
                    header = wire.structure(raw, wire.Contract)
                    records.append(mapping.contract(header, lines.get(header.id, ())))
                except UNREADABLE as error:
                    skipped.append(_skip("contracts", raw, error))
            yield _batch(records, skipped)

    def _pages(self, path: str, since: datetime | None) -> AsyncIterator[tuple[list[Any], bool]]:
        params = {"lastupdatefromdate": mapping.query_time(since)} if since else {}
        return self._client.pages(
            path, params, key=self._settings.key(path), page_size=self._settings.page_size
        )

    def _ticket(self, row: wire.Ticket, names: mapping.Names) -> Ticket:
        return mapping.ticket(
            row,
            base_url=self._base,
            names=names,
            closed_status_ids=self._settings.closed_status_ids,
        )

    def _device(self, row: wire.Asset) -> SyncedRecord:
        return mapping.device(row, base_url=self._base)


class HaloWebhookSubscriptions:
    """``WebhookSubscriptions``: one outbound webhook per receiver, authenticated with Basic."""

    def __init__(self, client: HaloClient, settings: HaloSettings, secret: str | None) -> None:
        self._client = client
        self._settings = settings
        self._secret = secret

    async def ensure_subscribed(self, receiver_url: str) -> str:
        if not self._secret:
            raise VendorRejected("the integration has no webhook secret to give HaloPSA")
        rows, _ = unwrap(await self._client.get("/Webhook"), self._settings.key("/Webhook"))
        for row in rows:
            if (
                isinstance(row, dict)
                and row.get("url") == receiver_url
                and row.get("id")
                and row.get("active", True) is not False
            ):
                return str(row["id"])
        body = {
            "name": "Vectis",
            "type": 0,  # outbound
            "url": receiver_url,
            "method": 0,  # POST
            "content_type": "application/json",
            "authentication_type": 1,  # Basic
            "basic_username": WEBHOOK_USERNAME,
            "basic_password": self._secret,
            "active": True,
            "payload_type": 0,  # Halo's default payload
            "events": [
                {"eventno": number, "type": -2, "delivery_method": 6}
                for number in self._settings.webhook_events
            ],
        }
        created = one(await self._client.post("/Webhook", [body]))
        if not created.get("id"):
            raise VendorRejected("HaloPSA did not return the new webhook's id")
        return str(created["id"])


async def actions(
    client: HaloClient, settings: HaloSettings, ticket_id: int | str
) -> tuple[list[TicketNote], list[SkippedRecord]]:
    """A ticket's non-system actions as notes (``GET /Actions?ticket_id=``)."""
    body = await client.get("/Actions", {"ticket_id": ticket_id, "excludesys": "true"})
    rows, _ = unwrap(body, settings.key("/Actions"), "/Actions")
    notes, skipped = [], []
    for raw in rows:
        try:
            action = wire.structure(
                {"ticket_id": ticket_id, **raw} if isinstance(raw, dict) else raw, wire.Action
            )
            notes.append(mapping.note(action, customer_who_types=settings.customer_who_types))
        except UNREADABLE as error:
            skipped.append(_skip("notes", raw, error))
    return notes, skipped


def _batch(
    records: Sequence[SyncedRecord],
    skipped: Sequence[SkippedRecord] = (),
    cursor: str | None = None,
) -> SyncBatch:
    # Passed as Any: mypy cannot type attrs' ``converter=tuple`` on SyncBatch's fields.
    loose_records: Any = records
    loose_skipped: Any = skipped
    return SyncBatch(records=loose_records, skipped=loose_skipped, cursor=cursor)


def _structure(raw: Any, kind: type[W]) -> W | None:
    try:
        structured: W = wire.structure(raw, kind)
    except UNREADABLE:
        return None
    return structured


def _stamp(name: str) -> Callable[[Any], datetime | None]:
    return lambda row: mapping.parse_time(getattr(row, name))


def _since(cursor: str | None) -> datetime | None:
    return mapping.parse_time(cursor) if cursor else None


def _later(mark: datetime | None, moment: datetime | None) -> datetime | None:
    if moment is None:
        return mark
    return moment if mark is None or moment > mark else mark


def _cursor(mark: datetime | None) -> str | None:
    return mark.isoformat() if mark else None


def _skip(stream: str, raw: Any, error: Exception) -> SkippedRecord:
    vendor_id = raw.get("id") if isinstance(raw, dict) else None
    reason = str(error).splitlines()[0] if str(error) else type(error).__name__
    if isinstance(error, cattrs.BaseValidationError):
        reason = "; ".join(cattrs.transform_error(error)) or reason
    return SkippedRecord(
        stream=stream, reason=reason[:300], vendor_id=None if vendor_id is None else str(vendor_id)
    )
