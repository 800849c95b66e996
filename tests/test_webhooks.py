"""The webhook receiver over HTTP: a delivery that cannot be read is a 400 problem, one dated
outside the window around our clock a 401, and neither is ever a 500 or stores anything.

The receiver's unit of work is the in-memory fake (tests/fakes.py): what is judged here is the
delivery, not how PostgreSQL stores it."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import TEST_SECRET_KEY
from tests.factories import make_tenant
from tests.fakes import FakeUnitOfWorkFactory
from tests.http_client import hub_client
from vectis.application.services import Services
from vectis.domain.integration import WEBHOOK_SECRET, Credentials, Integration

SECRET = "whsec-receiver-test"
RECORDED = Path(__file__).parents[1] / "contract_tests/vendors/ninjaone/recordings"


@pytest.fixture
async def client(fake_services: Services) -> AsyncIterator[httpx.AsyncClient]:
    async with hub_client(fake_services, TEST_SECRET_KEY) as client:
        yield client


@pytest.fixture
async def ninjaone(fake_services: Services) -> Integration:
    world = await make_tenant(fake_services)
    return await fake_services.integrations.add(
        world.principal,
        vendor="ninjaone",
        name="NinjaOne",
        base_url="https://app.ninjarmm.com",
        credentials=Credentials(
            values={"client_id": "cid", "client_secret": "cs", WEBHOOK_SECRET: SECRET}
        ),
        test=False,
    )


def activity(**changes: Any) -> bytes:
    """The recorded condition delivery, dated now unless ``changes`` say otherwise."""
    recorded = json.loads((RECORDED / "webhook_condition_triggered.json").read_text())["body"]
    return json.dumps({**recorded, "activityTime": time.time(), **changes}).encode()


async def deliver(
    client: httpx.AsyncClient, integration: Integration, body: bytes
) -> httpx.Response:
    return await client.post(
        f"/webhooks/{integration.id}",
        content=body,
        headers={"Content-Type": "application/json", "X-Vectis-Webhook-Secret": SECRET},
    )


def stored(fake_uow: FakeUnitOfWorkFactory) -> int:
    return len(fake_uow.database.inbox)


async def test_a_fresh_delivery_is_accepted(
    client: httpx.AsyncClient, ninjaone: Integration, fake_uow: FakeUnitOfWorkFactory
) -> None:
    response = await deliver(client, ninjaone, activity())

    assert (response.status_code, response.json()) == (202, {"accepted": 1})
    assert stored(fake_uow) == 1
    assert [job.task_name for job in fake_uow.database.jobs] == ["vectis:process_inbox"]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"[" * 200_000 + b"]" * 200_000, id="nested-too-deep"),
        pytest.param(b"\xff\xfe\xfd", id="not-utf8"),
        pytest.param(b'{"id": 1, "activityTime": NaN}', id="nan"),
        pytest.param(b"[]", id="array"),
        pytest.param(b'"activity"', id="string"),
        pytest.param(activity(activityTime=1e30), id="time-1e30"),
        pytest.param(activity(activityTime=-1e30), id="time-minus-1e30"),
        pytest.param(activity(activityTime=253402300800), id="year-10000"),
        pytest.param(activity(activityTime="soon"), id="time-text"),
        pytest.param(activity(message="printer\u0000offline"), id="nul"),
        pytest.param(
            activity(message="x").replace(b'"message": "x"', b'"message": "\\udc00"'),
            id="lone-surrogate",
        ),
        pytest.param(activity(id="one"), id="id-text"),
        pytest.param(activity(seriesUid=secrets.token_hex(1500)), id="id-past-an-index-key"),
    ],
)
async def test_a_delivery_that_cannot_be_read_is_a_400_problem(
    client: httpx.AsyncClient, ninjaone: Integration, fake_uow: FakeUnitOfWorkFactory, body: bytes
) -> None:
    response = await deliver(client, ninjaone, body)

    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert stored(fake_uow) == 0


@pytest.mark.parametrize(
    ("shift", "reason"),
    [(30 * 86400, "in the future"), (600, "in the future"), (-3600, "stale"), (-1e9, "stale")],
)
async def test_a_delivery_dated_outside_the_window_is_a_401_problem(
    client: httpx.AsyncClient,
    ninjaone: Integration,
    fake_uow: FakeUnitOfWorkFactory,
    shift: float,
    reason: str,
) -> None:
    response = await deliver(client, ninjaone, activity(activityTime=time.time() + shift))

    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert reason in response.json()["detail"]
    assert stored(fake_uow) == 0
