"""Applies the Alembic migrations (which include procrastinate's schema) as the owner role."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, make_url, text
from sqlalchemy.exc import DBAPIError, OperationalError

from vectis.adapters.postgres.database import create_owner_engine
from vectis.application.errors import ConfigurationError, ServiceUnavailable

MIGRATIONS = Path(__file__).parent / "migrations"
_LOCK = "SELECT pg_advisory_xact_lock(hashtext('vectis-migrate'))"


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def migrate(owner_url: str) -> tuple[str | None, str]:
    """Bring the schema to the latest revision in one transaction; return (before, after).

    Running it again changes nothing; two processes migrating at once take turns.
    """
    engine = create_owner_engine(owner_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text(_LOCK))
            return await connection.run_sync(_upgrade)
    except OperationalError as error:
        where = make_url(owner_url).render_as_string(hide_password=True)
        reason = str(error.orig).strip().splitlines()[0] if str(error.orig).strip() else "no answer"
        raise ServiceUnavailable(f"cannot reach the database at {where}: {reason}") from error
    except DBAPIError as error:
        raise ConfigurationError(f"migration failed: {error.orig}") from error
    finally:
        await engine.dispose()


def _upgrade(connection: Connection) -> tuple[str | None, str]:
    before = current_revision(connection)
    config = _config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
    return before, head_revision()


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config
