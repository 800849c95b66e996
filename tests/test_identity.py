"""Sign-in, sessions and personal access tokens."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import owner_connection
from tests.factories import PASSWORD, THROTTLE_SECRET, FrozenClock, add_operator, make_tenant
from vectis.application.errors import (
    AuthenticationFailed,
    InvalidToken,
    PermissionDenied,
    SessionExpired,
)
from vectis.application.identity import IdentityPolicy, IdentityService
from vectis.application.services import Services
from vectis.container import Container
from vectis.domain.identity import token_digest
from vectis.domain.tenancy import Role


def _identity(container: Container, clock: object, **policy: object) -> IdentityService:
    return IdentityService(
        container.uow(),
        container.hasher(),
        clock,  # type: ignore[arg-type]
        IdentityPolicy(**policy),  # type: ignore[arg-type]
        throttle_secret=THROTTLE_SECRET,
    )


async def test_an_operator_signs_in_with_the_right_password(fake_services: Services) -> None:
    world = await make_tenant(fake_services)

    signed_in = await fake_services.identity.sign_in(
        world.owner.email, PASSWORD, address="10.0.0.1"
    )
    principal = await fake_services.identity.authenticate_session(signed_in.secret)

    assert principal.tenant_id == world.tenant.id
    assert principal.operator_id == world.owner.id
    assert principal.role is Role.OWNER


async def test_passwords_are_stored_as_argon2id_hashes(
    services: Services, database_url: str
) -> None:
    world = await make_tenant(services)
    with owner_connection(database_url) as owner:
        (stored,) = owner.execute(
            "SELECT password_hash FROM operators WHERE id = %s", (str(world.owner.id),)
        ).fetchone()  # type: ignore[misc]
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


@pytest.mark.parametrize(
    "email", ["owner@northwind-it.example", "nobody@example.com", "not-an-email"]
)
async def test_a_wrong_password_or_unknown_account_is_refused_alike(
    fake_services: Services, email: str
) -> None:
    await make_tenant(fake_services)
    with pytest.raises(AuthenticationFailed, match="e-mail address or password is not right"):
        await fake_services.identity.sign_in(email, "wrong password!", address="10.0.0.1")


async def test_signing_out_ends_the_session(fake_services: Services) -> None:
    world = await make_tenant(fake_services)
    signed_in = await fake_services.identity.sign_in(
        world.owner.email, PASSWORD, address="10.0.0.1"
    )

    await fake_services.identity.sign_out(signed_in.secret)

    with pytest.raises(SessionExpired):
        await fake_services.identity.authenticate_session(signed_in.secret)


async def test_sessions_end_after_inactivity_and_after_their_lifetime(
    fake_container: Container, fake_services: Services
) -> None:
    world = await make_tenant(fake_services)
    clock = FrozenClock(fake_container.clock().now())
    identity = _identity(fake_container, clock, idle_timeout=timedelta(minutes=30))
    idle = await identity.sign_in(world.owner.email, PASSWORD, address="10.0.0.1")
    clock.advance(timedelta(minutes=31))
    with pytest.raises(SessionExpired, match="inactivity"):
        await identity.authenticate_session(idle.secret)

    busy = await identity.sign_in(world.owner.email, PASSWORD, address="10.0.0.1")
    for _ in range(26):
        clock.advance(timedelta(minutes=29))
        if clock.now() >= busy.expires_at:  # type: ignore[operator]
            break
        await identity.authenticate_session(busy.secret)
    with pytest.raises(SessionExpired):
        await identity.authenticate_session(busy.secret)


async def test_a_token_is_shown_once_and_stored_only_as_its_digest(
    services: Services, database_url: str
) -> None:
    world = await make_tenant(services)
    issued = await services.identity.issue_token(world.owner.email, name="PSA script")

    with owner_connection(database_url) as owner:
        rows = owner.execute("SELECT digest, hint FROM access_tokens").fetchall()
        dump = str(owner.execute("SELECT * FROM access_tokens").fetchall())
        audit = str(owner.execute("SELECT payload::text FROM audit_log").fetchall())
    assert issued.secret.startswith("vectis_pat_") and len(issued.secret) == 47
    assert rows == [(token_digest(issued.secret), issued.token.hint)]
    assert issued.secret not in dump and issued.secret not in audit
    principal = await services.identity.authenticate_token(issued.secret)
    assert (principal.tenant_id, principal.role) == (world.tenant.id, Role.OWNER)


async def test_a_token_records_when_it_was_last_used(fake_services: Services) -> None:
    world = await make_tenant(fake_services)
    issued = await fake_services.identity.issue_token(world.owner.email, name="PSA script")
    assert issued.token.last_used_at is None

    await fake_services.identity.authenticate_token(issued.secret)

    (listed,) = await fake_services.identity.list_tokens(world.tenant.slug)
    assert listed.last_used_at is not None


async def test_an_expired_token_is_refused(
    fake_container: Container, fake_services: Services
) -> None:
    world = await make_tenant(fake_services)
    clock = FrozenClock(fake_container.clock().now())
    identity = _identity(fake_container, clock)
    issued = await identity.issue_token(
        world.owner.email, name="short", expires_in=timedelta(hours=1)
    )
    await identity.authenticate_token(issued.secret)
    clock.advance(timedelta(hours=1, seconds=1))

    with pytest.raises(InvalidToken, match="expired"):
        await identity.authenticate_token(issued.secret)


async def test_a_revoked_token_is_refused(fake_services: Services) -> None:
    world = await make_tenant(fake_services)
    issued = await fake_services.identity.issue_token(world.owner.email, name="leaked")

    revoked = await fake_services.identity.revoke_token(secret=issued.secret)

    assert revoked.revoked_at is not None
    with pytest.raises(InvalidToken, match="revoked"):
        await fake_services.identity.authenticate_token(issued.secret)


async def test_a_token_is_revoked_by_id_within_its_tenant(fake_services: Services) -> None:
    world = await make_tenant(fake_services)
    other = await make_tenant(fake_services, "Other IT")
    issued = await fake_services.identity.issue_token(world.owner.email, name="ci")

    with pytest.raises(Exception, match="no access token"):
        await fake_services.identity.revoke_token(
            token_id=issued.token.id, tenant_slug=other.tenant.slug
        )
    await fake_services.identity.revoke_token(
        token_id=issued.token.id, tenant_slug=world.tenant.slug
    )

    with pytest.raises(InvalidToken):
        await fake_services.identity.authenticate_token(issued.secret)


@pytest.mark.parametrize(
    "token",
    ["", "Bearer", "vectis_pat_short", "ghp_" + "a" * 36, "vectis_pat_" + "a" * 36],
)
async def test_malformed_and_unknown_tokens_are_refused(
    fake_services: Services, token: str
) -> None:
    await make_tenant(fake_services)
    with pytest.raises(InvalidToken):
        await fake_services.identity.authenticate_token(token)


async def test_a_token_cannot_outrank_its_operator(fake_services: Services) -> None:
    world = await make_tenant(fake_services)
    tech = await add_operator(fake_services, world, "terry", Role.TECH)

    with pytest.raises(PermissionDenied):
        await fake_services.identity.issue_token(tech.email, name="sneaky", role=Role.ADMIN)
    lesser = await fake_services.identity.issue_token(
        tech.email, name="reader", role=Role.READ_ONLY
    )
    assert (await fake_services.identity.authenticate_token(lesser.secret)).role is Role.READ_ONLY


async def test_a_token_follows_its_operators_current_role_down(
    services: Services, container: Container, database_url: str
) -> None:
    world = await make_tenant(services)
    admin = await add_operator(services, world, "ada", Role.ADMIN)
    issued = await services.identity.issue_token(admin.email, name="admin token")
    with owner_connection(database_url) as owner:
        owner.execute("UPDATE operators SET role = 'read_only' WHERE id = %s", (str(admin.id),))

    principal = await services.identity.authenticate_token(issued.secret)

    assert principal.role is Role.READ_ONLY
