"""The runtime logs in as a role with no more rights than it needs, and refuses to run with more."""

from __future__ import annotations

import uuid
from collections import defaultdict

import psycopg
import pytest
from psycopg import sql

from tests.conftest import app_connection, owner_connection, runtime_url
from tests.factories import make_tenant
from vectis.adapters.postgres import privileges
from vectis.application.errors import ConfigurationError
from vectis.application.services import Services
from vectis.container import Runtime
from vectis.settings import Settings

# Every privilege vectis_app holds on an object outside the system schemas, one row each.
INVENTORY = r"""
SELECT CASE c.relkind WHEN 'S' THEN 'sequence' ELSE 'table' END, c.relname::text, p.privilege
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES',
                        'TRIGGER', 'USAGE']) AS p(privilege)
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
  AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
  AND CASE
    WHEN c.relkind = 'S' THEN p.privilege IN ('SELECT', 'UPDATE', 'USAGE')
        AND has_sequence_privilege('vectis_app', c.oid, p.privilege)
    WHEN p.privilege IN ('SELECT', 'INSERT', 'UPDATE', 'REFERENCES')
        THEN has_any_column_privilege('vectis_app', c.oid, p.privilege)
    WHEN p.privilege = 'USAGE' THEN false
    ELSE has_table_privilege('vectis_app', c.oid, p.privilege) END
UNION ALL
SELECT 'function', f.oid::regprocedure::text,
       CASE WHEN f.prosecdef THEN 'EXECUTE AS OWNER' ELSE 'EXECUTE' END
FROM pg_proc f JOIN pg_namespace n ON n.oid = f.pronamespace
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
  AND has_function_privilege('vectis_app', f.oid, 'EXECUTE')
UNION ALL
SELECT 'schema', n.nspname, p.privilege
FROM pg_namespace n CROSS JOIN unnest(ARRAY['USAGE', 'CREATE']) AS p(privilege)
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
  AND has_schema_privilege('vectis_app', n.oid, p.privilege)
UNION ALL
SELECT 'database', 'current', p.privilege
FROM unnest(ARRAY['CREATE', 'TEMPORARY', 'CONNECT']) AS p(privilege)
WHERE has_database_privilege('vectis_app', current_database(), p.privilege)
"""


def test_the_runtime_role_reaches_exactly_the_allowlisted_objects(database_url: str) -> None:
    with owner_connection(database_url) as owner:
        granted: dict[tuple[str, str], set[str]] = defaultdict(set)
        for kind, name, privilege in owner.execute(INVENTORY):
            granted[(kind, name)].add(privilege)

    job_queue = {
        name: held
        for (kind, name), held in granted.items()
        if kind == "function" and name.startswith(privileges.JOB_QUEUE_FUNCTION_PREFIX)
    }
    actual = {key: frozenset(held) for key, held in granted.items() if key[1] not in job_queue}
    expected = {
        **{("database", name): held for name, held in privileges.DATABASE.items()},
        **{("schema", name): held for name, held in privileges.SCHEMAS.items()},
        **{("table", name): held for name, held in privileges.TABLES.items()},
        **{("sequence", name): held for name, held in privileges.SEQUENCES.items()},
        **{("function", name): held for name, held in privileges.FUNCTIONS.items()},
    }
    unexpected = {key: held for key, held in actual.items() if expected.get(key) != held}
    missing = {key: held for key, held in expected.items() if actual.get(key) != held}
    assert unexpected == {}, "grant these in privileges.py or revoke them in a migration"
    assert missing == {}, "privileges.py lists privileges the runtime role does not hold"
    assert job_queue, "the job queue's functions are executable"
    assert all(held == {"EXECUTE"} for held in job_queue.values())


def test_the_runtime_login_cannot_leave_its_role(database_url: str) -> None:
    with app_connection(database_url) as connection:
        assert connection.execute("SELECT current_user, session_user").fetchone() == (
            "vectis_app",
            "vectis_app",
        )
        connection.execute("RESET ROLE")
        assert connection.execute("SELECT current_user").fetchone() == ("vectis_app",)
        owner = connection.execute(
            "SELECT tableowner FROM pg_tables WHERE tablename = 'tenants'"
        ).fetchone()
        assert owner is not None
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            connection.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(owner[0])))


async def test_without_a_tenant_only_the_tenant_named_by_its_slug_is_visible(
    services: Services, database_url: str
) -> None:
    north = await make_tenant(services, "North IT")
    south = await make_tenant(services, "South IT")

    with app_connection(database_url) as connection:
        everything = connection.execute("SELECT count(*) FROM tenants").fetchone()
        connection.execute(
            "SELECT set_config('vectis.lookup_slug', %s, true)", (north.tenant.slug,)
        )
        named = [row[0] for row in connection.execute("SELECT id FROM tenants")]
        connection.rollback()
        ids = {row[0] for row in connection.execute("SELECT vectis_tenant_ids()")}
        columns = connection.execute("SELECT * FROM vectis_tenant_ids() LIMIT 1").description

    assert everything == (0,)
    assert named == [north.tenant.id]
    assert {north.tenant.id, south.tenant.id} <= ids
    assert columns is not None and len(columns) == 1, "bare ids, nothing else of a tenant"


async def test_services_refuse_to_run_on_the_owners_login(
    settings: Settings, database_url: str
) -> None:
    runtime = Runtime(settings.replace(app_database_url=database_url))
    with runtime.database(), pytest.raises(ConfigurationError) as refused:
        async with runtime.services():
            pass
    message = str(refused.value)
    assert "superuser" in message
    assert "VECTIS_APP_DATABASE_URL" in message
    assert "\n" not in message


async def test_services_refuse_an_external_server_without_a_runtime_login(
    settings: Settings,
) -> None:
    runtime = Runtime(settings.replace(app_database_url=None))
    with runtime.database(), pytest.raises(ConfigurationError, match="VECTIS_APP_DATABASE_URL"):
        async with runtime.services():
            pass


async def test_a_login_that_can_become_a_superuser_is_refused(
    settings: Settings, database_url: str
) -> None:
    login = f"vectis_sneaky_{uuid.uuid4().hex[:8]}"
    with owner_connection(database_url) as owner:
        superuser = owner.execute("SELECT current_user").fetchone()
        assert superuser is not None
        owner.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(login)))
        owner.execute(sql.SQL("GRANT vectis_app TO {}").format(sql.Identifier(login)))
        owner.execute(
            sql.SQL("GRANT {} TO {}").format(sql.Identifier(superuser[0]), sql.Identifier(login))
        )
    try:
        sneaky = runtime_url(database_url).replace("vectis_app:", f"{login}:", 1)
        runtime = Runtime(settings.replace(app_database_url=sneaky))
        with runtime.database(), pytest.raises(ConfigurationError, match="is a superuser"):
            async with runtime.services():
                pass
    finally:
        with owner_connection(database_url) as owner:
            owner.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(login)))


async def test_a_member_of_the_runtime_role_may_run(settings: Settings, database_url: str) -> None:
    login = f"vectis_web_{uuid.uuid4().hex[:8]}"
    with owner_connection(database_url) as owner:
        owner.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(login)))
        owner.execute(sql.SQL("GRANT vectis_app TO {}").format(sql.Identifier(login)))
    try:
        member = runtime_url(database_url).replace("vectis_app:", f"{login}:", 1)
        runtime = Runtime(settings.replace(app_database_url=member))
        with runtime.database():
            async with runtime.services() as services:
                tenant = await services.tenancy.create_tenant("Member IT")
        assert tenant.slug == "member-it"
    finally:
        with owner_connection(database_url) as owner:
            owner.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(login)))
            owner.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(login)))
