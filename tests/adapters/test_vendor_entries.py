"""What each vendor entry declares it offers is what its factories build, and what it lacks is
refused in a technician's words."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from tests.factories import FrozenClock
from vectis.adapters.postgres.rate_limits import PostgresRateLimiter
from vectis.adapters.vendors.registry import VENDORS, VendorConnectors
from vectis.application.ports import WebhookParser
from vectis.domain.alerting import Alerting
from vectis.domain.errors import VendorRejected
from vectis.domain.integration import WEBHOOK_SECRET, Credentials, Integration
from vectis.domain.ticketing import Ticketing

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
ADDRESSES = {
    "connectwise": "https://api-eu.myconnectwise.net/v4_6_release",
    "autotask": "https://webservices5.autotask.net/atservicesrest",
    "halopsa": "https://acme.halopsa.com",
    "ninjaone": "https://eu.ninjarmm.com",
}


@pytest.fixture
async def connectors() -> AsyncIterator[VendorConnectors]:
    # The engine never connects: building a gateway takes a rate bucket, never a request.
    engine = create_async_engine("postgresql+psycopg://nobody@127.0.0.1:9/none")
    async with httpx.AsyncClient() as http:
        yield VendorConnectors(http, PostgresRateLimiter(engine), FrozenClock(NOW))
    await engine.dispose()


def integration(vendor: str) -> Integration:
    return Integration(
        id=uuid.uuid4(),
        tenant_id=uuid.uuid4(),
        vendor=vendor,
        name=vendor,
        base_url=ADDRESSES[vendor],
        created_at=NOW,
    )


def credentials(vendor: str) -> Credentials:
    values = {field.key: f"{field.key}-value" for field in VENDORS[vendor].credential_fields}
    return Credentials(values={**values, WEBHOOK_SECRET: "s" * 32})


@pytest.mark.parametrize(
    ("vendor", "port"),
    [(vendor, port) for vendor, entry in VENDORS.items() for port in entry.ports],
    ids=lambda value: value if isinstance(value, str) else value.__name__,
)
async def test_every_declared_port_builds_a_gateway_with_the_ports_members(
    connectors: VendorConnectors, vendor: str, port: type
) -> None:
    gateway = connectors.port(port, integration(vendor), credentials(vendor))

    members = [name for name in vars(port) if not name.startswith("_")]
    assert members
    assert [name for name in members if not hasattr(gateway, name)] == []


async def test_a_vendor_without_a_capability_is_refused_naming_both(
    connectors: VendorConnectors,
) -> None:
    with pytest.raises(
        VendorRejected, match=r"^Autotask PSA has no alerts Vectis can acknowledge$"
    ):
        connectors.port(Alerting, integration("autotask"), credentials("autotask"))
    with pytest.raises(VendorRejected, match=r"^NinjaOne RMM has no tickets Vectis can write to$"):
        connectors.port(Ticketing, integration("ninjaone"), credentials("ninjaone"))


def test_the_vendor_list_says_what_each_offers_and_fills(connectors: VendorConnectors) -> None:
    offers = {
        info.key: (info.offers(Ticketing), info.offers(Alerting), info.offers(WebhookParser))
        for info in connectors.vendors()
    }
    fills = {info.key: info.fills for info in connectors.vendors()}

    assert offers == {
        "connectwise": (True, False, True),
        "autotask": (True, False, True),
        "halopsa": (True, False, True),
        "ninjaone": (False, True, True),
    }
    assert "tickets" in fills["halopsa"] and "tickets" not in fills["ninjaone"]
    assert "alerts" in fills["ninjaone"] and "devices" in fills["ninjaone"]
