"""The event stream and the inbox that deduplicates what connectors deliver."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from vectis.adapters.postgres.bulk import Staged, apply, stage_rows
from vectis.adapters.postgres.storage import dump_inbound, load_inbound
from vectis.adapters.postgres.tables import events, inbox
from vectis.application.unit_of_work import InboxItem
from vectis.domain.events import Event, InboundEvent


class PostgresEventStream:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def append(self, new_events: Sequence[Event]) -> list[int]:
        return await self.apply(await self.stage(new_events))

    async def apply(self, staged: Staged | None) -> list[int]:
        return [row.id for row in await apply(self._connection, staged)]

    async def stage(self, new_events: Sequence[Event]) -> Staged | None:
        """Copy events aside, to be appended by ``apply`` (locks nothing)."""
        if not new_events:
            return None
        rows = [
            {
                "tenant_id": event.tenant_id,
                "customer_id": event.customer_id,
                "site_id": event.site_id,
                "source": event.source,
                "kind": event.kind,
                "occurred_at": event.occurred_at,
                "title": event.title,
                "detail": event.detail,
                "subject_system": event.subject.system if event.subject else None,
                "subject_type": event.subject.type if event.subject else None,
                "subject_id": event.subject.id if event.subject else None,
                "integration_id": event.integration_id,
                "payload": dict(event.payload),
                "dedup_key": event.dedup_key,
            }
            for event in new_events
        ]
        return await stage_rows(
            self._connection,
            events,
            rows,
            conflict=["integration_id", "dedup_key"],
            conflict_where="dedup_key IS NOT NULL",
            returning="id",
        )


class PostgresInbox:
    def __init__(self, connection: AsyncConnection, tenant_id: UUID | None) -> None:
        self._connection = connection
        self._tenant_id = tenant_id

    async def add(self, integration_id: UUID, new: Sequence[InboundEvent], at: datetime) -> int:
        if not new:
            return 0
        rows = [
            {
                "tenant_id": self._tenant_id,
                "integration_id": integration_id,
                "external_id": event.external_id,
                "kind": event.kind,
                "received_at": at,
                "event": dump_inbound(event),
            }
            for event in new
        ]
        statement = pg_insert(inbox).values(rows).on_conflict_do_nothing().returning(inbox.c.id)
        return len((await self._connection.execute(statement)).all())

    async def claim(self, limit: int) -> list[InboxItem]:
        statement = (
            select(inbox.c.id, inbox.c.integration_id, inbox.c.received_at, inbox.c.event)
            .where(inbox.c.tenant_id == self._tenant_id, inbox.c.processed_at.is_(None))
            .order_by(inbox.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [
            InboxItem(
                id=row.id,
                integration_id=row.integration_id,
                received_at=row.received_at,
                event=load_inbound(row.event),
            )
            for row in await self._connection.execute(statement)
        ]

    async def mark_processed(self, item_ids: Sequence[int], at: datetime) -> None:
        if item_ids:
            await self._connection.execute(
                update(inbox).where(inbox.c.id.in_(list(item_ids))).values(processed_at=at)
            )
