"""The PostgreSQL half of each record type's descriptor: its table, its rows both ways, the
stored state its changes are compared with, and its listing's sort columns.

Keyed by the domain's ``RecordType.name`` (``vectis.domain.record_types``), so the store, the
reader and the listings find a type's table the same way the sync finds its events.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from attrs import field, frozen
from sqlalchemy import Table, and_, case, func
from sqlalchemy.sql.elements import ColumnElement

from vectis.adapters.postgres.repositories.rows import (
    Row,
    contract_of,
    contract_row,
    fields_row,
    of_fields,
    ticket_of,
    ticket_row,
)
from vectis.adapters.postgres.tables import (
    alerts,
    contacts,
    contracts,
    devices,
    ticket_notes,
    ticket_references,
    tickets,
    vendor_companies,
    vendor_sites,
)
from vectis.domain import record_types as types
from vectis.domain.changes import StoredAlert, StoredDevice, StoredTicket
from vectis.domain.records import (
    Alert,
    Contact,
    Device,
    Reference,
    Severity,
    TicketNote,
    VendorCompany,
    VendorSite,
)

Sort = tuple[ColumnElement[Any], Callable[[str], Any]]
"""A sort column, and how a page position's text becomes one of its values."""

_NEVER = datetime.fromisoformat("1970-01-01T00:00:00+00:00")
_SEVERITY_RANK = case(
    {name: rank for rank, name in enumerate(reversed(Severity.ORDER))},
    value=alerts.c.severity,
    else_=-1,
)


@frozen(kw_only=True)
class RecordTable:
    table: Table
    to_row: Callable[[Any], Row] = fields_row
    """The record's data columns (the keys and bookkeeping columns are the store's)."""
    of_row: Callable[[Any], Any]
    stored: type[Any] | None = None
    """What the sync compares a change with, read from these columns (their field names)."""
    sorts: Mapping[str, Sort] = field(factory=dict)

    @property
    def keyed_by_kind(self) -> bool:
        """Whether a row is named by its kind too (a status 4 and a priority 4 are two)."""
        return "kind" in self.table.primary_key.columns

    def key(self) -> ColumnElement[str]:
        """The record's key as ``RecordType.key`` makes it: ``kind:id`` where the table is
        keyed by kind too, the vendor id otherwise."""
        if self.keyed_by_kind:
            return self.table.c.kind + ":" + self.table.c.vendor_id
        return self.table.c.vendor_id

    def one(self, integration_id: UUID, vendor_id: str) -> ColumnElement[bool]:
        """The row of one record (of a table not keyed by kind)."""
        return and_(
            self.table.c.integration_id == integration_id, self.table.c.vendor_id == vendor_id
        )


TABLES: Mapping[str, RecordTable] = {
    types.REFERENCE.name: RecordTable(table=ticket_references, of_row=of_fields(Reference)),
    types.COMPANY.name: RecordTable(table=vendor_companies, of_row=of_fields(VendorCompany)),
    types.SITE.name: RecordTable(table=vendor_sites, of_row=of_fields(VendorSite)),
    types.CONTACT.name: RecordTable(table=contacts, of_row=of_fields(Contact)),
    types.TICKET.name: RecordTable(
        table=tickets,
        to_row=ticket_row,
        of_row=ticket_of,
        stored=StoredTicket,
        sorts={
            "updated": (tickets.c.updated_at, datetime.fromisoformat),
            "opened": (tickets.c.opened_at, datetime.fromisoformat),
            "summary": (tickets.c.summary, str),
            "status": (func.coalesce(tickets.c.status, ""), str),
            "owner": (func.coalesce(tickets.c.owner, ""), str),
        },
    ),
    types.NOTE.name: RecordTable(table=ticket_notes, of_row=of_fields(TicketNote)),
    types.CONTRACT.name: RecordTable(table=contracts, to_row=contract_row, of_row=contract_of),
    types.DEVICE.name: RecordTable(
        table=devices,
        of_row=of_fields(Device),
        stored=StoredDevice,
        sorts={
            "name": (devices.c.name, str),
            "last_seen": (func.coalesce(devices.c.last_seen_at, _NEVER), datetime.fromisoformat),
            "os": (devices.c.os, str),
        },
    ),
    types.ALERT.name: RecordTable(
        table=alerts,
        of_row=of_fields(Alert),
        stored=StoredAlert,
        sorts={
            "raised": (alerts.c.raised_at, datetime.fromisoformat),
            "severity": (_SEVERITY_RANK, int),
        },
    ),
}


def table_of(record_type: types.RecordType) -> RecordTable:
    return TABLES[record_type.name]
