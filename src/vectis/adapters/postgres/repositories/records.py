"""The unified model's writes: batched, idempotent upserts keyed by (integration, vendor id).

An upsert writes only rows that changed (``IS DISTINCT FROM`` on the data columns), so a
re-sync of unchanged pages costs reads, not writes, and says exactly what was created or updated.
Which table a record goes to, and how, is its type's ``RecordTable``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import attrs
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from vectis.adapters.postgres.bulk import Staged, apply, stage_rows
from vectis.adapters.postgres.record_tables import TABLES, table_of
from vectis.adapters.postgres.tables import (
    SYNCED_TABLES,
    alerts,
    sync_cursors,
    ticket_notes,
    tickets,
    vendor_companies,
)
from vectis.domain.record_types import ALERT, COMPANY, record_type_of
from vectis.domain.records import Alert, AlertState, VendorCompany

# Columns the store fills itself, in the order a staged row carries them; the rest are the
# record's data.
_STAGED_BOOKKEEPING = (
    "tenant_id",
    "integration_id",
    "vendor_id",
    "customer_id",
    "synced_at",
    "deleted_at",
)
_BOOKKEEPING = frozenset(_STAGED_BOOKKEEPING)


class PostgresRecordStore:
    def __init__(self, connection: AsyncConnection, tenant_id: UUID | None) -> None:
        self._connection = connection
        self._tenant_id = tenant_id

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
        described = table_of(record_type_of(records[0]))
        table = described.table
        keys = [column.name for column in table.primary_key.columns]
        data = [column.name for column in table.c if column.name not in {*_BOOKKEEPING, *keys}]
        to_row = described.to_row
        produced = to_row(records[0])
        picked = [
            column
            for column in ([*data, "kind"] if described.keyed_by_kind else data)
            if column in produced
        ]
        columns = [*picked, *_STAGED_BOOKKEEPING]
        # One row per key: a page may repeat a record (vendors re-send the boundary record).
        # Sorted by key, so two pages written at once lock shared rows in the same order.
        by_key: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        for record in records:
            values = to_row(record)
            vendor_id = str(record.id)
            row = (
                *[values[column] for column in picked],
                self._tenant_id,
                integration_id,
                vendor_id,
                customer_ids.get(vendor_id),
                at,
                None,
            )
            key = (values["kind"], vendor_id) if described.keyed_by_kind else (vendor_id,)
            by_key[key] = row
        watched = [*data, "customer_id", "deleted_at"]
        return await stage_rows(
            self._connection,
            table,
            columns,
            [by_key[key] for key in sorted(by_key)],
            conflict=keys,
            update=[*watched, "synced_at"],
            only_if_changed=watched,
            returning="vendor_id, (xmax = 0) AS created",
        )

    async def apply(self, staged: Staged | None) -> tuple[list[str], list[str]]:
        """Write what ``stage`` copied aside; the vendor ids created and those changed."""
        result = await apply(self._connection, staged)
        return (
            [row.vendor_id for row in result if row.created],
            [row.vendor_id for row in result if not row.created],
        )

    async def stored(
        self, integration_id: UUID, record_type: str, vendor_ids: Collection[str]
    ) -> dict[str, Any]:
        """What the sync compares changes of ``record_type`` with, by vendor id."""
        described = TABLES[record_type]
        if not vendor_ids or described.stored is None:
            return {}
        names = [field.name for field in attrs.fields(described.stored)]
        # One array parameter, not an IN list of hundreds: the statement stays the same.
        # The names are the table's own columns, never input.
        result = await self._connection.exec_driver_sql(
            f"SELECT vendor_id, {', '.join(names)} FROM {described.table.name} "  # noqa: S608
            "WHERE integration_id = %b AND vendor_id = ANY(%b::text[])",
            (integration_id, list(vendor_ids)),
        )
        return {
            row.vendor_id: described.stored(**{name: getattr(row, name) for name in names})
            for row in result
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
        of_row = table_of(ALERT).of_row
        return [of_row(row) for row in await self._connection.execute(statement)]

    async def delete_missing(
        self, integration_id: UUID, record_type: str, seen: Collection[str], at: datetime
    ) -> int:
        """Mark rows of one type a complete listing no longer shows as deleted at the vendor
        (``seen`` holds keys as ``RecordType.key`` makes them)."""
        described = TABLES[record_type]
        table = described.table
        statement = (
            update(table)
            .where(
                table.c.integration_id == integration_id,
                table.c.deleted_at.is_(None),
                described.key().not_in(list(seen)),
            )
            .values(deleted_at=at)
        )
        return (await self._connection.execute(statement)).rowcount

    async def delete(
        self, integration_id: UUID, record_type: str, vendor_id: str, at: datetime
    ) -> bool:
        described = TABLES.get(record_type)
        # A vendor id alone does not name a row of a table keyed by kind too.
        if described is None or described.keyed_by_kind:
            return False
        table = described.table
        statement = (
            update(table)
            .where(described.one(integration_id, vendor_id), table.c.deleted_at.is_(None))
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
        of_row = table_of(COMPANY).of_row
        return [of_row(row) for row in await self._connection.execute(statement)]

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

    async def refresh_statistics(self, record_type: str) -> None:
        """ANALYZE the record type's table (through the one function that may), so lookups
        keep to the key while a first sync grows the table from nothing."""
        await self._connection.exec_driver_sql(
            "SELECT vectis_refresh_statistics(%s)", (TABLES[record_type].table.name,)
        )
