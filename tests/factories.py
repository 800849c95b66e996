"""Builders for the objects most tests start from: a tenant with an operator and customers."""

from __future__ import annotations

from attrs import frozen

from vectis.application.services import Services
from vectis.domain.customer import Customer
from vectis.domain.identity import Principal
from vectis.domain.integration import Credentials, Integration
from vectis.domain.tenancy import Operator, Role, Tenant

PASSWORD = "correct horse battery"


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
