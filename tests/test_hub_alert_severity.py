"""NinjaOne's alert listing carries no severity: the hub shows those alerts as Unknown."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from tests.conftest import TEST_SECRET_KEY
from tests.factories import PASSWORD, seed_synced_customer
from tests.http_client import hub_client, sign_in
from vectis.application.services import Services
from vectis_sandbox.server import Sandbox, SandboxHost
from vectis_sandbox.world import build_world


@pytest.fixture
def sandbox(sandbox_servers: SandboxHost) -> Iterator[Sandbox]:
    world = build_world(tickets_per_company=2)
    with sandbox_servers.seeded(world, vendors=("halopsa", "ninjaone")) as sandbox:
        yield sandbox


@pytest.fixture
async def client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    async with hub_client(services, TEST_SECRET_KEY) as client:
        yield client


async def test_alerts_without_a_vendor_severity_are_shown_and_filtered_as_unknown(
    services: Services, sandbox: Sandbox, client: httpx.AsyncClient
) -> None:
    seeded = await seed_synced_customer(services, sandbox)
    await sign_in(client, seeded.world.owner.email, PASSWORD)
    base = f"/customers/{seeded.world.customers[0].id}"

    overview = await client.get(base)
    alerts = await client.get(base + "/alerts")
    unknown = await client.get(base + "/alerts", params={"severity": "unknown"})
    medium = await client.get(base + "/alerts", params={"severity": "medium"})

    assert {overview.status_code, alerts.status_code, unknown.status_code} == {200}
    assert re.search(r'href="[^"]*/alerts\?severity=unknown">Unknown</a>', overview.text)
    assert re.search(r'<option value="unknown"[^>]*>Unknown</option>', alerts.text)
    listed = re.findall(r'<span class="severity severity-(\w+)">', unknown.text)
    assert listed and set(listed) == {"unknown"}
    assert len(listed) == len(re.findall(r'<span class="severity severity-', alerts.text))
    assert '<span class="severity severity-' not in medium.text, "no severity is invented"
