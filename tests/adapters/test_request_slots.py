"""A vendor's bound on requests in flight holds across processes, through leased slot rows."""

from __future__ import annotations

import asyncio
import threading
import time
from uuid import UUID

import httpx
import psycopg

from tests.factories import add_connectwise, make_tenant
from vectis.adapters.clock import SystemClock
from vectis.adapters.postgres.database import create_runtime_engine
from vectis.adapters.postgres.rate_limits import PostgresRateLimiter
from vectis.adapters.vendors._http.transport import RetryPolicy, VendorTransport
from vectis.adapters.vendors.registry import VendorConnectors
from vectis.application.services import Services
from vectis.domain.integration import Credentials
from vectis.domain.sync import SyncSource


async def test_a_second_process_waits_while_the_first_holds_every_slot(
    services: Services, runtime_database_url: str
) -> None:
    world = await make_tenant(services)
    integration = await add_connectwise(services, world)
    engine = create_runtime_engine(runtime_database_url)
    slots = _limit(engine, world.tenant.id, integration.id, at_once=2)
    entered: list[float] = []
    try:
        async with slots.hold(), slots.hold():
            # Another process: its own event loop (so none of this one's local queue).
            other = threading.Thread(
                target=_hold_once,
                args=(runtime_database_url, world.tenant.id, integration.id, entered),
            )
            other.start()
            await asyncio.sleep(0.6)
            assert entered == [], "both slots are held: the other process must wait"
            released = time.monotonic()
        await asyncio.to_thread(other.join, 10)
    finally:
        await engine.dispose()
    assert len(entered) == 1 and entered[0] >= released


async def test_a_slot_whose_holder_died_is_taken_again_when_its_lease_ends(
    services: Services, runtime_database_url: str, database_url: str
) -> None:
    world = await make_tenant(services)
    integration = await add_connectwise(services, world)
    engine = create_runtime_engine(runtime_database_url)
    slots = _limit(engine, world.tenant.id, integration.id, at_once=1, lease_seconds=0.5)
    try:
        async with slots.hold():
            pass  # the slot row exists now
        # A process took the slot and died: its lease is all that frees it.
        with psycopg.connect(database_url, autocommit=True) as connection:
            connection.execute(
                "UPDATE request_slots SET held_until = clock_timestamp() + interval '0.5 s', "
                "holder = gen_random_uuid() WHERE integration_id = %s",
                (integration.id,),
            )
        started = time.monotonic()
        async with slots.hold():
            waited = time.monotonic() - started
    finally:
        await engine.dispose()
    assert 0.3 < waited < 5


async def test_the_transport_keeps_requests_in_flight_within_the_bound(
    services: Services, runtime_database_url: str
) -> None:
    world = await make_tenant(services)
    integration = await add_connectwise(services, world)
    engine = create_runtime_engine(runtime_database_url)
    in_flight = most = 0

    async def answer(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0.05)
        in_flight -= 1
        return httpx.Response(200, json={})

    try:
        limit = _limit(engine, world.tenant.id, integration.id, at_once=3)
        async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
            transports = [
                VendorTransport(http, vendor="Test", limit=limit, retry=RetryPolicy(attempts=1))
                for _ in range(2)
            ]
            await asyncio.gather(
                *[transports[n % 2].request("GET", "https://vendor.example/") for n in range(9)]
            )
        with psycopg.connect(runtime_database_url) as connection:
            connection.execute(
                "SELECT set_config('vectis.tenant_id', %s, false)", (str(world.tenant.id),)
            )
            held = connection.execute(
                "SELECT count(*) FROM request_slots WHERE held_until > clock_timestamp()"
            ).fetchone()
    finally:
        await engine.dispose()
    assert most == 3
    assert held == (0,), "every slot is given back"


def _limit(
    engine: object,
    tenant_id: UUID,
    integration_id: UUID,
    *,
    at_once: int,
    lease_seconds: float = 60,
) -> object:
    return PostgresRateLimiter(engine).for_integration(  # type: ignore[arg-type]
        tenant_id,
        integration_id,
        per_minute=600_000,
        burst=1000,
        at_once=at_once,
        lease_seconds=lease_seconds,
    )


def _hold_once(url: str, tenant_id: UUID, integration_id: UUID, entered: list[float]) -> None:
    async def hold() -> None:
        engine = create_runtime_engine(url)
        try:
            async with _limit(engine, tenant_id, integration_id, at_once=2).hold():  # type: ignore[attr-defined]
                entered.append(time.monotonic())
        finally:
            await engine.dispose()

    asyncio.run(hold())


async def test_autotask_ports_from_the_registry_keep_three_requests_in_flight(
    services: Services, runtime_database_url: str
) -> None:
    world = await make_tenant(services)
    credentials = Credentials(
        values={"username": "api@msp.example", "secret": "s", "integration_code": "CODE"}
    )
    integration = await services.integrations.add(
        world.principal,
        vendor="autotask",
        name="Autotask",
        base_url="https://webservices5.autotask.net/atservicesrest",
        credentials=credentials,
        settings={"requests_per_minute": 600_000},
        test=False,
    )
    engine = create_runtime_engine(runtime_database_url)
    in_flight = most = 0

    async def answer(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0.05)
        in_flight -= 1
        return httpx.Response(200, json={"item": {"id": 0, "companyName": "Harbor Point"}})

    try:
        async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
            connectors = VendorConnectors(http, PostgresRateLimiter(engine), SystemClock())
            # Two ports of one integration (a sync and a write-back) share the three slots.
            ports = [connectors.port(SyncSource, integration, credentials) for _ in range(2)]
            await asyncio.gather(*[ports[n % 2].check() for n in range(12)])
    finally:
        await engine.dispose()
    assert most == 3
