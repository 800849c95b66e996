"""An owner sees their own tenant's sign-in locks and clears them: hub, API and command line."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

import httpx
import pytest

from tests.conftest import TEST_SECRET_KEY, runtime_url
from tests.factories import PASSWORD, World, add_operator, make_tenant
from tests.http_client import csrf_token, hub_client, sign_in
from vectis.application.errors import (
    AuthenticationFailed,
    LoginThrottled,
    NotFound,
    PermissionDenied,
)
from vectis.application.services import Services
from vectis.container import Container
from vectis.domain.audit import Actor, ActorKind
from vectis.domain.identity import Principal
from vectis.domain.tenancy import Operator, Role
from vectis.main import main
from vectis.settings import Settings

ATTACKER = "203.0.113.66"
T = TypeVar("T")


@pytest.fixture
async def client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    async with hub_client(services, TEST_SECRET_KEY) as client:
        yield client


async def _lock_out(services: Services, operator: Operator) -> None:
    """Fail as often as one address may for the operator, so that address is refused."""
    for _ in range(5):
        with pytest.raises(AuthenticationFailed):
            await services.identity.sign_in(operator.email, "guess", address=ATTACKER)
    with pytest.raises(LoginThrottled):
        await services.identity.sign_in(operator.email, PASSWORD, address=ATTACKER)


def _principal(world: World, role: Role) -> Principal:
    return Principal(
        tenant_id=world.tenant.id,
        role=role,
        actor=Actor(kind=ActorKind.OPERATOR, id=str(world.owner.id), label=world.owner.email),
    )


async def _unlocks(services: Services, world: World) -> list[dict[str, object]]:
    records = await services.audit.recent(world.principal, limit=50)
    return [r.entry.payload for r in records if r.entry.action == "operator.unlock"]


async def test_an_owner_sees_and_clears_their_own_tenants_locks_only(services: Services) -> None:
    north = await make_tenant(services, "North IT")
    south = await make_tenant(services, "South IT")
    tech = await add_operator(services, north, "terry", Role.TECH)
    await _lock_out(services, tech)

    (lock,) = await services.sign_in_locks.list_locks(north.principal)
    assert (lock.operator_id, lock.email, lock.failures, lock.throttled_addresses) == (
        tech.id,
        tech.email,
        5,
        1,
    )
    assert lock.is_locked
    assert await services.sign_in_locks.list_locks(south.principal) == []
    with pytest.raises(NotFound):
        await services.sign_in_locks.clear(south.principal, tech.id)

    await services.sign_in_locks.clear(north.principal, tech.id)

    assert await services.sign_in_locks.list_locks(north.principal) == []
    assert (await services.identity.sign_in(tech.email, PASSWORD, address=ATTACKER)).secret
    assert await _unlocks(services, north) == [{"email": tech.email, "counters_cleared": 2}]


async def test_only_an_owner_sees_or_clears_locks(fake_services: Services) -> None:
    world = await make_tenant(fake_services)
    admin = _principal(world, Role.ADMIN)

    with pytest.raises(PermissionDenied):
        await fake_services.sign_in_locks.list_locks(admin)
    with pytest.raises(PermissionDenied):
        await fake_services.sign_in_locks.clear(admin, world.owner.id)


async def test_the_settings_page_lists_locks_and_clears_one_with_its_csrf_token(
    services: Services, client: httpx.AsyncClient
) -> None:
    world = await make_tenant(services)
    tech = await add_operator(services, world, "terry", Role.TECH)
    await _lock_out(services, tech)
    await sign_in(client, world.owner.email, PASSWORD)

    page = await client.get("/settings")
    assert page.status_code == 200
    assert "Sign-in locks" in page.text and tech.email in page.text
    form = re.search(
        r'<form method="post" action="/settings/sign-in-locks".*?</form>', page.text, re.S
    )
    assert form is not None and f'value="{tech.id}"' in form.group(0)
    forged = await client.post("/settings/sign-in-locks", data={"operator_id": str(tech.id)})
    cleared = await client.post(
        "/settings/sign-in-locks",
        data={"operator_id": str(tech.id), "csrf_token": csrf_token(page.text)},
    )
    after = await client.get("/settings?saved=sign-in-lock")

    assert forged.status_code == 403
    assert cleared.status_code == 303
    assert "Sign-in lock cleared." in after.text and tech.email not in after.text
    assert len(await _unlocks(services, world)) == 1


async def test_a_tech_sees_no_locks_and_cannot_clear_one(
    services: Services, client: httpx.AsyncClient
) -> None:
    world = await make_tenant(services)
    tech = await add_operator(services, world, "terry", Role.TECH)
    await _lock_out(services, world.owner)
    await sign_in(client, tech.email, PASSWORD)

    page = await client.get("/settings")
    refused = await client.post(
        "/settings/sign-in-locks",
        data={"operator_id": str(world.owner.id), "csrf_token": csrf_token(page.text)},
    )
    bad = await client.post(
        "/settings/sign-in-locks",
        data={"operator_id": "not-an-id", "csrf_token": csrf_token(page.text)},
    )

    assert "Sign-in locks" not in page.text
    assert refused.status_code == 403
    assert bad.status_code == 400
    assert (await services.sign_in_locks.list_locks(world.principal))[0].is_locked


async def test_the_api_lists_and_clears_locks_for_an_owners_token(
    services: Services, client: httpx.AsyncClient
) -> None:
    world = await make_tenant(services)
    other = await make_tenant(services, "Other IT")
    tech = await add_operator(services, world, "terry", Role.TECH)
    await _lock_out(services, tech)
    owner = bearer((await services.identity.issue_token(world.owner.email, name="o")).secret)
    reader = bearer((await services.identity.issue_token(tech.email, name="t")).secret)

    listed = await client.get("/api/v1/sign-in-locks", headers=owner)
    refused = await client.delete(f"/api/v1/sign-in-locks/{tech.id}", headers=reader)
    elsewhere = await client.delete(f"/api/v1/sign-in-locks/{other.owner.id}", headers=owner)
    cleared = await client.delete(f"/api/v1/sign-in-locks/{tech.id}", headers=owner)
    after = await client.get("/api/v1/sign-in-locks", headers=owner)

    assert listed.status_code == 200
    (item,) = listed.json()["items"]
    assert (item["operator_id"], item["email"], item["locked"]) == (str(tech.id), tech.email, True)
    assert (item["failures"], item["throttled_addresses"]) == (5, 1)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert elsewhere.status_code == 404
    assert cleared.status_code == 204
    assert after.json() == {"items": []}


def test_the_command_line_clears_a_lock(
    settings: Settings,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    world = asyncio.run(_in_own_loop(settings, _locked_tenant))
    monkeypatch.setenv("VECTIS_DATABASE_URL", database_url)
    monkeypatch.setenv("VECTIS_APP_DATABASE_URL", runtime_url(database_url))
    monkeypatch.setenv("VECTIS_SECRET_KEY", TEST_SECRET_KEY)
    monkeypatch.setenv("VECTIS_DATA_DIR", str(settings.data_dir))

    code = main(["operator", "unlock", "--email", world.owner.email])

    assert code == 0
    assert f"sign-in lock of {world.owner.email} cleared" in capsys.readouterr().out

    async def unlocked(services: Services) -> tuple[object, object]:
        locks = await services.sign_in_locks.list_locks(world.principal)
        return locks, await _unlocks(services, world)

    locks, audited = asyncio.run(_in_own_loop(settings, unlocked))
    assert locks == []
    assert audited == [{"email": world.owner.email, "counters_cleared": 2}]


async def _locked_tenant(services: Services) -> World:
    world = await make_tenant(services)
    await _lock_out(services, world.owner)
    return world


async def _in_own_loop(settings: Settings, work: Callable[[Services], Awaitable[T]]) -> T:
    """Run ``work`` on services of its own: the command line runs its own event loop, so
    this test cannot share the suite's."""
    assert settings.app_database_url is not None
    container = Container(
        settings=settings, database_url=settings.app_database_url, secret_key=TEST_SECRET_KEY
    )
    try:
        return await work(container.services())
    finally:
        await container.linker().close()
        await container.http_client().aclose()
        await container.engine().dispose()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
