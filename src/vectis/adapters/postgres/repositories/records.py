"""The unified model's tables: batched, idempotent upserts keyed by (integration, vendor id).

An upsert writes only rows that changed (``IS DISTINCT FROM`` on the data columns), so a
re-sync of unchanged pages costs reads, not writes, and says exactly what was created or updated.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import attrs
from sqlalchemy import Table, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from vectis.adapters.postgres.bulk import Staged, apply, stage_rows
from vectis.adapters.postgres.tables import (
    SYNCED_TABLES,
    alerts,
    contacts,
    contracts,
    customer_links,
    daily_metrics,
    devices,
    sync_cursors,
    ticket_notes,
    ticket_references,
    tickets,
    vendor_companies,
    vendor_sites,
)
from vectis.domain.changes import StoredAlert, StoredTicket
from vectis.domain.records import (
    Alert,
    AlertState,
    Contact,
    Contract,
    ContractLine,
    DailyMetric,
    Device,
    Held,
    Named,
    Reference,
    Ticket,
    TicketNote,
    TicketSla,
    VendorCompany,
    VendorSite,
)

Row = dict[str, Any]


def _named(prefix: str, value: Named | None) -> Row:
    return {f"{prefix}_id": value.id if value else None, prefix: value.name if value else None}


def _ticket(ticket: Ticket) -> Row:
    return {
        "company_id": ticket.company_id,
        "number": ticket.number,
        "summary": ticket.summary,
        "description": ticket.description,
        **_named("board", ticket.board),
        **_named("status", ticket.status),
        **_named("priority", ticket.priority),
        **_named("owner", ticket.owner),
        "contact_id": ticket.contact_id,
        "site_id": ticket.site_id,
        "closed": ticket.closed,
        "opened_at": ticket.opened_at,
        "updated_at": ticket.updated_at,
        "closed_at": ticket.closed_at,
        "url": ticket.url,
        **_sla(ticket.sla),
    }


def _sla(sla: TicketSla | None) -> Row:
    sla = sla or TicketSla()
    return {
        "sla_name": sla.name or None,
        "sla_respond_by": sla.respond_by,
        "sla_responded_at": sla.responded_at,
        "sla_resolve_by": sla.resolve_by,
        "sla_in_sla": sla.in_sla,
    }


def _contract(contract: Contract) -> Row:
    row = attrs.asdict(contract, recurse=False)
    row["lines"] = [
        {
            "id": line.id,
            "description": line.description,
            "quantity": str(line.quantity),
            "unit_price": None if line.unit_price is None else str(line.unit_price),
        }
        for line in contract.lines
    ]
    return row


def _fields(record: Any) -> Row:
    return attrs.asdict(record, recurse=False)


# record type → (table, row of its data columns)
_WRITERS: Mapping[type[Any], tuple[Table, Callable[[Any], Row]]] = {
    Reference: (ticket_references, _fields),
    VendorCompany: (vendor_companies, _fields),
    VendorSite: (vendor_sites, _fields),
    Contact: (contacts, _fields),
    Ticket: (tickets, _ticket),
    TicketNote: (ticket_notes, _fields),
    Contract: (contracts, _contract),
    Device: (devices, _fields),
    Alert: (alerts, _fields),
    DailyMetric: (daily_metrics, _fields),
}
TABLE_OF_TYPE = {
    "ticket": tickets,
    "alert": alerts,
    "device": devices,
    "contact": contacts,
    "company": vendor_companies,
    "site": vendor_sites,
    "contract": contracts,
    "note": ticket_notes,
}
_DATA_COLUMNS = {
    table.name: frozenset(column.name for column in table.c) - {"id"}
    for table, _ in _WRITERS.values()
}
_KEYS = {
    "integration_id",
    "vendor_id",
    "kind",
    "tenant_id",
    "customer_id",
    "synced_at",
    "deleted_at",
}


def record_key(record: Any) -> str:
    return str(record.id)


class PostgresRecordStore:
    def __init__(self, connection: AsyncConnection, tenant_id: UUID | None) -> None:
        self._connection = connection
        self._tenant_id = tenant_id

    async def upsert(
        self,
        integration_id: UUID,
        records: Sequence[Any],
        customer_ids: Mapping[str, UUID],
        at: datetime,
    ) -> tuple[list[str], list[str]]:
        """Store records of one type; return the vendor ids created and those changed."""
        return await self.apply(await self.stage(integration_id, records, customer_ids, at))

    async def apply(self, staged: Staged | None) -> tuple[list[str], list[str]]:
        result = await apply(self._connection, staged)
        return (
            [row.vendor_id for row in result if row.created],
            [row.vendor_id for row in result if not row.created],
        )

    async def stage(
        self,
        integration_id: UUID,
        records: Sequence[Any],
        customer_ids: Mapping[str, UUID],
        at: datetime,
    ) -> Staged | None:
        """Copy records of one type aside, to be upserted by ``apply`` (locks nothing)."""
        if not records:
            return None
        table, to_row = _WRITERS[type(records[0])]
        columns = _DATA_COLUMNS[table.name]
        rows = []
        for record in records:
            row = {column: value for column, value in to_row(record).items() if column in columns}
            if isinstance(record, Reference):
                row["kind"] = record.kind
            key = record_key(record)
            row.update(
                tenant_id=self._tenant_id,
                integration_id=integration_id,
                vendor_id=key,
                customer_id=customer_ids.get(key),
                synced_at=at,
                deleted_at=None,
            )
            rows.append(row)
        data = [column.name for column in table.c if column.name not in _KEYS]
        watched = [*data, "customer_id", "deleted_at"]
        # One row per key: a page may repeat a record (vendors re-send the boundary record).
        # Sorted by key, so two pages written at once lock shared rows in the same order.
        by_key = {(row.get("kind") or "", row["vendor_id"]): row for row in rows}
        unique = [by_key[key] for key in sorted(by_key)]
        return await stage_rows(
            self._connection,
            table,
            unique,
            conflict=[column.name for column in table.primary_key.columns],
            update=[*watched, "synced_at"],
            only_if_changed=watched,
            returning="vendor_id, (xmax = 0) AS created",
        )

    async def stored_tickets(
        self, integration_id: UUID, ticket_ids: Collection[str]
    ) -> dict[str, StoredTicket]:
        if not ticket_ids:
            return {}
        # One array parameter, not an IN list of hundreds: the statement stays the same.
        result = await self._connection.exec_driver_sql(
            "SELECT vendor_id, closed, status, summary, number, company_id, opened_at "
            "FROM tickets WHERE integration_id = %b AND vendor_id = ANY(%b::text[])",
            (integration_id, list(ticket_ids)),
        )
        return {
            row.vendor_id: StoredTicket(
                closed=row.closed,
                status=row.status,
                summary=row.summary,
                number=row.number,
                company_id=row.company_id,
                opened_at=row.opened_at,
            )
            for row in result
        }

    async def stored_alerts(
        self, integration_id: UUID, alert_ids: Collection[str]
    ) -> dict[str, StoredAlert]:
        if not alert_ids:
            return {}
        statement = select(alerts.c.vendor_id, alerts.c.state).where(
            alerts.c.integration_id == integration_id, alerts.c.vendor_id.in_(list(alert_ids))
        )
        return {
            row.vendor_id: StoredAlert(state=row.state)
            for row in await self._connection.execute(statement)
        }

    async def resolve_missing_alerts(
        self, integration_id: UUID, seen: Collection[str], at: datetime
    ) -> list[Alert]:
        """Alerts a complete listing no longer shows have been cleared at the vendor."""
        statement = (
            update(alerts)
            .where(
                alerts.c.integration_id == integration_id,
                alerts.c.state != AlertState.RESOLVED,
                alerts.c.vendor_id.not_in(list(seen)),
            )
            .values(state=AlertState.RESOLVED, resolved_at=at, updated_at=at, synced_at=at)
            .returning(*alerts.c)
        )
        return [alert_of(row) for row in await self._connection.execute(statement)]

    async def delete_missing(
        self, integration_id: UUID, record_type: type[Any], seen: Collection[str], at: datetime
    ) -> int:
        """Mark rows a complete listing no longer shows as deleted at the vendor."""
        table = _WRITERS[record_type][0]
        # Keys as the sync names them: ``kind:id`` for references, the vendor id otherwise.
        key = (
            table.c.kind + ":" + table.c.vendor_id
            if table is ticket_references
            else table.c.vendor_id
        )
        statement = (
            update(table)
            .where(
                table.c.integration_id == integration_id,
                table.c.deleted_at.is_(None),
                key.not_in(list(seen)),
            )
            .values(deleted_at=at)
        )
        return (await self._connection.execute(statement)).rowcount

    async def delete(
        self, integration_id: UUID, record_type: str, vendor_id: str, at: datetime
    ) -> bool:
        table = TABLE_OF_TYPE.get(record_type)
        if table is None:
            return False
        statement = (
            update(table)
            .where(
                table.c.integration_id == integration_id,
                table.c.vendor_id == vendor_id,
                table.c.deleted_at.is_(None),
            )
            .values(deleted_at=at)
        )
        return bool((await self._connection.execute(statement)).rowcount)

    async def relink(self, integration_id: UUID, company_ref: str, customer_id: UUID) -> None:
        """A company was (re)linked to a customer: move its records and events along."""
        for table in SYNCED_TABLES:
            if "company_id" in table.c:
                await self._connection.execute(
                    update(table)
                    .where(
                        table.c.integration_id == integration_id, table.c.company_id == company_ref
                    )
                    .values(customer_id=customer_id)
                )
        await self._connection.execute(
            update(vendor_companies)
            .where(
                vendor_companies.c.integration_id == integration_id,
                vendor_companies.c.vendor_id == company_ref,
            )
            .values(customer_id=customer_id)
        )
        await self._connection.execute(
            update(ticket_notes)
            .where(
                ticket_notes.c.integration_id == integration_id,
                ticket_notes.c.ticket_id == tickets.c.vendor_id,
                tickets.c.integration_id == integration_id,
                tickets.c.company_id == company_ref,
            )
            .values(customer_id=customer_id)
        )

    async def companies(self, integration_id: UUID) -> list[VendorCompany]:
        statement = (
            select(vendor_companies)
            .where(
                vendor_companies.c.integration_id == integration_id,
                vendor_companies.c.deleted_at.is_(None),
            )
            .order_by(vendor_companies.c.name)
        )
        return [
            VendorCompany(
                id=row.vendor_id,
                name=row.name,
                identifier=row.identifier,
                updated_at=row.updated_at,
            )
            for row in await self._connection.execute(statement)
        ]

    async def cursors(self, integration_id: UUID) -> dict[str, str]:
        statement = select(sync_cursors.c.stream, sync_cursors.c.cursor).where(
            sync_cursors.c.integration_id == integration_id
        )
        return {row.stream: row.cursor for row in await self._connection.execute(statement)}

    async def save_cursor(
        self, integration_id: UUID, stream: str, cursor: str, at: datetime
    ) -> None:
        statement = pg_insert(sync_cursors).values(
            tenant_id=self._tenant_id,
            integration_id=integration_id,
            stream=stream,
            cursor=cursor,
            updated_at=at,
        )
        await self._connection.execute(
            statement.on_conflict_do_update(
                index_elements=[sync_cursors.c.integration_id, sync_cursors.c.stream],
                set_={"cursor": cursor, "updated_at": at},
            )
        )


class PostgresRecordReader:
    """Reads of the unified model for one customer (the hub's tabs and the API)."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def ticket(self, integration_id: UUID, ticket_id: str) -> Held[Ticket] | None:
        statement = select(tickets).where(
            tickets.c.integration_id == integration_id, tickets.c.vendor_id == ticket_id
        )
        row = (await self._connection.execute(statement)).first()
        return Held(integration_id=row.integration_id, record=ticket_of(row)) if row else None

    async def notes(self, integration_id: UUID, ticket_id: str) -> list[TicketNote]:
        statement = (
            select(ticket_notes)
            .where(
                ticket_notes.c.integration_id == integration_id,
                ticket_notes.c.ticket_id == ticket_id,
                ticket_notes.c.deleted_at.is_(None),
            )
            .order_by(ticket_notes.c.created_at, ticket_notes.c.vendor_id)
        )
        return [
            TicketNote(
                id=row.vendor_id,
                ticket_id=row.ticket_id,
                text=row.text,
                internal=row.internal,
                created_at=row.created_at,
                author=row.author,
                from_customer=row.from_customer,
            )
            for row in await self._connection.execute(statement)
        ]

    async def alert(self, integration_id: UUID, alert_id: str) -> Held[Alert] | None:
        statement = select(alerts).where(
            alerts.c.integration_id == integration_id, alerts.c.vendor_id == alert_id
        )
        row = (await self._connection.execute(statement)).first()
        return Held(integration_id=row.integration_id, record=alert_of(row)) if row else None

    async def contracts(self, customer_id: UUID) -> list[Held[Contract]]:
        statement = (
            select(contracts)
            .where(contracts.c.customer_id == customer_id, contracts.c.deleted_at.is_(None))
            .order_by(contracts.c.ends_on.desc().nulls_last(), contracts.c.vendor_id)
        )
        return [
            Held(
                integration_id=row.integration_id,
                record=Contract(
                    id=row.vendor_id,
                    company_id=row.company_id,
                    name=row.name,
                    kind=row.kind,
                    status=row.status,
                    starts_on=row.starts_on,
                    ends_on=row.ends_on,
                    lines=[
                        ContractLine(
                            id=line["id"],
                            description=line["description"],
                            quantity=Decimal(line["quantity"]),
                            unit_price=None
                            if line["unit_price"] is None
                            else Decimal(line["unit_price"]),
                        )
                        for line in row.lines
                    ],
                    updated_at=row.updated_at,
                ),
            )
            for row in await self._connection.execute(statement)
        ]

    async def references(self, integration_id: UUID) -> list[Reference]:
        statement = (
            select(ticket_references)
            .where(
                ticket_references.c.integration_id == integration_id,
                ticket_references.c.deleted_at.is_(None),
            )
            .order_by(ticket_references.c.kind, ticket_references.c.name)
        )
        return [
            Reference(kind=row.kind, id=row.vendor_id, name=row.name, closed=row.closed)
            for row in await self._connection.execute(statement)
        ]

    async def customer_companies(self, customer_id: UUID) -> dict[UUID, str]:
        """For each integration, the vendor company linked to this customer."""
        statement = select(customer_links.c.integration_id, customer_links.c.company_ref).where(
            customer_links.c.customer_id == customer_id
        )
        return {
            row.integration_id: row.company_ref for row in await self._connection.execute(statement)
        }


def ticket_of(row: Any) -> Ticket:
    def named(prefix: str) -> Named | None:
        identifier, name = getattr(row, f"{prefix}_id"), getattr(row, prefix)
        return Named(id=identifier, name=name) if identifier is not None else None

    return Ticket(
        id=row.vendor_id,
        company_id=row.company_id,
        summary=row.summary,
        opened_at=row.opened_at,
        updated_at=row.updated_at,
        number=row.number,
        description=row.description,
        board=named("board"),
        status=named("status"),
        priority=named("priority"),
        owner=named("owner"),
        contact_id=row.contact_id,
        site_id=row.site_id,
        closed=row.closed,
        closed_at=row.closed_at,
        url=row.url,
        sla=sla_of(row),
    )


def sla_of(row: Any) -> TicketSla | None:
    sla = TicketSla(
        name=row.sla_name or "",
        respond_by=row.sla_respond_by,
        responded_at=row.sla_responded_at,
        resolve_by=row.sla_resolve_by,
        in_sla=row.sla_in_sla,
    )
    return sla if sla.known or sla.name else None


def device_of(row: Any) -> Device:
    return Device(
        id=row.vendor_id,
        company_id=row.company_id,
        name=row.name,
        kind=row.kind,
        os=row.os,
        site=row.site,
        online=row.online,
        last_seen_at=row.last_seen_at,
        patch_state=row.patch_state,
        patches_pending=row.patches_pending,
        av_state=row.av_state,
        av_definitions_at=row.av_definitions_at,
        updated_at=row.updated_at,
        url=row.url,
    )


def alert_of(row: Any) -> Alert:
    return Alert(
        id=row.vendor_id,
        company_id=row.company_id,
        message=row.message,
        severity=row.severity,
        raised_at=row.raised_at,
        state=row.state,
        device_id=row.device_id,
        source=row.source,
        updated_at=row.updated_at,
        url=row.url,
    )
