"""Password hashing costs: production's are argon2-cffi's, and sign-in brings old hashes up to them.

The rest of the suite hashes at the lowest argon2id costs (tests/conftest.py); these tests are
where the production costs are held to account.
"""

from __future__ import annotations

import argon2
import pytest

from tests.conftest import CHEAP_HASHING, owner_connection
from tests.factories import PASSWORD, THROTTLE_SECRET, make_tenant
from vectis.adapters.security.passwords import Argon2PasswordHasher
from vectis.application.identity import IdentityService
from vectis.application.services import Services
from vectis.container import Container

PRODUCTION = (argon2.DEFAULT_TIME_COST, argon2.DEFAULT_MEMORY_COST, argon2.DEFAULT_PARALLELISM)


def _stored_hash(database_url: str, operator_id: object) -> str:
    with owner_connection(database_url) as owner:
        row = owner.execute(
            "SELECT password_hash FROM operators WHERE id = %s", (str(operator_id),)
        ).fetchone()
    assert row is not None
    return str(row[0])


def _costs(password_hash: str) -> tuple[int, int, int]:
    parameters = argon2.extract_parameters(password_hash)
    assert parameters.type is argon2.Type.ID
    return (parameters.time_cost, parameters.memory_cost, parameters.parallelism)


async def test_the_composition_root_hashes_at_argon2_cffis_default_costs_or_more(
    container: Container,
) -> None:
    container.hasher.reset_override()  # this container only: the suite's cheap hasher is undone
    hasher = container.hasher()
    try:
        assert isinstance(hasher, Argon2PasswordHasher)
        stored = await hasher.hash(PASSWORD)
    finally:
        hasher.close()

    costs = _costs(stored)
    assert costs == hasher.parameters
    assert all(cost >= default for cost, default in zip(costs, PRODUCTION, strict=True)), costs
    assert argon2.extract_parameters(stored).hash_len >= 32


def test_the_suites_hasher_is_the_cheap_one(container: Container) -> None:
    assert container.hasher().parameters == tuple(CHEAP_HASHING.values())
    assert tuple(CHEAP_HASHING.values()) < PRODUCTION


async def test_a_cheaply_hashed_password_is_rehashed_at_production_cost_on_sign_in(
    container: Container, services: Services, database_url: str
) -> None:
    world = await make_tenant(services)  # hashed at the suite's lowest costs
    assert _costs(_stored_hash(database_url, world.owner.id)) == tuple(CHEAP_HASHING.values())
    production = Argon2PasswordHasher()
    identity = IdentityService(
        container.uow(), production, container.clock(), throttle_secret=THROTTLE_SECRET
    )
    try:
        await identity.sign_in(world.owner.email, PASSWORD, address="10.0.0.1")
        rehashed = _stored_hash(database_url, world.owner.id)
        await identity.sign_in(world.owner.email, PASSWORD, address="10.0.0.1")
        kept = _stored_hash(database_url, world.owner.id)
    finally:
        production.close()

    assert _costs(rehashed) == PRODUCTION
    assert kept == rehashed, "a hash already at cost is left alone"
    with pytest.raises(argon2.exceptions.VerifyMismatchError):
        argon2.PasswordHasher().verify(rehashed, "not the password")
    assert argon2.PasswordHasher().verify(rehashed, PASSWORD)
