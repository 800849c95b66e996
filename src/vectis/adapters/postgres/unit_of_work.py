"""The PostgreSQL unit of work: one connection, one transaction, one tenant."""

from __future__ import annotations

from types import TracebackType
from uuid import UUID

import procrastinate
import psycopg
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from vectis.adapters.postgres.job_queue import ProcrastinateJobQueue
from vectis.adapters.postgres.repositories.audit import AuditLinker, PostgresAuditLog
from vectis.adapters.postgres.repositories.events import PostgresEventStream, PostgresInbox
from vectis.adapters.postgres.repositories.identity import (
    PostgresLoginThrottleStore,
    PostgresOperatorRepository,
    PostgresSessionRepository,
    PostgresTokenRepository,
)
from vectis.adapters.postgres.repositories.integrations import PostgresIntegrationRepository
from vectis.adapters.postgres.repositories.listings import PostgresRecordListings
from vectis.adapters.postgres.repositories.notes import PostgresNoteRepository
from vectis.adapters.postgres.repositories.reader import PostgresRecordReader
from vectis.adapters.postgres.repositories.records import PostgresRecordStore
from vectis.adapters.postgres.repositories.sync_runs import PostgresSyncRunRepository
from vectis.adapters.postgres.repositories.tenancy import (
    PostgresCustomerRepository,
    PostgresTenantRepository,
)
from vectis.adapters.postgres.repositories.writebacks import PostgresWriteBackRepository
from vectis.application.errors import ServiceUnavailable


class PostgresUnitOfWork:
    """Rolls back on leaving unless ``commit()`` was called; RLS scopes it to its tenant."""

    def __init__(
        self,
        engine: AsyncEngine,
        job_app: procrastinate.App,
        linker: AuditLinker,
        tenant_id: UUID | None,
    ) -> None:
        self._engine = engine
        self._job_app = job_app
        self._linker = linker
        self._requested_tenant = tenant_id
        self._tenant_id: UUID | None = None
        self._connection: AsyncConnection | None = None
        self._committed = False

    @property
    def tenant_id(self) -> UUID | None:
        return self._tenant_id

    async def __aenter__(self) -> PostgresUnitOfWork:
        try:
            self._connection = await self._engine.connect()
        except (OperationalError, OSError) as error:
            raise ServiceUnavailable(f"the database does not answer: {_reason(error)}") from error
        connection = self._connection
        # The connection was just checked out, so reaching its driver needs no I/O (the
        # awaitable get_raw_connection() would only add a greenlet round trip).
        assert connection.sync_connection is not None
        driver = connection.sync_connection.connection.driver_connection
        assert isinstance(driver, psycopg.AsyncConnection)
        self._driver = driver
        self.tenants = PostgresTenantRepository(connection)
        self.customers = PostgresCustomerRepository(connection)
        self.operators = PostgresOperatorRepository(connection)
        self.tokens = PostgresTokenRepository(connection)
        self.sessions = PostgresSessionRepository(connection)
        self.throttle = PostgresLoginThrottleStore(connection)
        self.audit = PostgresAuditLog(connection, driver)
        self.writebacks = PostgresWriteBackRepository(connection)
        self.sync_runs = PostgresSyncRunRepository(connection)
        self.reader = PostgresRecordReader(connection)
        self.listings = PostgresRecordListings(connection)
        self.jobs = ProcrastinateJobQueue(self._job_app, connection)
        self._bind_repositories(None)
        if self._requested_tenant is not None:
            await self.bind_tenant(self._requested_tenant)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        assert self._connection is not None
        try:
            if not self._committed:
                await self._driver.rollback()
        finally:
            await self._connection.close()

    async def bind_tenant(self, tenant_id: UUID) -> None:
        if self._tenant_id == tenant_id:
            return
        if self._tenant_id is not None:
            raise RuntimeError("a unit of work serves one tenant only")
        # On the driver connection: this runs on every unit of work, and SQLAlchemy's
        # compilation and greenlet switch would double its cost.
        await self._driver.execute(
            "SELECT set_config('vectis.tenant_id', %s, true)", (str(tenant_id),)
        )
        self._tenant_id = tenant_id
        self._bind_repositories(tenant_id)

    async def commit(self) -> None:
        # The transaction lives on the driver connection (psycopg begins it with the first
        # statement, whichever layer sends it), so that is where it ends.
        appended = self.audit.appended
        try:
            await self.audit.write_and_commit()
        except psycopg.OperationalError as error:
            raise ServiceUnavailable(f"the database went away: {_reason(error)}") from error
        self._committed = True
        if appended and self._tenant_id is not None:
            self._linker.notify(self._tenant_id)

    def _bind_repositories(self, tenant_id: UUID | None) -> None:
        assert self._connection is not None
        self.inbox = PostgresInbox(self._connection, tenant_id)
        self.events = PostgresEventStream(self._connection, self._driver, tenant_id)
        self.notes = PostgresNoteRepository(self._connection, tenant_id)
        self.integrations = PostgresIntegrationRepository(self._connection, tenant_id)
        self.records = PostgresRecordStore(self._connection, tenant_id)


class PostgresUnitOfWorkFactory:
    def __init__(
        self, engine: AsyncEngine, job_app: procrastinate.App, linker: AuditLinker
    ) -> None:
        self._engine = engine
        self._job_app = job_app
        self._linker = linker

    def __call__(self, tenant_id: UUID | None = None) -> PostgresUnitOfWork:
        return PostgresUnitOfWork(self._engine, self._job_app, self._linker, tenant_id)


def _reason(error: BaseException) -> str:
    original = getattr(error, "orig", None) or error
    return str(original).strip().splitlines()[0] if str(original).strip() else type(error).__name__
