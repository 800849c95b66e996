"""Connector credentials are sealed at rest and never show up where they should not."""

from __future__ import annotations

import logging

import pytest

from tests.conftest import owner_connection
from tests.factories import add_connectwise, make_tenant
from vectis.adapters.security.secretbox import AesGcmSecretBox
from vectis.application.errors import ConfigurationError
from vectis.application.services import Services
from vectis.container import Container
from vectis.domain.errors import InvalidValue
from vectis.domain.integration import Credentials
from vectis.settings import Settings

PRIVATE_KEY = "very-private-key-9f8e7d"


async def test_credentials_are_encrypted_at_rest_and_open_again(
    services: Services, container: Container, database_url: str
) -> None:
    world = await make_tenant(services)
    integration = await add_connectwise(services, world, private_key=PRIVATE_KEY)

    with owner_connection(database_url) as owner:
        (sealed,) = owner.execute("SELECT credentials FROM integrations").fetchone()  # type: ignore[misc]
        everything = str(owner.execute("SELECT * FROM integrations").fetchall())
        audit = str(owner.execute("SELECT payload::text FROM audit_log").fetchall())
    assert PRIVATE_KEY.encode() not in bytes(sealed)
    assert PRIVATE_KEY not in everything and PRIVATE_KEY not in audit
    async with container.uow()(world.tenant.id) as uow:
        opened = await services.integrations.open_credentials(uow, integration.id)  # type: ignore[attr-defined]
    assert opened["private_key"] == PRIVATE_KEY


async def test_credentials_never_print_or_log(caplog: pytest.LogCaptureFixture) -> None:
    credentials = Credentials(values={"private_key": PRIVATE_KEY})
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("test").info("using %s / %r", credentials, credentials)
    assert PRIVATE_KEY not in caplog.text
    assert "redacted" in repr(credentials)


async def test_credentials_sealed_for_one_integration_do_not_open_for_another(
    services: Services, container: Container, database_url: str
) -> None:
    world = await make_tenant(services)
    first = await add_connectwise(services, world, private_key=PRIVATE_KEY)
    second = await services.integrations.add(
        world.principal,
        vendor="connectwise",
        name="PSA 2",
        base_url="https://api-eu.myconnectwise.net/v4_6_release",
        credentials=Credentials(
            values={
                "company_id": "harborpoint",
                "public_key": "pub2",
                "private_key": "other",
                "client_id": "cid",
            }
        ),
        test=False,
    )
    with owner_connection(database_url) as owner:
        owner.execute(
            "UPDATE integrations SET credentials = (SELECT credentials FROM integrations WHERE id = %s) WHERE id = %s",
            (str(first.id), str(second.id)),  # type: ignore[attr-defined]
        )

    async with container.uow()(world.tenant.id) as uow:
        with pytest.raises(ConfigurationError, match="integrity"):
            await services.integrations.open_credentials(uow, second.id)


def test_a_rotated_key_still_opens_what_the_old_key_sealed() -> None:
    old = AesGcmSecretBox("old-secret-key-0123456789-0123456789")
    sealed = old.seal(b"secret", context=b"row")
    rotated = AesGcmSecretBox(
        "new-secret-key-0123456789-0123456789",
        previous_keys=["old-secret-key-0123456789-0123456789"],
    )

    assert rotated.open(sealed, context=b"row") == b"secret"
    assert rotated.seal(b"x", context=b"row")[1:5] != sealed[1:5]
    with pytest.raises(ConfigurationError, match="VECTIS_PREVIOUS_SECRET_KEYS"):
        AesGcmSecretBox("new-secret-key-0123456789-0123456789").open(sealed, context=b"row")


def test_a_short_secret_key_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="at least 32"):
        AesGcmSecretBox("short")


async def test_an_integration_pointing_at_the_private_network_is_refused(
    services: Services, settings: Settings
) -> None:
    world = await make_tenant(services)
    strict = Container(
        settings=settings.replace(allow_private_urls=False),
        database_url=settings.app_database_url,
        secret_key=settings.secret_key,
    )
    try:
        with pytest.raises(InvalidValue, match="not a public address"):
            await strict.services().integrations.add(
                world.principal,
                vendor="connectwise",
                name="Metadata",
                base_url="https://169.254.169.254/latest",
                credentials=Credentials(values={"private_key": "x"}),
            )
    finally:
        await strict.engine().dispose()
    assert await services.integrations.list(world.principal) == []
