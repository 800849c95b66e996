"""Configuring integrations: credentials are sealed before they reach a repository."""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from typing import Any
from uuid import UUID, uuid4

import attrs

from vectis.application.audit import record
from vectis.application.errors import NotFound
from vectis.application.identity import require
from vectis.application.ports import Clock, Connectors, SecretBox, UrlPolicy
from vectis.application.sync_queue import request_sync
from vectis.application.tenancy import require_customer
from vectis.application.unit_of_work import UnitOfWork, UnitOfWorkFactory
from vectis.domain.audit import AuditTarget, Outcome
from vectis.domain.errors import InvalidValue
from vectis.domain.identity import Principal
from vectis.domain.integration import WEBHOOK_SECRET, Credentials, Integration, VendorInfo
from vectis.domain.mapping import LinkSuggestion, suggest_links
from vectis.domain.tenancy import Permission, validate_name


class IntegrationService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        secret_box: SecretBox,
        urls: UrlPolicy,
        connectors: Connectors,
        clock: Clock,
    ) -> None:
        self._uow = uow
        self._secret_box = secret_box
        self._urls = urls
        self._connectors = connectors
        self._clock = clock

    async def add(
        self,
        principal: Principal,
        *,
        vendor: str,
        name: str,
        base_url: str,
        credentials: Credentials,
        settings: Mapping[str, Any] | None = None,
        test: bool = True,
        first_sync: bool = False,
    ) -> Integration:
        """Add an integration; unless ``test`` is false, its credentials must work first.

        An empty ``base_url`` means what the vendor documents (its default address, or
        discovering the account's). With ``first_sync``, the integration, its audit entry and
        its first sync job commit together or not at all.
        """
        require(principal, Permission.MANAGE_INTEGRATIONS)
        vendor_info = self.vendor(vendor)
        base_url = await self._base_url(vendor_info, base_url)
        missing = [
            field.label
            for field in vendor_info.credential_fields
            if not field.optional and not (credentials.get(field.key) or "").strip()
        ]
        if missing:
            raise InvalidValue(f"{vendor_info.label} needs {', '.join(missing)}")
        if not credentials.get(WEBHOOK_SECRET):
            credentials = Credentials(
                values={**credentials.values, WEBHOOK_SECRET: secrets.token_urlsafe(32)}
            )
        integration = Integration(
            id=uuid4(),
            tenant_id=principal.tenant_id,
            vendor=vendor,
            name=validate_name(name, what="integration name"),
            base_url=base_url,
            created_at=self._clock.now(),
            settings=dict(settings or {}),
        )
        if test:
            # A VendorError here (refused credentials, unreachable host) stops the add.
            await self._connectors.check_credentials(integration, credentials)
        sealed = self._seal(integration.id, credentials)
        async with self._uow(principal.tenant_id) as uow:
            await uow.integrations.add(integration, sealed)
            await record(
                uow,
                self._clock,
                actor=principal.actor,
                action="integration.create",
                target=AuditTarget(system="vectis", object_id=str(integration.id)),
                outcome=Outcome.SUCCEEDED,
                payload={
                    "vendor": vendor,
                    "name": integration.name,
                    "base_url": integration.base_url,
                    "settings": dict(integration.settings),
                    "credential_fields": sorted(credentials.values),
                    "tested": test,
                    "first_sync": first_sync,
                },
            )
            if first_sync:
                await request_sync(uow, integration.id)
            await uow.commit()
        return integration

    async def update_connection(
        self,
        principal: Principal,
        integration_id: UUID,
        *,
        base_url: str,
        credentials: Credentials,
        test: bool = True,
    ) -> Integration:
        """Point an integration at a new address or give it new credentials (tested first,
        unless ``test`` is false); the webhook secret the vendor already holds is kept. An
        empty ``base_url`` means what it means in ``add``."""
        require(principal, Permission.MANAGE_INTEGRATIONS)
        async with self._uow(principal.tenant_id) as uow:
            integration = await self._get(uow, integration_id)
            previous = await self.open_credentials(uow, integration_id)
        base_url = await self._base_url(self.vendor(integration.vendor), base_url)
        kept = {WEBHOOK_SECRET: previous[WEBHOOK_SECRET]} if previous.get(WEBHOOK_SECRET) else {}
        credentials = Credentials(values={**kept, **credentials.values})
        if test:
            moved = attrs.evolve(integration, base_url=base_url)
            await self._connectors.check_credentials(moved, credentials)
        async with self._uow(principal.tenant_id) as uow:
            await uow.integrations.update_connection(
                integration_id,
                base_url=base_url,
                sealed_credentials=self._seal(integration_id, credentials),
            )
            await record(
                uow,
                self._clock,
                actor=principal.actor,
                action="integration.update_connection",
                target=AuditTarget(system="vectis", object_id=str(integration_id)),
                outcome=Outcome.SUCCEEDED,
                payload={
                    "base_url": base_url,
                    "credential_fields": sorted(credentials.values),
                    "tested": test,
                },
            )
            updated = await self._get(uow, integration_id)
            await uow.commit()
        return updated

    async def link_customer(
        self, principal: Principal, integration_id: UUID, company_ref: str, customer_id: UUID
    ) -> None:
        """Tie a vendor's company/organisation to a Vectis customer."""
        require(principal, Permission.MANAGE_INTEGRATIONS)
        async with self._uow(principal.tenant_id) as uow:
            await self._get(uow, integration_id)
            await require_customer(uow, customer_id)
            await uow.integrations.link_customer(integration_id, company_ref, customer_id)
            await uow.records.relink(integration_id, company_ref, customer_id)
            await record(
                uow,
                self._clock,
                actor=principal.actor,
                action="integration.link_customer",
                target=AuditTarget(system="vectis", object_id=str(integration_id)),
                outcome=Outcome.SUCCEEDED,
                payload={"company_ref": company_ref, "customer_id": str(customer_id)},
            )
            await uow.commit()

    async def suggest_links(
        self, principal: Principal, integration_id: UUID
    ) -> list[LinkSuggestion]:
        """Each synced vendor company with its linked customer, or the best name match."""
        require(principal, Permission.READ)
        async with self._uow(principal.tenant_id) as uow:
            await self._get(uow, integration_id)
            companies = await uow.records.companies(integration_id)
            linked = await uow.integrations.linked_customers(
                integration_id, [company.id for company in companies]
            )
            customers = await uow.customers.find()
        return suggest_links(companies, customers, linked)

    def vendors(self) -> list[VendorInfo]:
        return self._connectors.vendors()

    async def find(self, principal: Principal, name_or_id: str) -> Integration:
        """An integration by its id or its name (what the CLI and links use)."""
        require(principal, Permission.READ)
        async with self._uow(principal.tenant_id) as uow:
            for integration in await uow.integrations.list_all():
                if name_or_id in (str(integration.id), integration.name):
                    return integration
        raise NotFound(f"no integration named {name_or_id!r}")

    async def get(self, principal: Principal, integration_id: UUID) -> Integration:
        require(principal, Permission.READ)
        async with self._uow(principal.tenant_id) as uow:
            return await self._get(uow, integration_id)

    async def list(self, principal: Principal) -> list[Integration]:
        require(principal, Permission.READ)
        async with self._uow(principal.tenant_id) as uow:
            return await uow.integrations.list_all()

    async def open_credentials(self, uow: UnitOfWork, integration_id: UUID) -> Credentials:
        """Unseal an integration's credentials inside the caller's unit of work."""
        sealed = await uow.integrations.sealed_credentials(integration_id)
        values = json.loads(self._secret_box.open(sealed, context=integration_id.bytes))
        return Credentials(values=values)

    def vendor(self, vendor: str) -> VendorInfo:
        """What connecting ``vendor`` asks for; ``InvalidValue`` naming the known ones."""
        for info in self._connectors.vendors():
            if info.key == vendor:
                return info
        known = ", ".join(info.key for info in self._connectors.vendors())
        raise InvalidValue(f"unknown vendor {vendor!r}; Vectis connects {known}")

    async def _base_url(self, vendor: VendorInfo, typed: str) -> str:
        """The address typed, checked; when empty, what the vendor documents for that."""
        typed = typed.strip()
        if not typed:
            typed = vendor.empty_base_url.resolve(vendor.label)
            if not typed:
                return ""  # the connector discovers the account's address
        return await self._urls.check_base_url(typed)

    def _seal(self, integration_id: UUID, credentials: Credentials) -> bytes:
        plaintext = json.dumps(dict(credentials.values)).encode()
        return self._secret_box.seal(plaintext, context=integration_id.bytes)

    async def _get(self, uow: UnitOfWork, integration_id: UUID) -> Integration:
        integration = await uow.integrations.get(integration_id)
        if integration is None:
            raise NotFound(f"no integration {integration_id}")
        return integration
