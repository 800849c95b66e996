"""The composition root: the one place that knows every adapter and wires the services."""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import procrastinate
from dependency_injector import containers, providers
from sqlalchemy.ext.asyncio import AsyncEngine

from vectis.adapters.clock import SystemClock
from vectis.adapters.postgres.database import create_runtime_engine, sqlalchemy_url
from vectis.adapters.postgres.embedded import DataDirectoryLock, EmbeddedPostgres
from vectis.adapters.postgres.job_queue import create_job_app
from vectis.adapters.postgres.migrator import migrate
from vectis.adapters.postgres.probe import PostgresDatabaseProbe
from vectis.adapters.postgres.rate_limits import PostgresRateLimiter
from vectis.adapters.postgres.repositories.audit import AuditLinker, PostgresAuditChainer
from vectis.adapters.postgres.roles import check_runtime_login, provision_runtime_login
from vectis.adapters.postgres.unit_of_work import PostgresUnitOfWorkFactory
from vectis.adapters.security.keys import check_secret_key, derive_key, generate_secret_key
from vectis.adapters.security.passwords import Argon2PasswordHasher
from vectis.adapters.security.secretbox import AesGcmSecretBox
from vectis.adapters.vendors._http.guard import guarded_client
from vectis.adapters.vendors._http.urls import VendorUrlPolicy
from vectis.adapters.vendors.registry import VendorConnectors
from vectis.application.audit import AuditService
from vectis.application.customer_hub import CustomerHubService
from vectis.application.customer_records import CustomerRecordsService
from vectis.application.demo import SandboxAccount
from vectis.application.errors import ConfigurationError
from vectis.application.health import HealthService
from vectis.application.identity import IdentityService
from vectis.application.inbox import InboxService
from vectis.application.integrations import IntegrationService
from vectis.application.services import Services
from vectis.application.sign_in_locks import SignInLockService
from vectis.application.sync import SyncService
from vectis.application.tenancy import TenancyService
from vectis.application.timeline import TimelineService
from vectis.application.writebacks import WriteBackService
from vectis.entrypoints.http.app import HttpConfig, create_app
from vectis.settings import Settings

logger = logging.getLogger(__name__)


class Container(containers.DeclarativeContainer):
    """Settings and the runtime role's database URL in, application services out."""

    settings = providers.Dependency(instance_of=Settings)
    database_url = providers.Dependency(instance_of=str)
    secret_key = providers.Dependency(instance_of=str)

    clock = providers.Singleton(SystemClock)
    engine = providers.Singleton(create_runtime_engine, database_url)
    job_app = providers.Singleton(create_job_app, database_url)
    linker = providers.Singleton(AuditLinker, engine)
    uow = providers.Singleton(PostgresUnitOfWorkFactory, engine, job_app, linker)
    hasher = providers.Singleton(Argon2PasswordHasher)
    secret_box = providers.Singleton(
        AesGcmSecretBox, secret_key, settings.provided.previous_secret_keys
    )
    http_client = providers.Singleton(
        guarded_client,
        allow_private=settings.provided.allow_private_urls,
        timeout=providers.Factory(
            httpx.Timeout, settings.provided.vendor_timeout_seconds, connect=5.0
        ),
    )
    rate_limiter = providers.Singleton(PostgresRateLimiter, engine)
    connectors = providers.Singleton(VendorConnectors, http_client, rate_limiter, clock)
    probe = providers.Singleton(PostgresDatabaseProbe, engine)

    tenancy = providers.Singleton(TenancyService, uow, hasher, clock)
    identity = providers.Singleton(
        IdentityService,
        uow,
        hasher,
        clock,
        throttle_secret=providers.Callable(derive_key, secret_key, "sign-in-throttle"),
    )
    sign_in_locks = providers.Singleton(SignInLockService, uow, clock)
    chainer = providers.Singleton(PostgresAuditChainer, engine)
    audit = providers.Singleton(AuditService, uow, chainer)
    url_policy = providers.Singleton(
        VendorUrlPolicy, allow_private=settings.provided.allow_private_urls
    )
    integrations = providers.Singleton(
        IntegrationService, uow, secret_box, url_policy, connectors, clock
    )
    sync = providers.Singleton(SyncService, uow, integrations, connectors, clock)
    writebacks = providers.Singleton(WriteBackService, uow, integrations, connectors, clock)
    inbox = providers.Singleton(InboxService, uow, integrations, connectors, writebacks, clock)
    records = providers.Singleton(CustomerRecordsService, uow, integrations, writebacks)
    health = providers.Singleton(HealthService, probe)
    timeline = providers.Singleton(TimelineService, uow, clock)
    hub = providers.Singleton(CustomerHubService, uow, clock)
    services = providers.Singleton(
        Services,
        tenancy=tenancy,
        identity=identity,
        sign_in_locks=sign_in_locks,
        audit=audit,
        integrations=integrations,
        records=records,
        sync=sync,
        writebacks=writebacks,
        inbox=inbox,
        health=health,
        timeline=timeline,
        hub=hub,
    )


class Runtime:
    """What the command line needs from the composition root: a database, services, a server."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._embedded: EmbeddedPostgres | None = None
        self._database_url: str | None = None
        self._container: Container | None = None

    @property
    def embedded(self) -> bool:
        return self.settings.embedded

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir

    @property
    def host(self) -> str:
        return self.settings.host

    @property
    def port(self) -> int:
        return self.settings.port

    @contextlib.contextmanager
    def database(self) -> Iterator[str]:
        """The owner URL: the configured server, or the embedded one for as long as we need it."""
        if self.settings.database_url:
            try:
                sqlalchemy_url(self.settings.database_url)
            except ValueError as error:
                raise ConfigurationError(f"VECTIS_DATABASE_URL is not usable: {error}") from None
            self._database_url = self.settings.database_url
            yield self._database_url
            return
        self._embedded = EmbeddedPostgres(self.settings.data_dir)
        self._database_url = self._embedded.start()
        try:
            yield self._database_url
        finally:
            self._embedded.stop()
            self._embedded = None

    @contextlib.contextmanager
    def exclusive_data_dir(self) -> Iterator[None]:
        lock = DataDirectoryLock(self.settings.data_dir)
        lock.acquire()
        try:
            yield
        finally:
            lock.release()

    async def migrate(self) -> tuple[str | None, str]:
        return await migrate(self._require_url())

    @contextlib.asynccontextmanager
    async def services(self) -> AsyncIterator[Services]:
        """The services, logged in as the runtime role (refused if the login holds more)."""
        secret_key = self.secret_key()
        container = Container(
            settings=self.settings, database_url=await self._runtime_url(), secret_key=secret_key
        )
        self._container = container
        try:
            await check_runtime_login(container.engine())
            yield container.services()
        finally:
            await container.linker().close()
            await container.http_client().aclose()
            container.hasher().close()
            engine: AsyncEngine = container.engine()
            await engine.dispose()
            self._container = None

    def http_app(self, services: Services) -> object:
        return create_app(
            services,
            HttpConfig(
                csrf_key=derive_key(self.secret_key(), "csrf"),
                cursor_key=derive_key(self.secret_key(), "page-cursor"),
                trusted_proxies=self.settings.trusted_proxies,
            ),
        )

    async def run_worker(
        self, services: Services, *, concurrency: int | None = None, handle_signals: bool = True
    ) -> None:
        """Run jobs until cancelled: LISTEN plus a 1 s poll, finished jobs deleted."""
        assert self._container is not None
        job_app: procrastinate.App = self._container.job_app()
        async with job_app.open_async():
            await job_app.run_worker_async(
                concurrency=concurrency or self.settings.worker_concurrency,
                fetch_job_polling_interval=1.0,
                listen_notify=True,
                delete_jobs="always",
                additional_context={"services": services},
                install_signal_handlers=handle_signals,
            )

    def secret_key(self) -> str:
        """``VECTIS_SECRET_KEY``, or for the embedded database one kept in the data directory."""
        if self.settings.secret_key:
            return check_secret_key(self.settings.secret_key)
        if not self.settings.embedded:
            raise ConfigurationError(
                "VECTIS_SECRET_KEY is required when VECTIS_DATABASE_URL is set"
            )
        return check_secret_key(
            _data_dir_secret(self.settings.data_dir, "secret_key", generate_secret_key)
        )

    @contextlib.asynccontextmanager
    async def sandbox(self) -> AsyncIterator[list[SandboxAccount]]:
        """The loopback vendor sandbox, for the demo (only here does Vectis import it).

        Integrations may then point at loopback, where the sandbox listens."""
        from vectis_sandbox.server import running_sandbox

        self.settings = self.settings.replace(allow_private_urls=True)
        async with running_sandbox(activity_every=45.0) as sandbox:
            yield [
                SandboxAccount(
                    vendor=account.vendor,
                    name=account.name,
                    base_url=account.base_url,
                    credentials=dict(account.credentials),
                    companies=dict(account.companies),
                )
                for account in sandbox.accounts
            ]

    def check_port_free(self, host: str, port: int) -> None:
        check_port_free(host, port)

    async def _runtime_url(self) -> str:
        """``VECTIS_APP_DATABASE_URL``; for the embedded server, a login it provisions."""
        if self.settings.app_database_url:
            try:
                sqlalchemy_url(self.settings.app_database_url)
            except ValueError as error:
                raise ConfigurationError(
                    f"VECTIS_APP_DATABASE_URL is not usable: {error}"
                ) from None
            return self.settings.app_database_url
        if not self.settings.embedded:
            raise ConfigurationError(
                "VECTIS_APP_DATABASE_URL is required with VECTIS_DATABASE_URL: Vectis never "
                "runs as the schema owner; create a login that is a member of vectis_app "
                "(docs/security.md)"
            )
        password = _data_dir_secret(self.settings.data_dir, "runtime_password", _new_password)
        return await provision_runtime_login(self._require_url(), password)

    def _require_url(self) -> str:
        if self._database_url is None:
            raise RuntimeError("open Runtime.database() first")
        return self._database_url


def check_port_free(host: str, port: int) -> None:
    """Refuse early, in one line, when another process already listens on the port."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise ConfigurationError(f"cannot resolve host {host!r}: {error.strerror}") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError:
            raise ConfigurationError(
                f"port {port} on {host} is already in use; choose another with --port"
            ) from None


def _data_dir_secret(data_dir: Path, name: str, generate: Callable[[], str]) -> str:
    """A secret kept in the data directory (readable by its owner only), made on first use."""
    path = data_dir / name
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = generate()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secret + "\n")
    logger.info("generated %s in %s", name.replace("_", " "), path)
    return secret


def _new_password() -> str:
    return secrets.token_urlsafe(32)
