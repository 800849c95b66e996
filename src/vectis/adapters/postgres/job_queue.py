"""procrastinate, deferring jobs on the unit of work's own connection and transaction."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import procrastinate
from procrastinate import exceptions as job_errors
from psycopg import AsyncConnection
from sqlalchemy.ext.asyncio import AsyncConnection as SAConnection

from vectis.adapters.postgres.database import libpq_url, runtime_connect_options
from vectis.application.jobs import NAMESPACE, job_blueprint


def create_job_app(runtime_url: str) -> procrastinate.App:
    """The procrastinate app on our database, logged in as the runtime role."""
    connector = procrastinate.PsycopgConnector(
        conninfo=libpq_url(runtime_url),
        kwargs=runtime_connect_options(),
        min_size=1,
        max_size=4,
    )
    app = procrastinate.App(connector=connector)
    app.add_tasks_from(job_blueprint(), namespace=NAMESPACE)
    return app


class ProcrastinateJobQueue:
    """A ``JobQueue`` whose jobs commit or roll back with the unit of work."""

    def __init__(self, app: procrastinate.App, connection: SAConnection) -> None:
        self._app = app
        self._connection = connection

    async def defer(
        self,
        task_name: str,
        arguments: Mapping[str, Any],
        *,
        queueing_lock: str | None = None,
        lock: str | None = None,
    ) -> bool:
        raw = await self._connection.get_raw_connection()
        driver_connection = raw.driver_connection
        assert isinstance(driver_connection, AsyncConnection)
        deferrer = self._app.configure_task(
            task_name, connection=driver_connection, queueing_lock=queueing_lock, lock=lock
        )
        # A savepoint, so that "already queued" does not abort the caller's transaction.
        savepoint = await self._connection.begin_nested()
        try:
            await deferrer.defer_async(**arguments)
        except job_errors.AlreadyEnqueued:
            await savepoint.rollback()
            return False
        await savepoint.commit()
        return True
