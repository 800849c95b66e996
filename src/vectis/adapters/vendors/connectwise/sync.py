"""ConnectWise Manage as a ``SyncSource``: its streams and how each one is read."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, TypeVar

from vectis.adapters.vendors._kit.records import UNREADABLE, Page, UnreadableRecord, skipped
from vectis.adapters.vendors.connectwise import mapping, wire
from vectis.adapters.vendors.connectwise.client import ConnectWiseClient
from vectis.adapters.vendors.connectwise.cursor import Watermark
from vectis.adapters.vendors.connectwise.settings import ConnectWiseOptions
from vectis.domain.errors import VendorNotFound, VendorRejected
from vectis.domain.records import SyncBatch, SyncedRecord, Ticket

STREAMS = (
    "references",
    "companies",
    "sites",
    "contacts",
    "tickets",
    "notes",
    "contracts",
    "devices",
)
W = TypeVar("W")


class ConnectWiseSync:
    """``SyncSource`` on ConnectWise: ``lastUpdated >= [cursor]`` ordered ``lastUpdated asc``.

    ConnectWise has no account-wide list of ticket notes, sites or agreement additions, so
    ``notes``, ``sites`` and ``contracts`` walk the tickets, companies and agreements changed
    since their cursor and fetch each one's children (see ``cursor.Watermark``). ``references``
    (boards and their statuses, priorities, members) is read whole every time.

    UNCONFIRMED: that a note added to a ticket moves the ticket's ``_info.lastUpdated`` (the
    ``notes`` stream finds new notes through it); the API reference does not say, and the
    sandbox assumes it; a live account would settle it.
    """

    snapshots = ("references",)
    read_methods: Mapping[str, str] = {
        "references": "snapshot: boards and their statuses, priorities and members, in full",
        "companies": "incremental: /company/companies with lastUpdated >= the cursor",
        "contacts": "incremental: /company/contacts with lastUpdated >= the cursor",
        "tickets": "incremental: /service/tickets with lastUpdated >= the cursor",
        "devices": "incremental: /company/configurations with lastUpdated >= the cursor",
        "sites": "incremental: the sites of each company changed since the cursor",
        "notes": "incremental: the notes of each ticket changed since the cursor",
        "contracts": "incremental: the additions of each agreement changed since the cursor",
    }
    """How each stream reads, in a technician's words, for the sync-run record."""

    def __init__(self, client: ConnectWiseClient, options: ConnectWiseOptions) -> None:
        self._client = client
        self._account = client.account
        self._options = options

    @property
    def streams(self) -> tuple[str, ...]:
        return tuple(name for name in STREAMS if name != "sites" or self._options.sync_sites)

    async def check(self) -> str:
        try:
            info = wire.structure(await self._client.get("/system/info"), wire.SystemInfo)
        except UNREADABLE as error:
            raise VendorRejected(f"ConnectWise answered /system/info oddly: {error}") from error
        version = f" ({info.version})" if info.version else ""
        return f"ConnectWise Manage · {self._account.company_id}{version}"

    def read(self, stream: str, cursor: str | None) -> AsyncIterator[SyncBatch]:
        if stream not in self.streams:
            raise VendorRejected(f"ConnectWise has no stream {stream!r}")
        mark = Watermark.parse(cursor)
        readers: dict[str, Callable[[], AsyncIterator[SyncBatch]]] = {
            "references": self._references,
            "companies": lambda: self._flat(
                stream, "/company/companies", mark, wire.Company, mapping.company
            ),
            "contacts": lambda: self._flat(
                stream, "/company/contacts", mark, wire.Contact, mapping.contact
            ),
            "tickets": lambda: self._flat(
                stream, "/service/tickets", mark, wire.Ticket, self._ticket
            ),
            "devices": lambda: self._flat(
                stream, "/company/configurations", mark, wire.Configuration, mapping.device
            ),
            "sites": lambda: self._per_parent(
                stream, "/company/companies", mark, wire.Parent, self._sites_of
            ),
            "notes": lambda: self._per_parent(
                stream, "/service/tickets", mark, wire.Ticket, self._notes_of
            ),
            "contracts": lambda: self._per_parent(
                stream, "/finance/agreements", mark, wire.Agreement, self._contract_of
            ),
        }
        return readers[stream]()

    def _ticket(self, ticket: wire.Ticket) -> Ticket:
        return mapping.ticket(ticket, self._options.ticket_url(self._account, ticket.id))

    async def _references(self) -> AsyncIterator[SyncBatch]:
        boards: list[wire.Board] = []

        def board(row: Any) -> SyncedRecord | None:
            read = wire.structure(row, wire.Board)
            if read.inactiveFlag:
                return None
            boards.append(read)
            return mapping.board(read)

        def member(row: Any) -> SyncedRecord | None:
            read = wire.structure(row, wire.Member)
            # API members ("A") are integrations, not people a ticket can be assigned to.
            return None if read.inactiveFlag or read.licenseClass == "A" else mapping.member(read)

        async for rows in self._pages("/service/boards", {"orderBy": "id asc"}):
            yield _batch(Page("references").read(rows, board))
        for each in boards:

            def status(row: Any, on: wire.Board = each) -> SyncedRecord | None:
                read = wire.structure(row, wire.BoardStatus)
                return None if read.inactive else mapping.status(read, on.name or str(on.id))

            path = f"/service/boards/{each.id}/statuses"
            async for rows in self._pages(path, {"orderBy": "sortOrder asc"}):
                yield _batch(Page("references").read(rows, status))
        async for rows in self._pages("/service/priorities", {"orderBy": "sortOrder asc"}):
            yield _batch(
                Page("references").read(
                    rows, lambda row: mapping.priority(wire.structure(row, wire.Priority))
                )
            )
        async for rows in self._pages("/system/members", {"orderBy": "id asc"}):
            yield _batch(Page("references").read(rows, member))

    async def _flat(
        self,
        stream: str,
        path: str,
        mark: Watermark,
        kind: type[W],
        to_record: Callable[[W], SyncedRecord],
    ) -> AsyncIterator[SyncBatch]:
        def read(row: Mapping[str, Any]) -> SyncedRecord:
            nonlocal mark
            mark = mark.advance(row)  # an unreadable row still moves the watermark past it
            return to_record(wire.structure(row, kind))

        async for rows in self._changed(path, mark):
            page = Page(stream).read(rows, read)
            yield _batch(page, cursor=mark.encode(with_seen=False))

    async def _per_parent(
        self,
        stream: str,
        path: str,
        mark: Watermark,
        kind: type[W],
        children: Callable[[W], Awaitable[Page]],
    ) -> AsyncIterator[SyncBatch]:
        """One batch per changed parent, its cursor naming the parents read at its second."""
        last: str | None = None
        async for rows in self._changed(path, mark):
            for row in rows:
                if isinstance(row, Mapping) and mark.already_read(row):
                    continue
                batch = Page(stream)
                with batch.reading(row):
                    if not isinstance(row, Mapping):
                        raise UnreadableRecord("not a JSON object")
                    try:
                        read = await children(wire.structure(row, kind))
                    except VendorNotFound as error:
                        gone = skipped(stream, row, error, prefix="gone while reading: ")
                        batch.skipped.append(gone)
                    else:
                        batch.records.extend(read.records)
                        batch.skipped.extend(read.skipped)
                if isinstance(row, Mapping):
                    mark = mark.advance(row)
                    last = mark.encode(with_seen=True)
                yield _batch(batch, cursor=last)
        if last is None:  # nothing (new) to read: the stream still ends on its watermark
            yield SyncBatch(cursor=mark.encode(with_seen=True))

    async def _notes_of(self, ticket: wire.Ticket) -> Page:
        page = Page("notes")
        path = f"/service/tickets/{ticket.id}/notes"
        async for rows in self._pages(path, {"orderBy": "id asc"}):
            page.read(
                rows,
                lambda row: mapping.ticket_note(wire.structure(row, wire.TicketNote), ticket.id),
            )
        return page

    async def _sites_of(self, company: wire.Parent) -> Page:
        page = Page("sites")
        if company.deletedFlag:
            return page
        path = f"/company/companies/{company.id}/sites"
        async for rows in self._pages(path, {"orderBy": "id asc"}):
            page.read(rows, lambda row: mapping.site(wire.structure(row, wire.Site), company.id))
        return page

    async def _contract_of(self, agreement: wire.Agreement) -> Page:
        if agreement.company is None:  # before fetching additions nobody would read
            raise UnreadableRecord("the agreement belongs to no company")
        additions: list[wire.Addition] = []
        page = Page("contracts")

        def addition(row: Any) -> None:
            additions.append(wire.structure(row, wire.Addition))

        path = f"/finance/agreements/{agreement.id}/additions"
        async for rows in self._pages(path, {"orderBy": "id asc"}):
            page.read(rows, addition)
        page.add(mapping.contract(agreement, additions))
        return page

    def _changed(self, path: str, mark: Watermark) -> AsyncIterator[list[Any]]:
        condition = mark.condition()
        params = {"orderBy": "lastUpdated asc"}
        if condition:
            params["conditions"] = condition
        return self._pages(path, params)

    def _pages(self, path: str, params: Mapping[str, Any]) -> AsyncIterator[list[Any]]:
        return self._client.pages(path, params, page_size=self._options.page_size)


def _batch(page: Page, cursor: str | None = None) -> SyncBatch:
    return SyncBatch(records=page.records, skipped=page.skipped, cursor=cursor)
