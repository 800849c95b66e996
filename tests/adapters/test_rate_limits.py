"""Vendor calls are paced per integration, across processes, by a bucket in PostgreSQL."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.factories import add_connectwise, make_tenant
from vectis.adapters.postgres.database import create_runtime_engine
from vectis.adapters.postgres.rate_limits import PostgresRateLimiter
from vectis.adapters.vendors._http.transport import RetryPolicy, Unpaced, VendorTransport
from vectis.application.services import Services
from vectis.domain.errors import VendorUnavailable


async def test_two_processes_share_one_bucket_and_never_overspend(
    services: Services, runtime_database_url: str
) -> None:
    world = await make_tenant(services)
    integration = await add_connectwise(services, world)
    engines = [
        create_runtime_engine(runtime_database_url),
        create_runtime_engine(runtime_database_url),
    ]
    try:
        limits = [
            PostgresRateLimiter(engine).for_integration(
                world.tenant.id, integration.id, per_minute=60, burst=3
            )
            for engine in engines
        ]
        waits = await asyncio.gather(*[limits[n % 2]._reserve() for n in range(8)])
    finally:
        for engine in engines:
            await engine.dispose()

    immediate = [wait for wait in waits if wait < 0.2]
    queued = sorted(wait for wait in waits if wait >= 0.2)
    assert len(immediate) == 3, "the burst goes out at once"
    # One request a second after that, in whichever process asked: 1 s, 2 s, … apart.
    assert [round(wait) for wait in queued] == [1, 2, 3, 4, 5]


async def test_the_bucket_refills_with_time(services: Services, runtime_database_url: str) -> None:
    world = await make_tenant(services)
    integration = await add_connectwise(services, world)
    engine = create_runtime_engine(runtime_database_url)
    try:
        limit = PostgresRateLimiter(engine).for_integration(
            world.tenant.id, integration.id, per_minute=120, burst=1
        )
        assert await limit._reserve() == 0
        # Half a second per token at 120/min, less whatever passed between the two calls.
        assert 0.25 < await limit._reserve() <= 0.5
        await asyncio.sleep(1.1)
        assert await limit._reserve() == 0
    finally:
        await engine.dispose()


class CountingLimit(Unpaced):
    def __init__(self) -> None:
        self.acquired = 0

    async def acquire(self) -> float:
        self.acquired += 1
        return 0.0


async def test_every_attempt_including_retries_waits_for_the_limit() -> None:
    answers = iter([httpx.Response(503), httpx.Response(503), httpx.Response(200, json={})])
    limit = CountingLimit()
    async with httpx.AsyncClient(transport=httpx.MockTransport(lambda _: next(answers))) as http:
        transport = VendorTransport(
            http, vendor="Test", limit=limit, retry=RetryPolicy(attempts=3, base_delay=0.001)
        )
        response = await transport.request("GET", "https://vendor.example/api")
    assert response.status_code == 200
    assert limit.acquired == 3


async def test_a_vendor_that_stays_down_is_reported_after_the_last_attempt() -> None:
    async with httpx.AsyncClient(
        transport=httpx.MockTransport(lambda _: httpx.Response(500, json={"message": "boom"}))
    ) as http:
        transport = VendorTransport(
            http, vendor="Test", retry=RetryPolicy(attempts=2, base_delay=0.001)
        )
        with pytest.raises(VendorUnavailable, match="Test answered 500: boom"):
            await transport.request("GET", "https://vendor.example/api")
