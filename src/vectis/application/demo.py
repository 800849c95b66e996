"""Seeds the demo MSP: customers with sites, operators of every role, sandbox integrations."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from attrs import field, frozen

from vectis.application.errors import NotFound
from vectis.application.services import Services
from vectis.domain.audit import Actor, ActorKind
from vectis.domain.identity import Principal
from vectis.domain.integration import Credentials
from vectis.domain.tenancy import Role, Tenant
from vectis.domain.writeback import SubscribeWebhooks

logger = logging.getLogger(__name__)

DEMO_TENANT = "Harbor Point IT"
DEMO_SLUG = "harbor-point"
DEMO_CUSTOMERS: Mapping[str, Sequence[str]] = {
    "Aldridge & Co.": ("Head Office", "Warehouse"),
    "Bayside Bistro": ("Harbourfront",),
    "Coast Logistics": ("Depot North", "Depot South", "Head Office"),
    "Drexel Dental": ("Main Street Clinic", "Eastgate Clinic"),
    "Edison Manufacturing": ("Plant 1",),
}
DEMO_PSA: Mapping[str, str] = {
    # The demo MSP runs ConnectWise, and still serves the customers it took over from two
    # smaller MSPs from their Autotask and HaloPSA; NinjaOne manages every customer's devices.
    "Aldridge & Co.": "connectwise",
    "Bayside Bistro": "connectwise",
    "Coast Logistics": "autotask",
    "Drexel Dental": "halopsa",
    "Edison Manufacturing": "connectwise",
}
PSA_VENDORS = frozenset(DEMO_PSA.values())
SANDBOX_REQUESTS_PER_MINUTE = 60_000
DEMO_ACCENT = "#0a7d5a"
DEMO_NOTES: Mapping[str, tuple[str, str]] = {
    # What no vendor system knows, written the way techs write it.
    "Aldridge & Co.": (
        "markdown",
        "**Warehouse side door**: alarm code from Priya at reception, never by e-mail.\n\n"
        "- Core switch is in the cage behind bay 4 (key on the blue lanyard)\n"
        "- The MD's laptop is *not* to be re-imaged without asking him first",
    ),
    "Bayside Bistro": (
        "text",
        "Card terminals must not reboot during service (11:30-14:30, 18:00-22:00).\n"
        "Patch window: Mondays 06:00, the kitchen is closed.",
    ),
    "Coast Logistics": (
        "text",
        "Moving from Autotask to our ConnectWise in Q1: keep their tickets in Autotask until the"
        " cut-over.\nDepot South has a 4G backup line; failover is manual (see the runbook).",
    ),
    "Drexel Dental": (
        "markdown",
        "Imaging PCs (`XRAY-01`, `XRAY-02`) are vendor-managed: **do not patch** without the"
        " imaging vendor's sign-off.\n\nNever copy patient files off site.",
    ),
    "Edison Manufacturing": (
        "text",
        "Plant floor HMIs run Windows 10 LTSC and are offline by design: their offline alerts"
        " are expected.",
    ),
}
DEMO_TEAM = (
    ("sam.okafor", "Sam Okafor", Role.TECH),
    ("riley.chen", "Riley Chen", Role.READ_ONLY),
)


@frozen(kw_only=True)
class SandboxAccount:
    """One vendor account served by the loopback sandbox."""

    vendor: str
    name: str
    base_url: str
    credentials: Mapping[str, str] = field(repr=False)
    companies: Mapping[str, str] = field(factory=dict)


@frozen(kw_only=True)
class DemoLogin:
    tenant: Tenant
    email: str
    team: tuple[str, ...]


class DemoSeeder:
    def __init__(self, services: Services) -> None:
        self._services = services

    async def seed(
        self,
        *,
        admin_email: str,
        admin_password: str,
        sandbox: Sequence[SandboxAccount],
        webhook_base_url: str,
    ) -> DemoLogin:
        """Create the demo tenant once; later runs reset the admin's password and re-point the
        integrations at this run's sandbox. Either way, subscribe to the sandbox's webhooks."""
        domain = admin_email.partition("@")[2]
        team = tuple(f"{handle}@{domain}" for handle, _, _ in DEMO_TEAM)
        try:
            tenant = await self._services.tenancy.find_tenant(DEMO_SLUG)
        except NotFound:
            tenant = await self._create(admin_email, admin_password, team, sandbox)
        else:
            await self._services.tenancy.set_password(admin_email, admin_password)
        await self._connect(tenant, sandbox, webhook_base_url.rstrip("/"))
        await self._sync(tenant)
        return DemoLogin(tenant=tenant, email=admin_email, team=team)

    async def _sync(self, tenant: Tenant) -> None:
        """Sync every integration once now, so the hub has data from its first page."""
        seeder = Principal.system(tenant.id, "demo")
        for integration in await self._services.integrations.list(seeder):
            run = await self._services.sync.run(tenant.id, integration.id)
            total = run.total
            logger.info(
                "synced %s: %s, %d records (%d new)",
                integration.name,
                run.status.value,
                total.fetched,
                total.created,
            )

    async def _connect(
        self, tenant: Tenant, sandbox: Sequence[SandboxAccount], webhook_base_url: str
    ) -> None:
        seeder = Principal.system(tenant.id, "demo")
        integrations = {item.name: item for item in await self._services.integrations.list(seeder)}
        for account in sandbox:
            integration = integrations.get(account.name)
            if integration is None:
                continue
            if integration.base_url != account.base_url.rstrip("/"):
                await self._services.integrations.update_connection(
                    seeder,
                    integration.id,
                    base_url=account.base_url,
                    credentials=Credentials(values=account.credentials),
                )
            await self._services.writebacks.request(
                seeder,
                integration.id,
                SubscribeWebhooks(receiver_url=f"{webhook_base_url}/webhooks/{integration.id}"),
            )

    async def _create(
        self,
        admin_email: str,
        password: str,
        team: Sequence[str],
        sandbox: Sequence[SandboxAccount],
    ) -> Tenant:
        tenancy = self._services.tenancy
        tenant = await tenancy.create_tenant(DEMO_TENANT, slug=DEMO_SLUG)
        await tenancy.add_operator(
            tenant.id,
            email=admin_email,
            display_name="Alex Morgan",
            role=Role.OWNER,
            password=password,
        )
        operators = [
            await tenancy.add_operator(
                tenant.id, email=email, display_name=display_name, role=role, password=password
            )
            for email, (_, display_name, role) in zip(team, DEMO_TEAM, strict=True)
        ]
        customers = {
            name: await tenancy.add_customer(tenant.id, name=name, site_names=sites)
            for name, sites in DEMO_CUSTOMERS.items()
        }
        seeder = Principal.system(tenant.id, "demo")
        await tenancy.set_branding(seeder, accent=DEMO_ACCENT)
        tech = operators[0]
        writer = Principal(
            tenant_id=tenant.id,
            role=tech.role,
            actor=Actor(kind=ActorKind.OPERATOR, id=str(tech.id), label=tech.email),
            operator_id=tech.id,
            display_name=tech.display_name,
        )
        for name, (format, body) in DEMO_NOTES.items():
            await self._services.timeline.add_note(writer, customers[name].id, body, format=format)
        for account in sandbox:
            integration = await self._services.integrations.add(
                seeder,
                vendor=account.vendor,
                name=account.name,
                base_url=account.base_url,
                credentials=Credentials(values=account.credentials),
                settings={
                    "acknowledge_new_tickets": True,
                    # The sandbox is on loopback: no vendor quota to protect.
                    "requests_per_minute": SANDBOX_REQUESTS_PER_MINUTE,
                },
            )
            for company_ref, company_name in account.companies.items():
                customer = customers.get(company_name)
                psa = account.vendor in PSA_VENDORS
                if customer and (not psa or DEMO_PSA[company_name] == account.vendor):
                    await self._services.integrations.link_customer(
                        seeder, integration.id, company_ref, customer.id
                    )
        return tenant
