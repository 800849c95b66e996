"""Schemathesis against the API's own OpenAPI document, in process, on a demo-shaped tenant.

Every operation gets generated requests, valid and invalid, with a real token; none may get a
server error, a status the document does not list for it, or a body its schema does not match.
Requests reach the app on the test's own event loop (the loop its database pool lives on):
Hypothesis runs in a worker thread and each request is handed back to the loop.
"""

from __future__ import annotations

import asyncio
import io
import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import requests
import requests.adapters
import schemathesis
import urllib3
from attrs import frozen
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import TEST_SECRET_KEY
from tests.factories import add_connectwise, make_tenant
from tests.http_client import hub_client
from vectis.application.services import Services
from vectis.container import Container
from vectis.domain.events import Event, EventKind
from vectis.domain.writeback import AddTicketNote

BASE_URL = "https://vectis.test/api/v1"
MAX_EXAMPLES = 25
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]


@frozen(kw_only=True)
class Seeded:
    """What generated requests may aim at, besides the ids they make up."""

    token: str
    ids: dict[str, str]


@pytest.fixture
async def seeded(services: Services, container: Container) -> Seeded:
    """A tenant shaped like the demo's: customers, an integration, timeline entries, a note,
    a write-back, and an owner's token."""
    world = await make_tenant(services, "Harbor Point IT", customers=("Aldridge & Co.", "Bayside"))
    customer = world.customers[0]
    integration = await add_connectwise(services, world)
    now = datetime.now(UTC)
    async with container.uow()(world.tenant.id) as uow:
        await uow.events.append(
            [
                Event(
                    tenant_id=world.tenant.id,
                    customer_id=customer.id,
                    source="connectwise",
                    kind=EventKind.TICKET_OPENED,
                    occurred_at=now - timedelta(hours=n),
                    title=f"Ticket {n} opened",
                )
                for n in range(5)
            ]
        )
        await uow.commit()
    note = await services.timeline.add_note(
        world.principal, customer.id, "Warehouse side door code is **4471**", format="markdown"
    )
    writeback = await services.writebacks.request(
        world.principal, integration.id, AddTicketNote(ticket_id="945366", text="On our way")
    )
    issued = await services.identity.issue_token(world.owner.email, name="schemathesis")
    return Seeded(
        token=issued.secret,
        ids={
            "customer_id": str(customer.id),
            "integration_id": str(integration.id),
            "note_id": str(note.id),
            "writeback_id": str(writeback.id),
            "operator_id": str(world.owner.id),
        },
    )


async def test_every_operation_answers_as_the_openapi_document_says(
    services: Services, seeded: Seeded
) -> None:
    loop = asyncio.get_running_loop()
    async with hub_client(services, TEST_SECRET_KEY) as client:
        document = (await client.get("/api/v1/openapi.json")).json()
        session = requests.Session()
        session.mount("https://vectis.test/", _InProcess(client, loop))
        session.headers["Authorization"] = f"Bearer {seeded.token}"
        failures = await asyncio.to_thread(_run_every_operation, document, session, seeded)

    assert not failures, "\n\n".join(failures)


def _run_every_operation(
    document: dict[str, Any], session: requests.Session, seeded: Seeded
) -> list[str]:
    """Each operation in both generation modes; the failures found, one report each."""
    schema = schemathesis.openapi.from_dict(document)
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            test = _operation_test(operation, mode, session, seeded)
            try:
                test()
            except Unsatisfiable:
                continue  # nothing to make invalid (an operation without parameters or body)
            except (Exception, FailureGroup) as error:
                failures.append(f"{operation.label} ({mode.value}): {error}")
    return failures


def _operation_test(
    operation: Any, mode: GenerationMode, session: requests.Session, seeded: Seeded
) -> Callable[[], None]:
    calls = itertools.count()

    # The same inputs on every machine and run, so a failure found in CI reproduces locally.
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def test(case: Any) -> None:
        if next(calls) % 2:
            _aim_at_seeded_records(case, seeded)
        response = case.call(base_url=BASE_URL, session=session)
        case.validate_response(response, checks=CHECKS)

    return test


def _aim_at_seeded_records(case: Any, seeded: Seeded) -> None:
    """Every other case names records that exist, so handlers run past their lookups: the
    seeded ids in the path, and the seeded integration in a write-back body."""
    for name in case.path_parameters or {}:
        if name in seeded.ids:
            case.path_parameters[name] = seeded.ids[name]
    if isinstance(case.body, dict) and "integration_id" in case.body:
        case.body["integration_id"] = seeded.ids["integration_id"]


class _InProcess(requests.adapters.BaseAdapter):
    """A requests adapter that hands each request to the in-process ASGI client on the test's
    event loop and waits for the answer."""

    def __init__(self, client: httpx.AsyncClient, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._client = client
        self._loop = loop

    def send(self, request: requests.PreparedRequest, **_: Any) -> requests.Response:  # type: ignore[override]
        body = request.body or b""
        sent = self._client.request(
            str(request.method),
            str(request.url),
            headers=dict(request.headers),
            content=body.encode() if isinstance(body, str) else body,
        )
        answer = asyncio.run_coroutine_threadsafe(sent, self._loop).result(timeout=60)
        response = requests.Response()
        response.status_code = answer.status_code
        response.reason = answer.reason_phrase
        response.headers = requests.structures.CaseInsensitiveDict(answer.headers)
        response._content = answer.content
        response.raw = urllib3.HTTPResponse(
            body=io.BytesIO(answer.content),
            headers=urllib3.HTTPHeaderDict(list(answer.headers.multi_items())),
            status=answer.status_code,
            version=11,
            preload_content=False,
        )
        response.url = str(request.url)
        response.request = request
        response.encoding = "utf-8"
        return response

    def close(self) -> None:
        pass
