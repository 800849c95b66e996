"""Readiness: the database answers as the runtime role and its schema is at our head revision."""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from vectis.adapters.postgres.database import APP_ROLE
from vectis.adapters.postgres.migrator import head_revision
from vectis.application.ports import Readiness

_TIMEOUT_SECONDS = 3.0
_NOT_MIGRATED = Readiness(
    database_ok=True,
    schema_current=False,
    detail="the database has no Vectis schema yet: run `vectis migrate`",
)


class PostgresDatabaseProbe:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._head = head_revision()

    async def readiness(self) -> Readiness:
        try:
            async with asyncio.timeout(_TIMEOUT_SECONDS), self._engine.connect() as connection:
                current = (
                    await connection.execute(text("SELECT version_num FROM alembic_version"))
                ).scalar()
        except ProgrammingError:
            return _NOT_MIGRATED
        except (SQLAlchemyError, OSError, TimeoutError) as error:
            reason = str(getattr(error, "orig", error)).strip()
            if f'role "{APP_ROLE}" does not exist' in reason:
                return _NOT_MIGRATED  # the first migration creates the runtime role
            first_line = reason.splitlines()[0] if reason else type(error).__name__
            return Readiness(
                database_ok=False,
                schema_current=False,
                detail=f"database unavailable: {first_line}",
            )
        if current != self._head:
            return Readiness(
                database_ok=True,
                schema_current=False,
                detail=f"schema at revision {current}, this Vectis needs {self._head}: "
                "run `vectis migrate`",
            )
        return Readiness(database_ok=True, schema_current=True, detail=f"schema at {current}")
