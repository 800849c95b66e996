"""Autotask read as Vectis sync streams: picklists, companies, contacts, contracts, devices,
tickets and the global ticket-notes stream."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from vectis.adapters.vendors._kit.records import UNREADABLE, Page, read_each
from vectis.adapters.vendors.autotask import mapping, wire
from vectis.adapters.vendors.autotask.client import ALL, AutotaskClient
from vectis.adapters.vendors.autotask.settings import AutotaskSettings
from vectis.domain.errors import InvalidValue, VendorNotFound, VendorRejected
from vectis.domain.records import SkippedRecord, SyncBatch, SyncedRecord

logger = logging.getLogger(__name__)
STREAMS = (
    "references",
    "companies",
    "sites",
    "contacts",
    "contracts",
    "devices",
    "tickets",
    "notes",
)
T = TypeVar("T")
Mapper = Callable[[Any], Awaitable[SyncedRecord]]
ENTITIES: Mapping[type[Any], str] = {
    wire.Company: "Companies",
    wire.Contact: "Contacts",
    wire.ConfigurationItem: "ConfigurationItems",
    wire.Ticket: "Tickets",
    wire.TicketNote: "TicketNotes",
}


class Catalog:
    """Picklist labels and resource names, fetched once per gateway and only when needed."""

    def __init__(self, client: AutotaskClient, settings: AutotaskSettings) -> None:
        self._client = client
        self._settings = settings
        self._lookups: mapping.Lookups | None = None

    async def load(
        self,
    ) -> tuple[list[wire.FieldInfo], list[wire.Resource], list[SkippedRecord]]:
        """Fetch the ticket picklists and every resource, and remember them as lookups."""
        document = await self._client.get("Tickets/entityInformation/fields")
        raw_fields = document.get("fields") if isinstance(document, dict) else None
        if not isinstance(raw_fields, list):
            raise VendorRejected("Autotask's ticket field information has no fields")
        fields, skipped = read_each("references", raw_fields, _as(wire.FieldInfo))
        raw_resources = await self._client.query_all("Resources", [ALL], wire.names(wire.Resource))
        resources, unread = read_each("references", raw_resources, _as(wire.Resource))
        skipped += unread
        zone = await self._client.zone()
        self._lookups = mapping.Lookups.build(
            fields,
            resources,
            closed_statuses=self._settings.closed_status_ids,
            web_url=zone.web_url,
        )
        return fields, resources, skipped

    async def lookups(self) -> mapping.Lookups:
        if self._lookups is None:
            await self.load()
        assert self._lookups is not None
        return self._lookups


class AutotaskSync:
    """``SyncSource`` on Autotask.

    Incremental streams filter on a modification time with ``gte`` (the cursor is that time,
    ISO 8601 UTC). Autotask pages by id, not by time, so only the last page of a stream carries
    a cursor: the newest time seen, capped at the server's clock when the read began (its
    ``Date`` header) so that records changed during a long read are read again next time.
    """

    snapshots = ("references", "sites", "contracts")
    read_methods: Mapping[str, str] = {
        "references": "snapshot: ticket picklists and every resource, in full",
        "companies": "incremental: Companies/query with lastTrackedModifiedDateTime gte the cursor",
        "sites": "snapshot: every CompanyLocation, in full",
        "contacts": "incremental: Contacts/query with lastModifiedDate gte the cursor",
        "contracts": "snapshot: every Contract and its services, in full",
        "devices": "incremental: ConfigurationItems/query with lastModifiedTime gte the cursor",
        "tickets": "incremental: Tickets/query with lastActivityDate gte the cursor",
        "notes": "incremental: TicketNotes/query with lastActivityDate gte the cursor",
    }
    """How each stream reads, in a technician's words, for the sync-run record."""

    def __init__(self, client: AutotaskClient, settings: AutotaskSettings) -> None:
        self._client = client
        self._settings = settings
        self._catalog = Catalog(client, settings)

    @property
    def streams(self) -> Sequence[str]:
        return STREAMS

    async def check(self) -> str:
        """Read company 0, which in every Autotask database is the MSP's own company."""
        try:
            owner = await self._client.get_item("Companies", "0")
        except VendorNotFound:
            return "Autotask PSA"
        try:
            name = wire.structure(owner, wire.Company).companyName
        except UNREADABLE:
            name = "account"
        return f"Autotask PSA · {name}"

    def read(self, stream: str, cursor: str | None) -> AsyncIterator[SyncBatch]:
        readers: Mapping[str, Callable[[str | None], AsyncIterator[SyncBatch]]] = {
            "references": self._references,
            "companies": lambda since: self._changes(
                stream, since, "lastTrackedModifiedDateTime", wire.Company, self._company
            ),
            "sites": self._sites,
            "contacts": lambda since: self._changes(
                stream, since, "lastModifiedDate", wire.Contact, self._contact
            ),
            "contracts": self._contracts,
            "devices": lambda since: self._changes(
                stream, since, "lastModifiedTime", wire.ConfigurationItem, self._device
            ),
            "tickets": lambda since: self._changes(
                stream, since, "lastActivityDate", wire.Ticket, self._ticket
            ),
            "notes": lambda since: self._changes(
                stream, since, "lastActivityDate", wire.TicketNote, self._note
            ),
        }
        if stream not in readers:
            raise VendorRejected(f"Autotask has no stream {stream!r}")
        return readers[stream](cursor)

    async def _references(self, cursor: str | None) -> AsyncIterator[SyncBatch]:
        fields, resources, skipped = await self._catalog.load()
        yield SyncBatch(
            records=mapping.references(fields, resources, self._settings.closed_status_ids),
            skipped=skipped,
        )

    async def _sites(self, cursor: str | None) -> AsyncIterator[SyncBatch]:
        fields = wire.names(wire.CompanyLocation)
        async for page in self._client.query("CompanyLocations", [ALL], fields):
            records, skipped = await _map_page("sites", page.items, self._site)
            yield SyncBatch(records=records, skipped=skipped)

    async def _contracts(self, cursor: str | None) -> AsyncIterator[SyncBatch]:
        # An unreadable service or unit is reported and leaves its line out (or at one unit).
        raw_services = await self._client.query_all(
            "ContractServices", [ALL], wire.names(wire.ContractService)
        )
        read, problems = read_each("contracts", raw_services, _as(wire.ContractService))
        services: dict[int, list[wire.ContractService]] = {}
        for service in read:
            services.setdefault(service.contractID, []).append(service)
        now = mapping.format_time(self._client.clock.now())
        current = await self._client.query_all(
            "ContractServiceUnits",
            [
                {"op": "lte", "field": "startDate", "value": now},
                {"op": "gte", "field": "endDate", "value": now},
            ],
            wire.names(wire.ContractServiceUnit),
        )
        current_units, unread = read_each("contracts", current, _as(wire.ContractServiceUnit))
        problems += unread
        units = mapping.units_by_service(current_units)

        async def contract(item: Any) -> SyncedRecord:
            record = structure(item, wire.Contract)
            return mapping.contract(record, services.get(record.id, []), units)

        async for page in self._client.query("Contracts", [ALL], wire.names(wire.Contract)):
            records, skipped = await _map_page("contracts", page.items, contract)
            yield SyncBatch(records=records, skipped=problems + skipped)
            problems = []

    async def _changes(
        self, stream: str, cursor: str | None, field: str, kind: type[Any], mapper: Mapper
    ) -> AsyncIterator[SyncBatch]:
        since = _since(cursor)
        filters = (
            [{"op": "gte", "field": field, "value": mapping.format_time(since)}] if since else []
        )
        newest = since
        ceiling: datetime | None = None
        async for page in self._client.query(ENTITIES[kind], filters, wire.names(kind)):
            if ceiling is None and page.served_at is not None:
                ceiling = page.served_at - timedelta(seconds=1)
            records, skipped = await _map_page(stream, page.items, mapper)
            for item in page.items:
                newest = _later(newest, _time_of(item, field))
            yield SyncBatch(
                records=records,
                skipped=skipped,
                cursor=_watermark(since, newest, ceiling) if page.last else None,
            )

    async def _company(self, item: Any) -> SyncedRecord:
        return mapping.company(structure(item, wire.Company))

    async def _site(self, item: Any) -> SyncedRecord:
        return mapping.site(structure(item, wire.CompanyLocation))

    async def _contact(self, item: Any) -> SyncedRecord:
        return mapping.contact(structure(item, wire.Contact))

    async def _device(self, item: Any) -> SyncedRecord:
        return mapping.device(
            structure(item, wire.ConfigurationItem), (await self._client.zone()).web_url
        )

    async def _ticket(self, item: Any) -> SyncedRecord:
        record = structure(item, wire.Ticket)
        return mapping.ticket(record, await self._catalog.lookups())

    async def _note(self, item: Any) -> SyncedRecord:
        record = structure(item, wire.TicketNote)
        return mapping.ticket_note(
            record, await self._catalog.lookups(), self._settings.note_publish_external
        )


async def _map_page(
    stream: str, items: Sequence[Any], mapper: Mapper
) -> tuple[list[SyncedRecord], list[SkippedRecord]]:
    page = Page(stream)
    for item in items:
        with page.reading(item):
            page.add(await mapper(item))
    return page.records, page.skipped


def structure(item: Any, kind: type[T]) -> T:
    return wire.structure(item, kind)


def _as(kind: type[T]) -> Callable[[Any], T]:
    return lambda item: wire.structure(item, kind)


def _since(cursor: str | None) -> datetime | None:
    """The cursor's time; a cursor that is not one (a bug, a hand edit) reads everything."""
    try:
        return mapping.parse_time(cursor) if cursor else None
    except InvalidValue:
        logger.warning("ignoring the unreadable Autotask cursor %r: reading everything", cursor)
        return None


def _time_of(item: Any, field: str) -> datetime | None:
    value = item.get(field) if isinstance(item, dict) else None
    try:
        return mapping.parse_time(value) if isinstance(value, str) else None
    except InvalidValue:
        return None


def _later(current: datetime | None, candidate: datetime | None) -> datetime | None:
    if candidate is None:
        return current
    return candidate if current is None or candidate > current else current


def _watermark(
    since: datetime | None, newest: datetime | None, ceiling: datetime | None
) -> str | None:
    if newest is None or newest == since:
        mark = since
    else:
        mark = min(newest, ceiling) if ceiling is not None else newest
        if since is not None and mark < since:
            mark = since
    return mapping.format_time(mark) if mark is not None else None
