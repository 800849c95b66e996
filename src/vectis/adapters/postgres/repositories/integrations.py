"""Integrations (credentials stay sealed here) and their vendor-company ↔ customer links."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from vectis.adapters.postgres.repositories._lookup import lookup_key
from vectis.adapters.postgres.tables import customer_links, integrations
from vectis.application.errors import Conflict, NotFound
from vectis.domain.integration import Integration


class PostgresIntegrationRepository:
    def __init__(self, connection: AsyncConnection, tenant_id: UUID | None) -> None:
        self._connection = connection
        self._tenant_id = tenant_id

    async def add(self, integration: Integration, sealed_credentials: bytes) -> None:
        statement = (
            pg_insert(integrations)
            .values(
                id=integration.id,
                tenant_id=integration.tenant_id,
                vendor=integration.vendor,
                name=integration.name,
                base_url=integration.base_url,
                credentials=sealed_credentials,
                settings=dict(integration.settings),
                created_at=integration.created_at,
            )
            .on_conflict_do_nothing()
            .returning(integrations.c.id)
        )
        if (await self._connection.execute(statement)).first() is None:
            raise Conflict(f"an integration named {integration.name!r} already exists")

    async def get(self, integration_id: UUID) -> Integration | None:
        statement = select(*_PUBLIC_COLUMNS).where(integrations.c.id == integration_id)
        row = (await self._connection.execute(statement)).first()
        return _integration(row._mapping) if row else None

    async def find_for_webhook(self, integration_id: UUID) -> Integration | None:
        async with lookup_key(self._connection, "integration", str(integration_id)):
            return await self.get(integration_id)

    async def sealed_credentials(self, integration_id: UUID) -> bytes:
        statement = select(integrations.c.credentials).where(integrations.c.id == integration_id)
        sealed = (await self._connection.execute(statement)).scalar()
        if sealed is None:
            raise NotFound(f"no integration {integration_id}")
        return bytes(sealed)

    async def list_all(self) -> list[Integration]:
        statement = select(*_PUBLIC_COLUMNS).order_by(integrations.c.name)
        return [_integration(row._mapping) for row in await self._connection.execute(statement)]

    async def update_connection(
        self, integration_id: UUID, *, base_url: str, sealed_credentials: bytes
    ) -> None:
        await self._connection.execute(
            update(integrations)
            .where(integrations.c.id == integration_id)
            .values(base_url=base_url, credentials=sealed_credentials)
        )

    async def record_health(self, integration_id: UUID, *, at: datetime, error: str | None) -> None:
        values: dict[str, Any] = (
            {"last_success_at": at} if error is None else {"last_error_at": at, "last_error": error}
        )
        await self._connection.execute(
            update(integrations).where(integrations.c.id == integration_id).values(**values)
        )

    async def link_customer(
        self, integration_id: UUID, company_ref: str, customer_id: UUID
    ) -> None:
        statement = pg_insert(customer_links).values(
            tenant_id=self._tenant_id,
            integration_id=integration_id,
            company_ref=company_ref,
            customer_id=customer_id,
        )
        await self._connection.execute(
            statement.on_conflict_do_update(
                index_elements=[customer_links.c.integration_id, customer_links.c.company_ref],
                set_={"customer_id": customer_id},
            )
        )

    async def linked_customers(
        self, integration_id: UUID, company_refs: Sequence[str]
    ) -> dict[str, UUID]:
        if not company_refs:
            return {}
        statement = select(customer_links.c.company_ref, customer_links.c.customer_id).where(
            customer_links.c.integration_id == integration_id,
            customer_links.c.company_ref.in_(list(set(company_refs))),
        )
        return {
            row.company_ref: row.customer_id for row in await self._connection.execute(statement)
        }

    async def customer_links(self, integration_id: UUID) -> dict[str, UUID]:
        statement = select(customer_links.c.company_ref, customer_links.c.customer_id).where(
            customer_links.c.integration_id == integration_id
        )
        return {
            row.company_ref: row.customer_id for row in await self._connection.execute(statement)
        }


_PUBLIC_COLUMNS = [column for column in integrations.c if column.name != "credentials"]


def _integration(row: Any) -> Integration:
    return Integration(
        id=row["id"],
        tenant_id=row["tenant_id"],
        vendor=row["vendor"],
        name=row["name"],
        base_url=row["base_url"],
        settings=row["settings"],
        created_at=row["created_at"],
        last_success_at=row["last_success_at"],
        last_error_at=row["last_error_at"],
        last_error=row["last_error"],
    )
