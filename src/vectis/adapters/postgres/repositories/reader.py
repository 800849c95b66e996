"""Reads of the unified model for one customer: the hub's record pages and the API."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from vectis.adapters.postgres.record_tables import table_of
from vectis.adapters.postgres.tables import (
    contracts,
    customer_links,
    ticket_notes,
    ticket_references,
)
from vectis.domain.record_types import ALERT, CONTRACT, NOTE, REFERENCE, TICKET, RecordType
from vectis.domain.records import Alert, Contract, Held, Reference, Ticket, TicketNote


class PostgresRecordReader:
    """Reads of the unified model for one customer (the hub's tabs and the API)."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def ticket(self, integration_id: UUID, ticket_id: str) -> Held[Ticket] | None:
        return await self._held(TICKET, integration_id, ticket_id)

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
        of_row = table_of(NOTE).of_row
        return [of_row(row) for row in await self._connection.execute(statement)]

    async def alert(self, integration_id: UUID, alert_id: str) -> Held[Alert] | None:
        return await self._held(ALERT, integration_id, alert_id)

    async def contracts(self, customer_id: UUID) -> list[Held[Contract]]:
        statement = (
            select(contracts)
            .where(contracts.c.customer_id == customer_id, contracts.c.deleted_at.is_(None))
            .order_by(contracts.c.ends_on.desc().nulls_last(), contracts.c.vendor_id)
        )
        of_row = table_of(CONTRACT).of_row
        return [
            Held(integration_id=row.integration_id, record=of_row(row))
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
        of_row = table_of(REFERENCE).of_row
        return [of_row(row) for row in await self._connection.execute(statement)]

    async def customer_companies(self, customer_id: UUID) -> dict[UUID, str]:
        """For each integration, the vendor company linked to this customer."""
        statement = select(customer_links.c.integration_id, customer_links.c.company_ref).where(
            customer_links.c.customer_id == customer_id
        )
        return {
            row.integration_id: row.company_ref for row in await self._connection.execute(statement)
        }

    async def _held(
        self, record_type: RecordType, integration_id: UUID, vendor_id: str
    ) -> Held[Any] | None:
        """One record of the type by its key, deleted at the vendor or not."""
        described = table_of(record_type)
        statement = select(described.table).where(described.one(integration_id, vendor_id))
        row = (await self._connection.execute(statement)).first()
        return (
            Held(integration_id=row.integration_id, record=described.of_row(row)) if row else None
        )
