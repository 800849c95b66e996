"""Sign-in throttling: atomic under concurrency, per (account, address) first, no lockout DoS."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

import psycopg
import pytest

from tests.conftest import TEST_SECRET_KEY, app_connection, owner_connection
from tests.factories import PASSWORD, THROTTLE_SECRET, FrozenClock, make_tenant
from tests.http_client import hub_client
from vectis.adapters.security.passwords import Argon2PasswordHasher
from vectis.application.errors import AuthenticationFailed, LoginThrottled
from vectis.application.identity import IdentityPolicy, IdentityService
from vectis.application.ports import PasswordHasher
from vectis.application.services import Services
from vectis.container import Container
from vectis.domain.sign_in_throttle import ThrottleRules, throttled_network

WRONG = "not the password"


class CountingHasher:
    """The real hasher, counting the password checks that reach it."""

    def __init__(self, inner: PasswordHasher) -> None:
        self._inner = inner
        self.checked = 0

    async def hash(self, password: str) -> str:
        return await self._inner.hash(password)

    async def verify(self, password_hash: str, password: str) -> bool:
        self.checked += 1
        return await self._inner.verify(password_hash, password)

    def needs_rehash(self, password_hash: str) -> bool:
        return self._inner.needs_rehash(password_hash)


def _identity(
    container: Container,
    *,
    clock: Any = None,
    hasher: PasswordHasher | None = None,
    **rules: Any,
) -> IdentityService:
    return IdentityService(
        container.uow(),
        hasher or container.hasher(),
        clock or container.clock(),
        IdentityPolicy(throttle=ThrottleRules(**rules)),
        throttle_secret=THROTTLE_SECRET,
    )


async def _refusal(identity: IdentityService, email: str, address: str) -> Exception:
    with pytest.raises((AuthenticationFailed, LoginThrottled)) as refused:
        await identity.sign_in(email, WRONG, address=address)
    return refused.value


@pytest.mark.parametrize("account", ["known", "unknown"])
async def test_thirty_parallel_wrong_passwords_reach_the_password_check_five_times(
    container: Container, services: Services, account: str
) -> None:
    world = await make_tenant(services)
    email = world.owner.email if account == "known" else "nobody@northwind-it.example"
    hasher = CountingHasher(container.hasher())
    identity = _identity(container, hasher=hasher)

    outcomes = await asyncio.gather(
        *(identity.sign_in(email, WRONG, address="203.0.113.9") for _ in range(30)),
        return_exceptions=True,
    )

    assert hasher.checked == 5
    assert sum(isinstance(outcome, AuthenticationFailed) for outcome in outcomes) == 5
    assert sum(isinstance(outcome, LoginThrottled) for outcome in outcomes) == 25


async def test_an_address_is_refused_for_an_account_until_the_window_has_passed(
    container: Container, services: Services
) -> None:
    world = await make_tenant(services)
    clock = FrozenClock(container.clock().now())
    identity = _identity(container, clock=clock, failures_per_account_address=3)
    for _ in range(3):
        assert isinstance(
            await _refusal(identity, world.owner.email, "10.0.0.1"), AuthenticationFailed
        )

    with pytest.raises(LoginThrottled) as throttled:
        await identity.sign_in(world.owner.email, PASSWORD, address="10.0.0.1")
    assert throttled.value.retry_after == timedelta(minutes=15)
    clock.advance(timedelta(minutes=15, seconds=1))

    assert (await identity.sign_in(world.owner.email, PASSWORD, address="10.0.0.1")).secret


async def test_known_and_unknown_accounts_are_refused_alike(
    container: Container, services: Services
) -> None:
    world = await make_tenant(services)
    clock = FrozenClock(container.clock().now())
    identity = _identity(container, clock=clock, failures_per_account_address=2)
    refusals: dict[str, list[str]] = {}
    for email in (world.owner.email, "nobody@example.com"):
        found = [await _refusal(identity, email, "10.0.0.1") for _ in range(3)]
        assert isinstance(found[-1], LoginThrottled)
        refusals[email] = [f"{type(error).__name__}: {error}" for error in found]
        refusals[email].append(str(found[-1].retry_after))  # type: ignore[attr-defined]

    assert refusals[world.owner.email] == refusals["nobody@example.com"]


async def test_an_address_trying_many_accounts_is_refused(
    container: Container, services: Services
) -> None:
    world = await make_tenant(services)
    identity = _identity(container, failures_per_address=4)
    for attempt in range(4):
        await _refusal(identity, f"guess{attempt}@example.com", "203.0.113.7")

    with pytest.raises(LoginThrottled):
        await identity.sign_in(world.owner.email, PASSWORD, address="203.0.113.7")
    signed_in = await identity.sign_in(world.owner.email, PASSWORD, address="198.51.100.1")
    assert signed_in.principal.operator_id == world.owner.id


async def test_the_account_cools_down_across_addresses_but_a_clean_address_gets_through(
    container: Container, services: Services
) -> None:
    world = await make_tenant(services)
    clock = FrozenClock(container.clock().now())
    identity = _identity(
        container, clock=clock, failures_per_account=3, account_cooldown=timedelta(minutes=1)
    )
    for botnet in range(4):
        failed = await _refusal(identity, world.owner.email, f"10.0.0.{botnet}")
        assert isinstance(failed, AuthenticationFailed)

    with pytest.raises(LoginThrottled) as held:
        await identity.sign_in(world.owner.email, PASSWORD, address="10.0.0.1")
    assert held.value.retry_after == timedelta(minutes=1)
    signed_in = await identity.sign_in(world.owner.email, PASSWORD, address="198.51.100.7")
    assert signed_in.principal.operator_id == world.owner.id


async def test_each_failure_past_the_limit_doubles_the_accounts_cool_down(
    container: Container, services: Services
) -> None:
    world = await make_tenant(services)
    clock = FrozenClock(container.clock().now())
    identity = _identity(
        container, clock=clock, failures_per_account=1, account_cooldown=timedelta(minutes=1)
    )
    await _refusal(identity, world.owner.email, "10.0.0.1")
    waits = []
    for _ in range(3):
        failed = await _refusal(identity, world.owner.email, "10.0.0.1")
        assert isinstance(failed, AuthenticationFailed)
        held = await _refusal(identity, world.owner.email, "10.0.0.1")
        assert isinstance(held, LoginThrottled)
        waits.append(held.retry_after)
        clock.advance(held.retry_after)

    assert waits == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]


async def test_an_address_the_account_signed_in_from_is_not_held_by_its_cool_down(
    container: Container, services: Services
) -> None:
    world = await make_tenant(services)
    identity = _identity(container, failures_per_account=2)
    await identity.sign_in(world.owner.email, PASSWORD, address="192.0.2.44")
    await _refusal(identity, world.owner.email, "192.0.2.44")  # a typo at the office
    for botnet in range(3):
        await _refusal(identity, world.owner.email, f"10.0.0.{botnet}")

    assert isinstance(await _refusal(identity, world.owner.email, "10.0.0.1"), LoginThrottled)
    signed_in = await identity.sign_in(world.owner.email, PASSWORD, address="192.0.2.44")
    assert signed_in.principal.operator_id == world.owner.id


async def test_signing_in_forgives_the_operators_own_failures_from_that_address(
    container: Container, services: Services
) -> None:
    world = await make_tenant(services)
    identity = _identity(container, failures_per_account_address=3)
    for _ in range(2):
        for _ in range(2):
            await _refusal(identity, world.owner.email, "10.0.0.1")
        assert (await identity.sign_in(world.owner.email, PASSWORD, address="10.0.0.1")).secret


def test_an_ipv6_client_is_counted_by_its_slash_64() -> None:
    assert throttled_network("2001:db8:1:2:aaaa::1") == throttled_network("2001:db8:1:2:bbbb::9")
    assert throttled_network("2001:db8:1:3::1") != throttled_network("2001:db8:1:2::1")
    assert throttled_network("::ffff:192.0.2.1") == "192.0.2.1"


async def test_the_runtime_role_cannot_read_the_throttle_and_it_names_no_one(
    services: Services, database_url: str
) -> None:
    world = await make_tenant(services)
    await _refusal(services.identity, world.owner.email, "203.0.113.50")

    with app_connection(database_url) as connection:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            connection.execute("SELECT * FROM sign_in_throttle")
        connection.rollback()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            connection.execute("DELETE FROM sign_in_throttle")
        connection.rollback()
        unscoped = connection.execute(
            "SELECT * FROM vectis_sign_in_locks(now(), interval '1 hour', 1)"
        ).fetchall()
    with owner_connection(database_url) as owner:
        rows = owner.execute("SELECT * FROM sign_in_throttle").fetchall()
        gone = owner.execute("SELECT to_regclass('login_failures')").fetchone()

    assert unscoped == [], "no tenant set, nothing listed"
    assert sorted(row[1] for row in rows) == ["account", "address", "pair"]
    stored = repr(rows).encode()
    assert world.owner.email.encode() not in stored and b"203.0.113" not in stored
    assert gone == (None,)


async def test_a_burst_of_sign_ins_does_not_stall_other_requests(
    container: Container, services: Services
) -> None:
    world = await make_tenant(services)
    # Production costs: the suite's cheap hasher would make the burst too short to matter.
    hasher = Argon2PasswordHasher()
    identity = _identity(container, hasher=hasher)
    await identity.sign_in(world.owner.email, PASSWORD, address="10.0.0.1")  # rehashed at cost
    stored = await hasher.hash(PASSWORD)
    started = time.perf_counter()
    await hasher.verify(stored, PASSWORD)
    one_check = time.perf_counter() - started
    async with hub_client(services, TEST_SECRET_KEY) as client:
        burst = asyncio.ensure_future(
            asyncio.gather(
                *(
                    identity.sign_in(world.owner.email, PASSWORD, address=f"10.0.1.{n}")
                    for n in range(8)
                )
            )
        )
        waits = []
        while not burst.done():
            asked = time.perf_counter()
            await asyncio.sleep(0.005)  # the request arrives: the loop must be free to take it
            assert (await client.get("/healthz")).status_code == 200
            waits.append(time.perf_counter() - asked)
        await burst
    hasher.close()

    assert len(waits) > 5
    assert max(waits) < one_check / 2, (
        f"/healthz waited {max(waits):.2f} s; a check takes {one_check:.2f} s"
    )
