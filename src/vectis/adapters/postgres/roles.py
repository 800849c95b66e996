"""The runtime login: provisioned for the embedded server, and checked to hold no more rights.

Requests, jobs and commands log in *as* a role that is no superuser, cannot bypass row-level
security or create roles, owns nothing and can become no role that does — ``vectis_app``
itself, or a login that is a member of it. Then no SQL-level foothold in the runtime can
``RESET ROLE`` its way past row-level security.
"""

from __future__ import annotations

import psycopg
from psycopg import sql
from sqlalchemy import make_url, text
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from vectis.adapters.postgres.database import APP_ROLE, libpq_url
from vectis.application.errors import ConfigurationError, ServiceUnavailable

_SET_APP_URL = "set VECTIS_APP_DATABASE_URL to a login that is only a member of vectis_app"

# One row: who we are, and every reason that login holds more than the runtime role may.
_RIGHTS = """
SELECT current_user AS login,
    EXISTS (SELECT 1 FROM pg_roles r WHERE pg_has_role(current_user, r.oid, 'MEMBER')
            AND r.rolsuper) AS superuser,
    EXISTS (SELECT 1 FROM pg_roles r WHERE pg_has_role(current_user, r.oid, 'MEMBER')
            AND r.rolbypassrls) AS bypasses_rls,
    EXISTS (SELECT 1 FROM pg_roles r WHERE pg_has_role(current_user, r.oid, 'MEMBER')
            AND r.rolcreaterole) AS creates_roles,
    EXISTS (SELECT 1 FROM pg_database d WHERE d.datname = current_database()
            AND pg_has_role(current_user, d.datdba, 'MEMBER'))
    OR EXISTS (SELECT 1 FROM pg_namespace n WHERE n.nspname NOT LIKE 'pg\\_%'
            AND n.nspname <> 'information_schema'
            AND pg_has_role(current_user, n.nspowner, 'MEMBER'))
    OR EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'
            AND pg_has_role(current_user, c.relowner, 'MEMBER')) AS owns_objects,
    EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = :app_role
            AND pg_has_role(current_user, r.oid, 'USAGE')) AS runtime_member
"""


def runtime_login_url(owner_url: str, password: str) -> str:
    """The owner's URL (same server and database) logged in as ``vectis_app`` instead."""
    return (
        make_url(owner_url)
        .set(username=APP_ROLE, password=password)
        .render_as_string(hide_password=False)
    )


async def provision_runtime_login(owner_url: str, password: str) -> str:
    """Let ``vectis_app`` log in with ``password`` (as the owner, who must be able to alter
    roles: the embedded server's and the tests' superuser); return the runtime URL."""
    async with await psycopg.AsyncConnection.connect(
        libpq_url(owner_url), autocommit=True
    ) as connection:
        cursor = await connection.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (APP_ROLE,))
        if await cursor.fetchone() is None:
            raise ConfigurationError("the database has no Vectis schema yet: run `vectis migrate`")
        await connection.execute(
            sql.SQL("ALTER ROLE {} WITH LOGIN PASSWORD {}").format(
                sql.Identifier(APP_ROLE), sql.Literal(password)
            )
        )
    return runtime_login_url(owner_url, password)


async def check_runtime_login(engine: AsyncEngine) -> None:
    """Refuse, in one line, to run on a login with more rights than the runtime role's."""
    try:
        async with engine.connect() as connection:
            row = (await connection.execute(text(_RIGHTS), {"app_role": APP_ROLE})).mappings().one()
    except (OperationalError, OSError) as error:
        raise ServiceUnavailable(f"the database does not answer: {_first_line(error)}") from None
    except SQLAlchemyError as error:
        raise ConfigurationError(
            f"cannot check the runtime login's rights: {_first_line(error)}"
        ) from None
    login = row["login"]
    excess = [
        reason
        for reason, held in (
            ("is a superuser", row["superuser"]),
            ("can bypass row-level security", row["bypasses_rls"]),
            ("can create roles", row["creates_roles"]),
            ("owns the database, a schema or a table", row["owns_objects"]),
        )
        if held
    ]
    if excess:
        raise ConfigurationError(
            f"refusing to run as the database login {login!r}, which {' and '.join(excess)} "
            f"(itself or through a role it can become): {_SET_APP_URL}"
        )
    if not row["runtime_member"]:
        raise ConfigurationError(
            f"the database login {login!r} is not a member of {APP_ROLE}: "
            f"GRANT {APP_ROLE} TO {login}, or run `vectis migrate` first if it does not exist"
        )


def _first_line(error: BaseException) -> str:
    reason = str(getattr(error, "orig", None) or error).strip()
    return reason.splitlines()[0] if reason else type(error).__name__
