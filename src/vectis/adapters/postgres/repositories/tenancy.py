"""Tenants, customers and sites."""

from __future__ import annotations

from collections import defaultdict
from typing import Any
from uuid import UUID

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from vectis.adapters.postgres.repositories._lookup import lookup_key
from vectis.adapters.postgres.tables import customers, sites, tenants
from vectis.application.errors import Conflict
from vectis.domain.customer import Customer, Site
from vectis.domain.tenancy import Tenant

# A tenant without its logo's bytes (served on their own): whether it has one is enough.
_TENANT = (
    tenants.c.id,
    tenants.c.slug,
    tenants.c.name,
    tenants.c.created_at,
    tenants.c.accent_color,
    tenants.c.logo.is_not(None).label("has_logo"),
)


class PostgresTenantRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, tenant: Tenant) -> None:
        statement = (
            pg_insert(tenants)
            .values(id=tenant.id, slug=tenant.slug, name=tenant.name, created_at=tenant.created_at)
            .on_conflict_do_nothing()
            .returning(tenants.c.id)
        )
        if (await self._connection.execute(statement)).first() is None:
            raise Conflict(f"a tenant with the slug {tenant.slug!r} already exists")

    async def get(self, tenant_id: UUID) -> Tenant | None:
        row = (
            await self._connection.execute(select(*_TENANT).where(tenants.c.id == tenant_id))
        ).first()
        return _tenant(row._mapping) if row else None

    async def get_by_slug(self, slug: str) -> Tenant | None:
        statement = select(*_TENANT).where(tenants.c.slug == slug)
        async with lookup_key(self._connection, "slug", slug):
            row = (await self._connection.execute(statement)).first()
        return _tenant(row._mapping) if row else None

    async def ids(self) -> list[UUID]:
        rows = await self._connection.execute(select(func.vectis_tenant_ids()))
        return [row[0] for row in rows]

    async def set_branding(
        self,
        tenant_id: UUID,
        *,
        accent_color: str | None,
        logo: tuple[bytes, str] | None,
        keep_logo: bool,
    ) -> None:
        values: dict[str, Any] = {"accent_color": accent_color}
        if not keep_logo:
            values.update(logo=logo[0] if logo else None, logo_type=logo[1] if logo else None)
        await self._connection.execute(
            update(tenants).where(tenants.c.id == tenant_id).values(**values)
        )

    async def logo(self, tenant_id: UUID) -> tuple[bytes, str] | None:
        statement = select(tenants.c.logo, tenants.c.logo_type).where(tenants.c.id == tenant_id)
        row = (await self._connection.execute(statement)).first()
        return (bytes(row.logo), row.logo_type) if row and row.logo else None


class PostgresCustomerRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, customer: Customer) -> None:
        statement = (
            pg_insert(customers)
            .values(
                id=customer.id,
                tenant_id=customer.tenant_id,
                name=customer.name,
                slug=customer.slug,
                created_at=customer.created_at,
            )
            .on_conflict_do_nothing()
            .returning(customers.c.id)
        )
        if (await self._connection.execute(statement)).first() is None:
            raise Conflict(f"a customer with the slug {customer.slug!r} already exists")
        for site in customer.sites:
            await self.add_site(site)

    async def add_site(self, site: Site) -> None:
        statement = (
            pg_insert(sites)
            .values(
                id=site.id,
                tenant_id=site.tenant_id,
                customer_id=site.customer_id,
                name=site.name,
                created_at=site.created_at,
            )
            .on_conflict_do_nothing()
            .returning(sites.c.id)
        )
        if (await self._connection.execute(statement)).first() is None:
            raise Conflict(f"the customer already has a site named {site.name!r}")

    async def get(self, customer_id: UUID) -> Customer | None:
        found = await self._load(select(customers).where(customers.c.id == customer_id))
        return found[0] if found else None

    async def get_by_slug(self, slug: str) -> Customer | None:
        found = await self._load(select(customers).where(customers.c.slug == slug))
        return found[0] if found else None

    async def find(self, *, search: str | None = None, limit: int = 500) -> list[Customer]:
        statement = select(customers).order_by(func.lower(customers.c.name)).limit(limit)
        if search:
            statement = statement.where(customers.c.name.icontains(search, autoescape=True))
        return await self._load(statement)

    async def _load(self, statement: Any) -> list[Customer]:
        rows = [row._mapping for row in await self._connection.execute(statement)]
        if not rows:
            return []
        site_rows = await self._connection.execute(
            select(sites)
            .where(sites.c.customer_id.in_([row["id"] for row in rows]))
            .order_by(sites.c.name)
        )
        by_customer: dict[UUID, list[Site]] = defaultdict(list)
        for site_row in site_rows:
            site = _site(site_row._mapping)
            by_customer[site.customer_id].append(site)
        return [_customer(row, tuple(by_customer[row["id"]])) for row in rows]


def _tenant(row: Any) -> Tenant:
    return Tenant(
        id=row["id"],
        slug=row["slug"],
        name=row["name"],
        created_at=row["created_at"],
        accent_color=row["accent_color"],
        has_logo=row["has_logo"],
    )


def _customer(row: Any, customer_sites: tuple[Site, ...]) -> Customer:
    return Customer(
        id=row["id"],
        tenant_id=row["tenant_id"],
        name=row["name"],
        slug=row["slug"],
        created_at=row["created_at"],
        sites=customer_sites,
    )


def _site(row: Any) -> Site:
    return Site(
        id=row["id"],
        tenant_id=row["tenant_id"],
        customer_id=row["customer_id"],
        name=row["name"],
        created_at=row["created_at"],
    )
