"""The thin slice through every layer, with a real worker, a real HTTP server and the sandbox.

A ticket opened in the sandbox PSA is pushed to Vectis as a signed callback, lands in the inbox,
becomes an event of the right customer; the acknowledge-new-tickets automation asks for a reply,
a procrastinate job writes it back through the ConnectWise connector, and the audit log has it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import importlib
import random
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import httpx
import pytest
import uvicorn

from tests.conftest import owner_connection
from vectis.application.automation import DEFAULT_ACKNOWLEDGEMENT
from vectis.application.demo import DemoSeeder
from vectis.application.services import Services
from vectis.container import Runtime
from vectis.domain.identity import Principal
from vectis_sandbox.connectwise import ConnectWiseState, callback_body, sign
from vectis_sandbox.server import QuietServer, Sandbox, SandboxHost
from vectis_sandbox.world import build_world

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T]], *, timeout: float = 20.0, what: str = "condition"
) -> T:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await probe()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{what}: not met in time")
        await asyncio.sleep(0.1)


@contextlib.asynccontextmanager
async def serving(runtime: Runtime, services: Services) -> AsyncIterator[str]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = QuietServer(
        uvicorn.Config(runtime.http_app(services), log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve(sockets=[listener]))
    await eventually(lambda: _true(server.started))
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.should_exit = True
        await task
        listener.close()


@contextlib.asynccontextmanager
async def working(runtime: Runtime, services: Services) -> AsyncIterator[None]:
    task = asyncio.create_task(runtime.run_worker(services, concurrency=2, handle_signals=False))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@pytest.fixture
async def demo(
    runtime: Runtime, sandbox_servers: SandboxHost
) -> AsyncIterator[tuple[Services, Sandbox, str]]:
    # A small world: these tests follow one change through every layer. The vendors' servers are
    # the run's; their states are this test's alone.
    with (
        runtime.database(),
        sandbox_servers.seeded(build_world(tickets_per_company=4)) as sandbox,
    ):
        async with (
            runtime.services() as services,
            serving(runtime, services) as url,
            working(runtime, services),
        ):
            await DemoSeeder(services).seed(
                admin_email="admin@harbor-point.example",
                admin_password="vectis-demo",
                sandbox=[_account(info) for info in sandbox.accounts],
                webhook_base_url=url,
            )
            await eventually(lambda: _true(sandbox.connectwise.callbacks))
            yield services, sandbox, url


async def test_a_ticket_opened_in_the_psa_is_acknowledged_through_every_layer(
    demo: tuple[Services, Sandbox, str], database_url: str
) -> None:
    services, sandbox, _ = demo
    psa = sandbox.connectwise
    aldridge = next(
        company for company in psa.companies.values() if company["name"] == "Aldridge & Co."
    )

    async with httpx.AsyncClient() as client:
        created = await client.post(
            f"{psa.base_url}/apis/3.0/service/tickets",
            json={"summary": "Server room is too hot", "company": {"id": aldridge["id"]}},
            headers=_auth(psa),
        )
    ticket_id = created.json()["id"]
    notes = await eventually(lambda: _value(psa.notes[ticket_id]))

    assert [note["text"] for note in notes] == [DEFAULT_ACKNOWLEDGEMENT]
    assert notes[0]["detailDescriptionFlag"] is True, "a customer-facing reply"

    async def finished() -> bool:
        with owner_connection(database_url) as owner:
            row = owner.execute(
                "SELECT count(*) FROM writebacks "
                "WHERE action = 'ticket.add_note' AND status = 'succeeded'"
            )
            return bool(row.fetchone()[0])  # type: ignore[index]

    await eventually(finished)
    with owner_connection(database_url) as owner:
        opened = owner.execute(
            "SELECT e.kind, e.source, e.title, c.name FROM events e JOIN customers c ON c.id = e.customer_id "
            "WHERE e.subject_id = %s AND e.kind = 'ticket.opened'",
            (str(ticket_id),),
        ).fetchall()
        audit = owner.execute(
            "SELECT actor_id, outcome FROM audit_log WHERE action = 'writeback.ticket.add_note' "
            "AND target_id = %s ORDER BY id",
            (str(ticket_id),),
        ).fetchall()
        writeback = owner.execute(
            "SELECT status, attempts, result->>'note_id' FROM writebacks WHERE action = 'ticket.add_note'"
        ).fetchone()
        leftover_jobs = await _settled_jobs(owner)
    assert opened == [
        ("ticket.opened", "connectwise", f"Ticket #{ticket_id} opened", "Aldridge & Co.")
    ], "the callback and the sync it triggers record the opening once"
    assert audit == [
        ("acknowledge-new-tickets", "requested"),
        ("acknowledge-new-tickets", "succeeded"),
    ]
    assert writeback == ("succeeded", 1, str(notes[0]["id"]))
    assert leftover_jobs == 0, "finished jobs are deleted"
    assert (await services.audit.verify()).ok


async def test_a_delivery_seen_before_is_not_stored_twice(
    demo: tuple[Services, Sandbox, str], database_url: str
) -> None:
    _, sandbox, _ = demo
    psa = sandbox.connectwise
    callback, ticket, body, headers = _signed_delivery(psa, "Duplicate me")

    async with httpx.AsyncClient() as client:
        first = await client.post(callback["url"], content=body, headers=headers)
        second = await client.post(callback["url"], content=body, headers=headers)

    assert (first.status_code, first.json()) == (202, {"accepted": 1})
    assert (second.status_code, second.json()) == (202, {"accepted": 0})
    await eventually(lambda: _value(psa.notes[ticket["id"]]))
    await asyncio.sleep(0.5)
    assert len(psa.notes[ticket["id"]]) == 1


@pytest.mark.parametrize(
    ("tamper", "status"),
    [
        ("signature", 401),
        ("body", 401),
        ("key_url", 401),
        ("no_signature", 401),
        ("not_json", 400),
    ],
)
async def test_a_forged_or_malformed_delivery_is_refused_and_stores_nothing(
    demo: tuple[Services, Sandbox, str], database_url: str, tamper: str, status: int
) -> None:
    _, sandbox, _ = demo
    psa = sandbox.connectwise
    callback, ticket, body, headers = _signed_delivery(psa, "Forged")
    if tamper == "signature":
        headers["x-content-signature"] = base64.b64encode(b"x" * 32).decode()
    elif tamper == "body":
        body = body.replace(b"Forged", b"Forgex")
    elif tamper == "key_url":
        body = body.replace(psa.base_url.encode(), b"https://attacker.example")
        headers["x-content-signature"] = sign(psa, callback, body)
    elif tamper == "no_signature":
        del headers["x-content-signature"]
    elif tamper == "not_json":
        body = b"<xml/>"
        headers["x-content-signature"] = sign(psa, callback, body)

    async with httpx.AsyncClient() as client:
        response = await client.post(callback["url"], content=body, headers=headers)

    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    with owner_connection(database_url) as owner:
        stored = owner.execute(
            "SELECT count(*) FROM inbox WHERE event->'subject'->>'id' = %s", (str(ticket["id"]),)
        ).fetchone()
    assert stored == (0,)


@pytest.mark.parametrize("vendor", ["autotask", "halopsa", "ninjaone"])
async def test_each_vendors_webhooks_are_registered_delivered_and_become_events(
    demo: tuple[Services, Sandbox, str], database_url: str, vendor: str
) -> None:
    services, sandbox, url = demo
    integration = await _integration_of(services, sandbox, vendor)
    state = sandbox.state(vendor)
    await eventually(lambda: _true(_subscribed(state)), what="the receiver is registered")
    before = _inbox_count(database_url, integration)

    module = importlib.import_module(f"vectis_sandbox.{vendor}")
    chooser = random.Random(3)
    for _ in range(4):  # a few customer actions; not every one changes a watched field
        module.simulate_activity(state, chooser)

    await eventually(
        lambda: _value(_inbox_count(database_url, integration) > before),
        what="the delivery reached the inbox",
    )

    forged = await _post(f"{url}webhooks/{integration}", b'{"Action": "Create", "Id": 1}')
    assert forged.status_code in (400, 401)
    assert forged.headers["content-type"] == "application/problem+json"


async def test_a_webhook_for_an_unknown_integration_is_404(
    demo: tuple[Services, Sandbox, str],
) -> None:
    _, _, url = demo
    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"{url}webhooks/00000000-0000-0000-0000-000000000000", content=b"{}"
        )
    assert response.status_code == 404


def _signed_delivery(
    psa: ConnectWiseState, summary: str
) -> tuple[dict[str, Any], dict[str, Any], bytes, dict[str, str]]:
    """A ticket just opened in the sandbox and its callback, signed as ConnectWise signs it."""
    callback = next(iter(psa.callbacks.values()))
    ticket = psa.add_ticket(next(iter(psa.companies)), summary)
    body = callback_body(psa, callback, "added", ticket)
    headers = {"x-content-signature": sign(psa, callback, body), "Content-Type": "application/json"}
    return callback, ticket, body, headers


def _auth(state: ConnectWiseState) -> dict[str, str]:
    user = f"{state.company_id}+{state.public_key}:{state.private_key}"
    return {
        "Authorization": "Basic " + base64.b64encode(user.encode()).decode(),
        "clientId": state.client_id,
    }


def _account(info: Any) -> Any:
    from vectis.application.demo import SandboxAccount

    return SandboxAccount(
        vendor=info.vendor,
        name=info.name,
        base_url=info.base_url,
        credentials=dict(info.credentials),
        companies=dict(info.companies),
    )


async def _integration_of(services: Services, sandbox: Sandbox, vendor: str) -> str:
    tenant = await services.tenancy.find_tenant("harbor-point")
    listed = await services.integrations.list(Principal.system(tenant.id, "test"))
    name = next(account.name for account in sandbox.accounts if account.vendor == vendor)
    return str(next(integration.id for integration in listed if integration.name == name))


def _subscribed(state: Any) -> bool:
    """Whether Vectis registered its receiver with this sandboxed vendor."""
    return bool(
        getattr(state, "webhook", None)
        or getattr(state, "webhooks", None)
        or (hasattr(state, "table") and len(state.table("TicketWebhooks")))
    )


def _inbox_count(database_url: str, integration_id: str) -> int:
    with owner_connection(database_url) as owner:
        row = owner.execute(
            "SELECT count(*) FROM inbox WHERE integration_id = %s", (integration_id,)
        ).fetchone()
    return int(row[0]) if row else 0


async def _post(url: str, body: bytes) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.post(url, content=body, headers={"Content-Type": "application/json"})


async def _settled_jobs(owner: Any) -> int:
    for _ in range(50):
        (count,) = owner.execute(
            "SELECT count(*) FROM procrastinate_jobs WHERE status IN ('succeeded', 'failed') "
            "OR (status = 'todo' AND task_name <> 'vectis:retry_stalled_jobs')"
        ).fetchone()
        if count == 0:
            return 0
        await asyncio.sleep(0.1)
    return int(count)


async def _true(value: object) -> bool:
    return bool(value)


async def _value(value: T) -> T:
    return value
