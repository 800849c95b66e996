"""Tenants, their operators and their customers with sites."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID, uuid4

from vectis.application.audit import record
from vectis.application.errors import NotFound
from vectis.application.identity import require
from vectis.application.ports import Clock, PasswordHasher
from vectis.application.unit_of_work import UnitOfWork, UnitOfWorkFactory
from vectis.domain.audit import Actor, ActorKind, AuditTarget, Outcome
from vectis.domain.customer import Customer, Site
from vectis.domain.errors import InvalidValue
from vectis.domain.identity import Principal
from vectis.domain.tenancy import (
    Operator,
    Permission,
    Role,
    Tenant,
    accent_color,
    logo_type,
    normalize_email,
    slugify,
    validate_name,
    validate_slug,
)
from vectis.domain.tenancy import (
    time_zone as valid_time_zone,
)

MINIMUM_PASSWORD_LENGTH = 10
_CLI = Actor(kind=ActorKind.SYSTEM, id=None, label="cli")
KEEP: object = object()
"""``set_branding(logo=KEEP)``: leave the logo as it is."""


class TenancyService:
    def __init__(self, uow: UnitOfWorkFactory, hasher: PasswordHasher, clock: Clock) -> None:
        self._uow = uow
        self._hasher = hasher
        self._clock = clock

    async def create_tenant(
        self, name: str, *, slug: str | None = None, actor: Actor = _CLI
    ) -> Tenant:
        name = validate_name(name, what="tenant name")
        tenant = Tenant(
            id=uuid4(),
            slug=validate_slug(slug) if slug else slugify(name),
            name=name,
            created_at=self._clock.now(),
        )
        async with self._uow(tenant.id) as uow:
            await uow.tenants.add(tenant)
            await record(
                uow,
                self._clock,
                actor=actor,
                action="tenant.create",
                target=AuditTarget(system="vectis", object_id=str(tenant.id)),
                outcome=Outcome.SUCCEEDED,
                payload={"name": tenant.name, "slug": tenant.slug},
            )
            await uow.commit()
        return tenant

    async def find_tenant(self, slug: str) -> Tenant:
        async with self._uow() as uow:
            tenant = await uow.tenants.get_by_slug(slug)
        if tenant is None:
            raise NotFound(f"no tenant with the slug {slug!r}")
        return tenant

    async def add_operator(
        self,
        tenant_id: UUID,
        *,
        email: str,
        display_name: str,
        role: Role,
        password: str,
        time_zone: str = "UTC",
        actor: Actor = _CLI,
    ) -> Operator:
        _check_password(password)
        operator = Operator(
            id=uuid4(),
            tenant_id=tenant_id,
            email=normalize_email(email),
            display_name=validate_name(display_name, what="display name"),
            role=role,
            time_zone=valid_time_zone(time_zone),
            created_at=self._clock.now(),
        )
        async with self._uow(tenant_id) as uow:
            await uow.operators.add(operator, await self._hasher.hash(password))
            await record(
                uow,
                self._clock,
                actor=actor,
                action="operator.create",
                target=AuditTarget(system="vectis", object_id=str(operator.id)),
                outcome=Outcome.SUCCEEDED,
                payload={"email": operator.email, "role": role.value},
            )
            await uow.commit()
        return operator

    async def set_password(self, email: str, password: str, *, actor: Actor = _CLI) -> Operator:
        _check_password(password)
        async with self._uow() as uow:
            found = await uow.operators.find_for_login(normalize_email(email))
            if found is None:
                raise NotFound(f"no operator with the e-mail address {email}")
            operator = found[0]
            await uow.bind_tenant(operator.tenant_id)
            await uow.operators.set_password(operator.id, await self._hasher.hash(password))
            await record(
                uow,
                self._clock,
                actor=actor,
                action="operator.set_password",
                target=AuditTarget(system="vectis", object_id=str(operator.id)),
                outcome=Outcome.SUCCEEDED,
                payload={"email": operator.email},
            )
            await uow.commit()
        return operator

    async def add_customer(
        self,
        tenant_id: UUID,
        *,
        name: str,
        site_names: Sequence[str] = (),
        slug: str | None = None,
        actor: Actor = _CLI,
    ) -> Customer:
        now = self._clock.now()
        customer_id = uuid4()
        name = validate_name(name, what="customer name")
        sites = tuple(
            Site(
                id=uuid4(),
                tenant_id=tenant_id,
                customer_id=customer_id,
                name=validate_name(site_name, what="site name"),
                created_at=now,
            )
            for site_name in site_names
        )
        customer = Customer(
            id=customer_id,
            tenant_id=tenant_id,
            name=name,
            slug=validate_slug(slug) if slug else slugify(name),
            created_at=now,
            sites=sites,
        )
        async with self._uow(tenant_id) as uow:
            await uow.customers.add(customer)
            await record(
                uow,
                self._clock,
                actor=actor,
                action="customer.create",
                target=AuditTarget(system="vectis", object_id=str(customer.id)),
                outcome=Outcome.SUCCEEDED,
                payload={"name": customer.name, "sites": [site.name for site in sites]},
            )
            await uow.commit()
        return customer

    async def list_customers(
        self, principal: Principal, *, search: str | None = None
    ) -> list[Customer]:
        require(principal, Permission.READ)
        async with self._uow(principal.tenant_id) as uow:
            return await uow.customers.find(search=search)

    async def get_customer(self, principal: Principal, customer_id: UUID) -> Customer:
        require(principal, Permission.READ)
        async with self._uow(principal.tenant_id) as uow:
            return await require_customer(uow, customer_id)

    async def set_branding(
        self,
        principal: Principal,
        *,
        accent: str | None,
        logo: bytes | object | None = KEEP,
    ) -> Tenant:
        """The MSP's colour and logo in the hub's chrome (``None`` clears either)."""
        require(principal, Permission.MANAGE_TENANT)
        color = accent_color(accent) if accent else None
        image = None
        if isinstance(logo, bytes):
            image = (logo, logo_type(logo))
        async with self._uow(principal.tenant_id) as uow:
            await uow.tenants.set_branding(
                principal.tenant_id, accent_color=color, logo=image, keep_logo=logo is KEEP
            )
            await record(
                uow,
                self._clock,
                actor=principal.actor,
                action="tenant.branding",
                target=AuditTarget(system="vectis", object_id=str(principal.tenant_id)),
                outcome=Outcome.SUCCEEDED,
                payload={
                    "accent_color": color,
                    "logo": "kept" if logo is KEEP else (image[1] if image else "removed"),
                    "logo_bytes": len(image[0]) if image else 0,
                },
            )
            tenant = await uow.tenants.get(principal.tenant_id)
            await uow.commit()
        assert tenant is not None
        return tenant

    async def set_time_zone(self, principal: Principal, zone: str) -> str:
        """The zone the hub shows this operator's times in (their own choice)."""
        require(principal, Permission.READ)
        if principal.operator_id is None:
            raise InvalidValue("only an operator signed in to the hub has a time zone")
        zone = valid_time_zone(zone)
        async with self._uow(principal.tenant_id) as uow:
            await uow.operators.set_time_zone(principal.operator_id, zone)
            await record(
                uow,
                self._clock,
                actor=principal.actor,
                action="operator.time_zone",
                target=AuditTarget(system="vectis", object_id=str(principal.operator_id)),
                outcome=Outcome.SUCCEEDED,
                payload={"time_zone": zone},
            )
            await uow.commit()
        return zone

    async def logo(self, principal: Principal) -> tuple[bytes, str]:
        require(principal, Permission.READ)
        async with self._uow(principal.tenant_id) as uow:
            found = await uow.tenants.logo(principal.tenant_id)
        if found is None:
            raise NotFound("this tenant has no logo")
        return found

    async def get_tenant(self, principal: Principal) -> Tenant:
        async with self._uow(principal.tenant_id) as uow:
            tenant = await uow.tenants.get(principal.tenant_id)
        if tenant is None:
            raise NotFound("your tenant no longer exists")
        return tenant


async def require_customer(uow: UnitOfWork, customer_id: UUID) -> Customer:
    """The customer, if the unit of work's tenant has it (row-level security hides every
    other tenant's), or ``NotFound``."""
    customer = await uow.customers.get(customer_id)
    if customer is None:
        raise NotFound(f"no customer {customer_id}")
    return customer


def _check_password(password: str) -> None:
    if len(password) < MINIMUM_PASSWORD_LENGTH:
        raise InvalidValue(f"a password needs at least {MINIMUM_PASSWORD_LENGTH} characters")
