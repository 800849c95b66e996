"""Builders for the objects most tests start from: a tenant with an operator and customers."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from attrs import frozen

from vectis.adapters.vendors._entry import Link
from vectis.application.services import Services
from vectis.application.unit_of_work import UnitOfWork
from vectis.domain.customer import Customer
from vectis.domain.identity import Principal
from vectis.domain.integration import Credentials, Integration
from vectis.domain.tenancy import Operator, Role, Tenant
from vectis_sandbox.server import Sandbox

PASSWORD = "correct horse battery"
CUSTOMER = "Drexel Dental"
"""The sandbox customer that seeded hub tests link in every sandboxed vendor."""


THROTTLE_SECRET = b"test sign-in throttle secret"
"""Keys the sign-in throttle in tests that build their own IdentityService."""


class FrozenClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta


@frozen(kw_only=True)
class World:
    tenant: Tenant
    owner: Operator
    customers: tuple[Customer, ...]

    @property
    def principal(self) -> Principal:
        return Principal.system(self.tenant.id, "test")


async def make_tenant(
    services: Services, name: str = "Northwind IT", *, customers: tuple[str, ...] = ("Acme",)
) -> World:
    tenant = await services.tenancy.create_tenant(name)
    owner = await services.tenancy.add_operator(
        tenant.id,
        email=f"owner@{tenant.slug}.example",
        display_name="Olive Owner",
        role=Role.OWNER,
        password=PASSWORD,
    )
    made = tuple(
        [await services.tenancy.add_customer(tenant.id, name=customer) for customer in customers]
    )
    return World(tenant=tenant, owner=owner, customers=made)


async def add_operator(services: Services, world: World, handle: str, role: Role) -> Operator:
    return await services.tenancy.add_operator(
        world.tenant.id,
        email=f"{handle}@{world.tenant.slug}.example",
        display_name=handle.title(),
        role=role,
        password=PASSWORD,
    )


async def add_connectwise(
    services: Services, world: World, *, name: str = "ConnectWise", private_key: str = "s3cr3t"
) -> Integration:
    """A ConnectWise integration on the cloud host (nothing is called until a job runs)."""
    return await services.integrations.add(
        world.principal,
        vendor="connectwise",
        name=name,
        base_url="https://api-na.myconnectwise.net/v4_6_release",
        credentials=Credentials(
            values={
                "company_id": "harborpoint",
                "public_key": "pub",
                "private_key": private_key,
                "client_id": "cid",
            }
        ),
        test=False,
    )


@frozen(kw_only=True)
class Seeded:
    world: World
    integrations: dict[str, Integration]

    @property
    def customer_id(self) -> UUID:
        return self.world.customers[0].id


async def seed_synced_customer(
    services: Services, sandbox: Sandbox, *, others: tuple[str, ...] = ()
) -> Seeded:
    """A tenant whose first customer, Drexel Dental, is linked in every sandboxed vendor and
    synced; ``others`` are further (unlinked) customers."""
    world = await make_tenant(services, customers=(CUSTOMER, *others))
    integrations = {}
    for account in sandbox.accounts:
        integration = await services.integrations.add(
            world.principal,
            vendor=account.vendor,
            name=account.name,
            base_url=account.base_url,
            credentials=Credentials(values=account.credentials),
            settings={"requests_per_minute": 100_000},
        )
        await services.integrations.link_customer(
            world.principal,
            integration.id,
            company_ref(sandbox, account.vendor),
            world.customers[0].id,
        )
        run = await services.sync.run(world.tenant.id, integration.id)
        assert not run.errors, run.errors
        integrations[account.vendor] = integration
    return Seeded(world=world, integrations=integrations)


def company_ref(sandbox: Sandbox, vendor: str, name: str = CUSTOMER) -> str:
    """The vendor's own id for a sandbox company."""
    account = next(a for a in sandbox.accounts if a.vendor == vendor)
    return next(ref for ref, company in account.companies.items() if company == name)


async def store_records(
    uow: UnitOfWork,
    integration_id: UUID,
    records: Sequence[Any],
    customer_ids: Mapping[str, UUID],
    at: datetime,
) -> None:
    """Seed synced records of one type the way the sync stores a page (stage, then apply)."""
    await uow.records.apply(await uow.records.stage(integration_id, records, customer_ids, at))


def settings_link(vendor: str, settings: Mapping[str, Any], **credentials: str) -> Link:
    """A Link that only reads settings and credentials (no HTTP, rate limit or clock)."""
    integration = Integration(
        id=uuid.uuid4(),
        tenant_id=uuid.uuid4(),
        vendor=vendor,
        name=vendor,
        base_url="https://vendor.example",
        created_at=datetime.now(UTC),
        settings=dict(settings),
    )
    return Link(
        http=None,  # type: ignore[arg-type]  # reading settings makes no calls
        integration=integration,
        credentials=Credentials(values=credentials),
        limit=None,  # type: ignore[arg-type]
        key_cache={},
        clock=None,  # type: ignore[arg-type]
    )
