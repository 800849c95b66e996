"""ConnectWise Manage behind Vectis's capability ports: the sync here, writes in ``ticketing``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

import cattrs
import httpx

from vectis.adapters.vendors._http.transport import RateLimit
from vectis.adapters.vendors.connectwise import mapping, wire
from vectis.adapters.vendors.connectwise.client import (
    ConnectWiseAccount,
    ConnectWiseClient,
    ConnectWiseOptions,
)
from vectis.adapters.vendors.connectwise.cursor import Watermark
from vectis.adapters.vendors.connectwise.mapping import UnreadableRecordError
from vectis.adapters.vendors.connectwise.ticketing import (
    ConnectWiseCallbackSubscriptions,
    ConnectWiseTicketing,
    external_reference,
)
from vectis.application.ports import Clock
from vectis.domain.errors import VendorNotFound, VendorRejected
from vectis.domain.records import (
    SkippedRecord,
    SyncBatch,
    SyncedRecord,
    Ticket,
)

__all__ = [
    "ConnectWiseCallbackSubscriptions",
    "ConnectWiseSync",
    "ConnectWiseTicketing",
    "external_reference",
]

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
_UNREADABLE = (cattrs.BaseValidationError, UnreadableRecordError)
W = TypeVar("W")
Mapped = tuple[list[SyncedRecord], list[SkippedRecord]]


class ConnectWiseSync:
    """``SyncSource`` on ConnectWise: ``lastUpdated >= [cursor]`` ordered ``lastUpdated asc``.

    ConnectWise has no account-wide list of ticket notes, sites or agreement additions, so
    ``notes``, ``sites`` and ``contracts`` walk the tickets, companies and agreements changed
    since their cursor and fetch each one's children (see ``cursor.Watermark``). ``references``
    (boards and their statuses, priorities, members) is read whole every time.
    """

    snapshots = ("references",)

    def __init__(
        self,
        http: httpx.AsyncClient,
        account: ConnectWiseAccount,
        limit: RateLimit | None = None,
        options: ConnectWiseOptions | None = None,
        *,
        clock: Clock | None = None,
    ) -> None:
        self._client = ConnectWiseClient(http, account, limit, clock=clock)
        self._account = account
        self._options = options or ConnectWiseOptions()

    @property
    def streams(self) -> tuple[str, ...]:
        return tuple(name for name in STREAMS if name != "sites" or self._options.sync_sites)

    async def check(self) -> str:
        try:
            info = wire.structure(await self._client.get("/system/info"), wire.SystemInfo)
        except cattrs.BaseValidationError as error:
            raise VendorRejected(f"ConnectWise answered /system/info oddly: {error}") from error
        version = f" ({info.version})" if info.version else ""
        return f"ConnectWise Manage · {self._account.company_id}{version}"

    def read(self, stream: str, cursor: str | None) -> AsyncIterator[SyncBatch]:
        if stream not in self.streams:
            raise VendorRejected(f"ConnectWise has no stream {stream!r}")
        readers: dict[str, Callable[[], AsyncIterator[SyncBatch]]] = {
            "references": self._references,
            "companies": lambda: self._flat(
                stream, "/company/companies", cursor, wire.Company, mapping.company
            ),
            "contacts": lambda: self._flat(
                stream, "/company/contacts", cursor, wire.Contact, mapping.contact
            ),
            "tickets": lambda: self._flat(
                stream, "/service/tickets", cursor, wire.Ticket, self._ticket
            ),
            "devices": lambda: self._flat(
                stream, "/company/configurations", cursor, wire.Configuration, mapping.device
            ),
            "sites": lambda: self._per_parent(
                stream, "/company/companies", cursor, wire.Parent, self._sites_of
            ),
            "notes": lambda: self._per_parent(
                stream, "/service/tickets", cursor, wire.Ticket, self._notes_of
            ),
            "contracts": lambda: self._per_parent(
                stream, "/finance/agreements", cursor, wire.Agreement, self._contract_of
            ),
        }
        return readers[stream]()

    def _ticket(self, ticket: wire.Ticket) -> Ticket:
        return mapping.ticket(ticket, self._options.ticket_url(self._account, ticket.id))

    async def _references(self) -> AsyncIterator[SyncBatch]:
        boards: list[wire.Board] = []
        async for page in self._pages("/service/boards", {"orderBy": "id asc"}):
            wired, skipped = _structure_all("references", page, wire.Board)
            active = [board for board in wired if not board.inactiveFlag]
            boards.extend(active)
            yield SyncBatch(records=[mapping.board(board) for board in active], skipped=skipped)
        for board in boards:
            path = f"/service/boards/{board.id}/statuses"
            async for page in self._pages(path, {"orderBy": "sortOrder asc"}):
                statuses, skipped = _structure_all("references", page, wire.BoardStatus)
                records = [
                    mapping.status(status, board.name or str(board.id))
                    for status in statuses
                    if not status.inactive
                ]
                yield SyncBatch(records=records, skipped=skipped)
        async for page in self._pages("/service/priorities", {"orderBy": "sortOrder asc"}):
            priorities, skipped = _structure_all("references", page, wire.Priority)
            yield SyncBatch(records=[mapping.priority(p) for p in priorities], skipped=skipped)
        async for page in self._pages("/system/members", {"orderBy": "id asc"}):
            members, skipped = _structure_all("references", page, wire.Member)
            # API members ("A") are integrations, not people a ticket can be assigned to.
            people = [m for m in members if not m.inactiveFlag and m.licenseClass != "A"]
            yield SyncBatch(records=[mapping.member(m) for m in people], skipped=skipped)

    async def _flat(
        self,
        stream: str,
        path: str,
        cursor: str | None,
        kind: type[W],
        to_record: Callable[[W], SyncedRecord],
    ) -> AsyncIterator[SyncBatch]:
        mark = Watermark.parse(cursor)
        async for page in self._changed(path, mark):
            records: list[SyncedRecord] = []
            skipped: list[SkippedRecord] = []
            for raw in page:
                if not isinstance(raw, Mapping):
                    skipped.append(SkippedRecord(stream=stream, reason="not a JSON object"))
                    continue
                mark = mark.advance(raw)
                try:
                    records.append(to_record(wire.structure(raw, kind)))
                except _UNREADABLE as error:
                    skipped.append(_skip(stream, raw, error))
            yield SyncBatch(records=records, skipped=skipped, cursor=mark.encode(with_seen=False))

    async def _per_parent(
        self,
        stream: str,
        path: str,
        cursor: str | None,
        kind: type[W],
        children: Callable[[W], Awaitable[Mapped]],
    ) -> AsyncIterator[SyncBatch]:
        mark = Watermark.parse(cursor)
        last: str | None = None
        async for page in self._changed(path, mark):
            for raw in page:
                if not isinstance(raw, Mapping):
                    yield SyncBatch(
                        skipped=[SkippedRecord(stream=stream, reason="not a JSON object")]
                    )
                    continue
                if mark.already_read(raw):
                    continue
                try:
                    records, skipped = await children(wire.structure(raw, kind))
                except _UNREADABLE as error:
                    records, skipped = [], [_skip(stream, raw, error)]
                except VendorNotFound as error:
                    records, skipped = [], [_skip(stream, raw, error, "gone while reading: ")]
                mark = mark.advance(raw)
                last = mark.encode(with_seen=True)
                yield SyncBatch(records=records, skipped=skipped, cursor=last)
        if last is None:  # nothing (new) to read: the stream still ends on its watermark
            yield SyncBatch(cursor=mark.encode(with_seen=True))

    async def _notes_of(self, ticket: wire.Ticket) -> Mapped:
        records: list[SyncedRecord] = []
        skipped: list[SkippedRecord] = []
        async for page in self._pages(f"/service/tickets/{ticket.id}/notes", {"orderBy": "id asc"}):
            for raw in page:
                try:
                    records.append(
                        mapping.ticket_note(wire.structure(raw, wire.TicketNote), ticket.id)
                    )
                except _UNREADABLE as error:
                    skipped.append(_skip("notes", raw, error))
        return records, skipped

    async def _sites_of(self, company: wire.Parent) -> Mapped:
        records: list[SyncedRecord] = []
        skipped: list[SkippedRecord] = []
        if company.deletedFlag:
            return records, skipped
        async for page in self._pages(
            f"/company/companies/{company.id}/sites", {"orderBy": "id asc"}
        ):
            for raw in page:
                try:
                    records.append(mapping.site(wire.structure(raw, wire.Site), company.id))
                except _UNREADABLE as error:
                    skipped.append(_skip("sites", raw, error))
        return records, skipped

    async def _contract_of(self, agreement: wire.Agreement) -> Mapped:
        if agreement.company is None:
            raise UnreadableRecordError("the agreement belongs to no company")
        additions: list[wire.Addition] = []
        skipped: list[SkippedRecord] = []
        path = f"/finance/agreements/{agreement.id}/additions"
        async for page in self._pages(path, {"orderBy": "id asc"}):
            wired, unreadable = _structure_all("contracts", page, wire.Addition)
            additions.extend(wired)
            skipped.extend(unreadable)
        return [mapping.contract(agreement, additions)], skipped

    def _changed(self, path: str, mark: Watermark) -> AsyncIterator[list[Any]]:
        condition = mark.condition()
        params = {"orderBy": "lastUpdated asc"}
        if condition:
            params["conditions"] = condition
        return self._pages(path, params)

    def _pages(self, path: str, params: Mapping[str, Any]) -> AsyncIterator[list[Any]]:
        return self._client.pages(path, params, page_size=self._options.page_size)


def _structure_all(
    stream: str, page: Sequence[Any], kind: type[W]
) -> tuple[list[W], list[SkippedRecord]]:
    wired: list[W] = []
    skipped: list[SkippedRecord] = []
    for raw in page:
        try:
            wired.append(wire.structure(raw, kind))
        except _UNREADABLE as error:
            skipped.append(_skip(stream, raw, error))
    return wired, skipped


def _skip(stream: str, raw: Any, error: Exception, prefix: str = "") -> SkippedRecord:
    vendor_id = raw.get("id") if isinstance(raw, Mapping) else None
    reason = prefix + (
        "; ".join(cattrs.transform_error(error))
        if isinstance(error, cattrs.BaseValidationError)
        else str(error)
    )
    return SkippedRecord(
        stream=stream, reason=reason[:500], vendor_id=None if vendor_id is None else str(vendor_id)
    )
