"""ConnectWise Manage behind Vectis's capability ports: sync, ticketing, callback subscriptions."""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
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
from vectis.domain.errors import VendorNotFound, VendorRejected
from vectis.domain.records import (
    SkippedRecord,
    SyncBatch,
    SyncedRecord,
    Ticket,
    TicketChange,
    TicketDraft,
    TicketNote,
)

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
EXTERNAL_REFERENCE_LIMIT = 100
_SAFE_KEY = re.compile(r"[A-Za-z0-9._:-]{1,90}")
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
    ) -> None:
        self._client = ConnectWiseClient(http, account, limit)
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
                stream, "/company/companies", cursor, wire.Company, self._sites_of
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
            yield _batch(records=[mapping.board(board) for board in active], skipped=skipped)
        for board in boards:
            path = f"/service/boards/{board.id}/statuses"
            async for page in self._pages(path, {"orderBy": "sortOrder asc"}):
                statuses, skipped = _structure_all("references", page, wire.BoardStatus)
                records = [
                    mapping.status(status, board.name or str(board.id))
                    for status in statuses
                    if not status.inactive
                ]
                yield _batch(records=records, skipped=skipped)
        async for page in self._pages("/service/priorities", {"orderBy": "sortOrder asc"}):
            priorities, skipped = _structure_all("references", page, wire.Priority)
            yield _batch(records=[mapping.priority(p) for p in priorities], skipped=skipped)
        async for page in self._pages("/system/members", {"orderBy": "id asc"}):
            members, skipped = _structure_all("references", page, wire.Member)
            # API members ("A") are integrations, not people a ticket can be assigned to.
            people = [m for m in members if not m.inactiveFlag and m.licenseClass != "A"]
            yield _batch(records=[mapping.member(m) for m in people], skipped=skipped)

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
            yield _batch(records=records, skipped=skipped, cursor=mark.encode(with_seen=False))

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
                    yield _batch(skipped=[SkippedRecord(stream=stream, reason="not a JSON object")])
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
                yield _batch(records=records, skipped=skipped, cursor=last)
        if last is None:  # nothing (new) to read: the stream still ends on its watermark
            yield _batch(cursor=mark.encode(with_seen=True))

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

    async def _sites_of(self, company: wire.Company) -> Mapped:
        records: list[SyncedRecord] = []
        skipped: list[SkippedRecord] = []
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


class ConnectWiseTicketing:
    """``Ticketing`` on ConnectWise: ``/service/tickets`` and its ``/notes``.

    Creating is idempotent through ``externalXRef``: the ticket carries a marker derived from
    the idempotency key, looked up before creating. Updating is a JSON-Patch of ``replace``
    operations, the same result however often it is sent. A note is looked for among the
    ticket's latest notes (same text and kind, by a member, recent) before it is added.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        account: ConnectWiseAccount,
        limit: RateLimit | None = None,
        options: ConnectWiseOptions | None = None,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._client = ConnectWiseClient(http, account, limit)
        self._account = account
        self._options = options or ConnectWiseOptions()
        self._clock = clock

    async def create_ticket(self, draft: TicketDraft, *, idempotency_key: str) -> Ticket:
        marker = external_reference(idempotency_key)
        earlier = await self._client.get(
            "/service/tickets",
            {"conditions": f'externalXRef="{marker}"', "orderBy": "id asc", "pageSize": 1},
        )
        if isinstance(earlier, list) and earlier:
            return self._ticket(earlier[0])
        board_id = draft.board_id or self._options.default_board_id
        if not board_id:
            raise VendorRejected(
                "ConnectWise needs a board for a new ticket: choose one, or set the "
                "integration's default_board_id"
            )
        body = mapping.new_ticket(draft, board_id=board_id, external_reference=marker)
        return self._ticket(await self._client.post("/service/tickets", body))

    async def update_ticket(
        self, ticket_id: str, change: TicketChange, *, idempotency_key: str
    ) -> Ticket:
        patched = await self._client.patch(
            f"/service/tickets/{ticket_id}", mapping.ticket_patch(change)
        )
        return self._ticket(patched)

    async def add_note(
        self, ticket_id: str, text: str, *, internal: bool, idempotency_key: str
    ) -> TicketNote:
        # A customer-facing reply is a "detail description" note; an internal one is
        # "internal analysis". ConnectWise has no idempotency header and notes no external
        # reference, so a retry looks for the note an earlier attempt may have added.
        if self._options.note_dedupe_minutes > 0:
            earlier = await self._earlier_note(ticket_id, text, internal=internal)
            if earlier is not None:
                return earlier
        body = {
            "text": text,
            "detailDescriptionFlag": not internal,
            "internalAnalysisFlag": internal,
            "resolutionFlag": False,
        }
        created = await self._client.add_ticket_note(ticket_id, body)
        return _note(created, ticket_id)

    async def _earlier_note(
        self, ticket_id: str, text: str, *, internal: bool
    ) -> TicketNote | None:
        recent = await self._client.get(
            f"/service/tickets/{ticket_id}/notes", {"orderBy": "id desc", "pageSize": 25}
        )
        since = self._clock() - timedelta(minutes=self._options.note_dedupe_minutes)
        for raw in recent if isinstance(recent, list) else []:
            try:
                note = _note(raw, ticket_id)
            except VendorRejected:
                continue
            if (
                not note.from_customer
                and note.internal == internal
                and _same_text(note.text, text)
                and note.created_at is not None
                and note.created_at >= since
            ):
                return note
        return None

    def _ticket(self, document: Any) -> Ticket:
        try:
            ticket = wire.structure(document, wire.Ticket)
            return mapping.ticket(ticket, self._options.ticket_url(self._account, ticket.id))
        except _UNREADABLE as error:
            raise VendorRejected(f"ConnectWise returned an unexpected ticket: {error}") from error


class ConnectWiseCallbackSubscriptions:
    """``WebhookSubscriptions`` on ConnectWise: one owner-level ticket callback per receiver."""

    def __init__(
        self, http: httpx.AsyncClient, account: ConnectWiseAccount, limit: RateLimit | None = None
    ) -> None:
        self._client = ConnectWiseClient(http, account, limit)

    async def ensure_subscribed(self, receiver_url: str) -> str:
        existing = await self._client.list_callbacks(f'url="{receiver_url}"')
        for callback in existing if isinstance(existing, list) else []:
            if callback.get("url") == receiver_url and not callback.get("inactiveFlag"):
                return str(callback["id"])
        created = await self._client.create_callback(
            {
                "url": receiver_url,
                "objectId": 1,
                "type": "ticket",
                "level": "owner",
                "payloadVersion": "3.0.0",
                "inactiveFlag": False,
                # Changes Vectis itself makes (its notes) do not echo back as callbacks.
                "isSelfSuppressedFlag": True,
            }
        )
        if not isinstance(created, dict) or "id" not in created:
            raise VendorRejected("ConnectWise did not return the new callback's id")
        return str(created["id"])


def external_reference(idempotency_key: str) -> str:
    """The ``externalXRef`` marking the ticket created for this key: at most 100 characters,
    and only characters a quoted condition value holds without escaping."""
    if _SAFE_KEY.fullmatch(idempotency_key):
        return f"vectis:{idempotency_key}"
    return "vectis:" + hashlib.sha256(idempotency_key.encode()).hexdigest()


def _note(document: Any, ticket_id: str) -> TicketNote:
    try:
        return mapping.ticket_note(wire.structure(document, wire.TicketNote), ticket_id)
    except _UNREADABLE as error:
        raise VendorRejected(f"ConnectWise returned an unexpected note: {error}") from error


def _batch(
    records: Sequence[SyncedRecord] = (),
    skipped: Sequence[SkippedRecord] = (),
    cursor: str | None = None,
) -> SyncBatch:
    # records.py converts with ``converter=tuple``, which mypy's attrs plugin cannot type.
    return SyncBatch(records=records, skipped=skipped, cursor=cursor)  # type: ignore[arg-type]


def _same_text(stored: str, sent: str) -> bool:
    return stored.replace("\r\n", "\n").strip() == sent.replace("\r\n", "\n").strip()


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
