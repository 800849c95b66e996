"""HaloPSA as a ``SyncSource``: reference lists, clients, sites, users, tickets and their
actions, assets and contracts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from attrs import frozen

from vectis.adapters.vendors._kit.records import UNREADABLE, Page, UnreadableRecord, read_each
from vectis.adapters.vendors.halopsa import mapping, wire
from vectis.adapters.vendors.halopsa.client import HaloClient, unwrap
from vectis.adapters.vendors.halopsa.settings import HaloSettings
from vectis.domain.errors import VendorRejected
from vectis.domain.records import (
    Deletion,
    Reference,
    SkippedRecord,
    SyncBatch,
    SyncedRecord,
    TicketNote,
)

W = TypeVar("W")


@frozen
class Listing:
    """A Halo list read newest first by its last-change field (``order``)."""

    path: str
    order: str
    kind: type[Any]
    stamp: Callable[[Any], datetime | None]


LISTINGS: Mapping[str, Listing] = {
    "companies": Listing("/Client", "alastupdate", wire.Client, mapping.company_updated_at),
    "sites": Listing("/Site", "slastupdate", wire.Site, mapping.site_updated_at),
    "contacts": Listing("/Users", "ulastupdate", wire.User, mapping.contact_updated_at),
    "devices": Listing("/Asset", "dlastupdate", wire.Asset, mapping.asset_updated_at),
    "tickets": Listing("/Tickets", "last_update", wire.Ticket, mapping.ticket_updated_at),
}
"""Halo's reference documents ``lastupdatefromdate`` on these lists as a flag ("include the
field in the response"; on ``/Tickets`` a bool with no description), never as a date filter,
and documents no other filter on a last-change time: each is read newest first with the
documented ``order``/``orderdesc`` and compared with the cursor row by row."""
_NEWEST_FIRST = "incremental: GET {path}?order={order}&orderdesc=true, newest first down to the "
_FALLBACK = "cursor; a full read with changes detected by {order} if Halo ignores the order"


class HaloReferences:
    """The statuses, priorities, teams and agents of one account, read once per instance."""

    def __init__(self, client: HaloClient, settings: HaloSettings) -> None:
        self._client = client
        self._settings = settings
        self._loaded: list[Reference] | None = None
        self.skipped: list[SkippedRecord] = []

    async def all(self, *, fresh: bool = False) -> list[Reference]:
        if self._loaded is None or fresh:
            self.skipped = []
            self._loaded = mapping.references(
                await self._rows("/Status", wire.Status),
                await self._rows("/Priority", wire.Priority),
                await self._rows("/Team", wire.Team),
                await self._rows("/Agent", wire.Agent),
                closed_status_ids=self._settings.closed_status_ids,
            )
        return self._loaded

    async def names(self) -> mapping.Names:
        return mapping.names_of(await self.all())

    async def _rows(self, path: str, kind: type[W]) -> list[W]:
        rows, _ = unwrap(await self._client.get(path), self._settings.key(path), path)
        read, skipped = read_each("references", rows, lambda raw: wire.structure(raw, kind))
        self.skipped += skipped
        return read


class HaloSync:
    """``SyncSource`` on HaloPSA; cursors are ISO times, the newest last-change time read.

    Notes are the actions of each changed ticket, one request per ticket (Halo lists actions
    per ticket); a first sync reads those of the tickets changed in the last
    ``notes_history_days`` only.
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
    read_methods: Mapping[str, str] = {
        "references": "snapshot: GET /Status, /Priority, /Team and /Agent in full",
        **{
            stream: (_NEWEST_FIRST + _FALLBACK).format(path=listing.path, order=listing.order)
            for stream, listing in LISTINGS.items()
        },
        "notes": "incremental: GET /Actions?ticket_id= of each ticket the tickets read finds "
        "changed since the cursor (a first sync: changed in notes_history_days)",
        "contracts": "snapshot: GET /ClientContract and /RecurringInvoice?includelines=true "
        "in full",
    }
    """How each stream reads, in a technician's words, for the sync-run record."""

    def __init__(self, client: HaloClient, settings: HaloSettings) -> None:
        self._client = client
        self._settings = settings
        self._references = HaloReferences(client, settings)
        self._base = client.account.base_url

    async def check(self) -> str:
        me = await self._client.get("/Agent/me")
        host = urlsplit(self._base).netloc or self._base
        try:
            return f"{host} as {_structure(me, wire.Agent).name}"
        except UNREADABLE:
            return host

    def read(self, stream: str, cursor: str | None) -> AsyncIterator[SyncBatch]:
        since = mapping.parse_time(cursor) if cursor else None
        if stream == "references":
            return self._snapshot_references()
        if stream == "contracts":
            return self._contracts()
        if stream == "notes":
            return self._notes(since)
        if stream == "tickets":
            return self._tickets(since)
        if stream not in LISTINGS:
            raise VendorRejected(f"HaloPSA has no stream {stream!r}")
        readers: dict[str, Callable[[Any], SyncedRecord]] = {
            "companies": mapping.company,
            "sites": mapping.site,
            "contacts": mapping.contact,
            "devices": lambda row: mapping.device(row, base_url=self._base),
        }
        return self._listing(stream, since, readers[stream])

    async def _snapshot_references(self) -> AsyncIterator[SyncBatch]:
        references = await self._references.all(fresh=True)
        yield _batch(references, self._references.skipped)

    async def _listing(
        self, stream: str, since: datetime | None, to_record: Callable[[Any], SyncedRecord]
    ) -> AsyncIterator[SyncBatch]:
        listing, mark = LISTINGS[stream], since
        async for rows in self._newest_first(listing, since):
            page = Page(stream)
            for raw in rows:
                with page.reading(raw):
                    row = _structure(raw, listing.kind)
                    moment = listing.stamp(row)
                    mark = _later(mark, moment)
                    if _changed(moment, since):
                        page.add(to_record(row))
            yield _batch(page.records, page.skipped)
        yield _batch((), (), _cursor(mark))

    async def _tickets(self, since: datetime | None) -> AsyncIterator[SyncBatch]:
        mark = since
        async for rows in self._newest_first(LISTINGS["tickets"], since):
            page = Page("tickets")
            changed: list[tuple[Any, wire.Ticket]] = []
            for raw in rows:
                with page.reading(raw):
                    row = _structure(raw, wire.Ticket)
                    moment = mapping.ticket_updated_at(row)
                    mark = _later(mark, moment)
                    if row.deleted:
                        page.add(Deletion(record_type="ticket", id=str(row.id)))
                    elif _changed(moment, since):
                        changed.append((raw, row))
            # The boundary ticket (changed exactly at the cursor) was stored last time; leaving
            # it out spares the reference look-ups an unchanged account would cost.
            names = await self._references.names() if changed else mapping.Names()
            for raw, row in changed:
                with page.reading(raw):
                    page.add(self._ticket(row, names))
            yield _batch(page.records, page.skipped)
        yield _batch((), (), _cursor(mark))

    async def _notes(self, since: datetime | None) -> AsyncIterator[SyncBatch]:
        """Actions of the tickets changed since the cursor (Halo lists actions per ticket only)."""
        mark, floor = since, since
        if floor is None and self._settings.notes_history_days > 0:
            floor = self._client.clock.now() - timedelta(days=self._settings.notes_history_days)
        async for rows in self._newest_first(LISTINGS["tickets"], floor):
            tickets, _ = read_each("notes", rows, lambda raw: _structure(raw, wire.Ticket))
            page = Page("notes")  # an unreadable ticket is the tickets stream's to report
            for row in tickets:
                moment = mapping.ticket_updated_at(row)
                mark = _later(mark, moment)
                if since is None and floor is not None and moment is not None and moment < floor:
                    continue  # a first sync: changed before the history it reads
                if since is None or _changed(moment, since):
                    notes, skipped = await actions(self._client, self._settings, row.id)
                    page.records += notes
                    page.skipped += skipped
            yield _batch(page.records, page.skipped)
        yield _batch((), (), _cursor(mark))

    async def _contracts(self) -> AsyncIterator[SyncBatch]:
        lines: dict[int, list[wire.InvoiceLine]] = defaultdict(list)
        skipped: list[SkippedRecord] = []
        if self._settings.contract_lines:
            async for rows, _ in self._pages("/RecurringInvoice", {"includelines": "true"}):
                invoices, bad = read_each(
                    "contracts", rows, lambda raw: _structure(raw, wire.RecurringInvoice)
                )
                skipped += bad
                for invoice in invoices:
                    for line in invoice.lines:
                        if owner := line.contract_id or invoice.contract_id:
                            lines[owner].append(line)
        async for rows, _ in self._pages("/ClientContract", {}):
            page = Page("contracts", skipped=skipped)
            page.read(rows, lambda raw: self._contract(raw, lines))
            skipped = []
            yield _batch(page.records, page.skipped)

    def _newest_first(self, listing: Listing, floor: datetime | None) -> AsyncIterator[list[Any]]:
        return self._client.newest_first(
            listing.path,
            {},
            key=self._settings.key(listing.path),
            order=listing.order,
            stamp=lambda raw: mapping.listed_time(raw, listing.order),
            floor=floor,
            page_size=self._settings.page_size,
        )

    def _pages(self, path: str, params: Mapping[str, Any]) -> AsyncIterator[tuple[list[Any], bool]]:
        return self._client.pages(
            path, params, key=self._settings.key(path), page_size=self._settings.page_size
        )

    def _ticket(self, row: wire.Ticket, names: mapping.Names) -> SyncedRecord:
        return mapping.ticket(
            row,
            base_url=self._base,
            names=names,
            closed_status_ids=self._settings.closed_status_ids,
        )

    def _contract(self, raw: Any, lines: Mapping[int, list[wire.InvoiceLine]]) -> SyncedRecord:
        header = _structure(raw, wire.Contract)
        return mapping.contract(header, lines.get(header.id, ()))


async def actions(
    client: HaloClient, settings: HaloSettings, ticket_id: int | str
) -> tuple[list[TicketNote], list[SkippedRecord]]:
    """A ticket's non-system actions as notes (``GET /Actions?ticket_id=``)."""
    body = await client.get("/Actions", {"ticket_id": ticket_id, "excludesys": "true"})
    rows, _ = unwrap(body, settings.key("/Actions"), "/Actions")
    page = Page("notes").read(
        rows,
        lambda raw: mapping.note(
            wire.structure({"ticket_id": ticket_id, **raw}, wire.Action),
            customer_who_types=settings.customer_who_types,
        ),
    )
    return cast(list[TicketNote], page.records), page.skipped


def _structure(raw: Any, kind: type[W]) -> W:
    if not isinstance(raw, Mapping):
        raise UnreadableRecord("not a JSON object")
    structured: W = wire.structure(raw, kind)
    return structured


def _batch(
    records: Sequence[SyncedRecord],
    skipped: Sequence[SkippedRecord] = (),
    cursor: str | None = None,
) -> SyncBatch:
    # Passed as Any: mypy cannot type attrs' ``converter=tuple`` on SyncBatch's fields.
    loose_records: Any = records
    loose_skipped: Any = skipped
    return SyncBatch(records=loose_records, skipped=loose_skipped, cursor=cursor)


def _changed(moment: datetime | None, since: datetime | None) -> bool:
    """Whether a row changed after the cursor (a row stating no time is read every time)."""
    return since is None or moment is None or moment > since


def _later(mark: datetime | None, moment: datetime | None) -> datetime | None:
    if moment is None:
        return mark
    return moment if mark is None or moment > mark else mark


def _cursor(mark: datetime | None) -> str | None:
    return mark.isoformat() if mark else None
