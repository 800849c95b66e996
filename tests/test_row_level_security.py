"""Tenant isolation is enforced by PostgreSQL itself, whatever the query forgets."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import text

from tests.conftest import app_connection, owner_connection
from tests.factories import make_tenant
from vectis.adapters.postgres.tables import TENANT_TABLES
from vectis.application.services import Services
from vectis.container import Container


async def test_a_query_without_a_tenant_filter_sees_only_the_bound_tenant(
    services: Services, database_url: str
) -> None:
    north = await make_tenant(services, "North IT", customers=("Acme", "Birch"))
    south = await make_tenant(services, "South IT", customers=("Cobalt",))

    with app_connection(database_url) as connection:
        connection.execute(
            "SELECT set_config('vectis.tenant_id', %s, true)", (str(north.tenant.id),)
        )
        names = {row[0] for row in connection.execute("SELECT name FROM customers")}
        audit_tenants = {row[0] for row in connection.execute("SELECT tenant_id FROM audit_log")}

    assert names == {"Acme", "Birch"}
    assert audit_tenants == {north.tenant.id}
    assert south.tenant.id not in audit_tenants


async def test_with_no_tenant_set_every_tenant_table_is_empty(
    services: Services, database_url: str
) -> None:
    await make_tenant(services)

    with app_connection(database_url) as connection:
        counts = {
            table: connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # type: ignore[index]
            for table in TENANT_TABLES
        }

    assert counts == dict.fromkeys(TENANT_TABLES, 0)


async def test_writing_a_row_for_another_tenant_is_refused(
    services: Services, database_url: str
) -> None:
    north = await make_tenant(services, "North IT")
    south = await make_tenant(services, "South IT")

    with app_connection(database_url) as connection:
        connection.execute(
            "SELECT set_config('vectis.tenant_id', %s, true)", (str(north.tenant.id),)
        )
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            connection.execute(
                "INSERT INTO customers (id, tenant_id, name, slug) VALUES (gen_random_uuid(), %s, 'x', 'x')",
                (str(south.tenant.id),),
            )


async def test_updates_and_deletes_cannot_reach_another_tenant(
    services: Services, database_url: str
) -> None:
    north = await make_tenant(services, "North IT", customers=("Acme",))
    south = await make_tenant(services, "South IT", customers=("Cobalt",))

    with app_connection(database_url) as connection:
        connection.execute(
            "SELECT set_config('vectis.tenant_id', %s, true)", (str(north.tenant.id),)
        )
        renamed = connection.execute(
            "UPDATE customers SET name = 'pwned' RETURNING name"
        ).fetchall()
        deleted = connection.execute(
            "DELETE FROM sites WHERE customer_id = %s RETURNING id", (str(south.customers[0].id),)
        ).fetchall()
        connection.commit()

    with owner_connection(database_url) as owner:
        cobalt = owner.execute(
            "SELECT name FROM customers WHERE id = %s", (str(south.customers[0].id),)
        ).fetchone()
    assert len(renamed) == 1
    assert deleted == []
    assert cobalt == ("Cobalt",)


async def test_a_pooled_connection_forgets_the_previous_transactions_tenant(
    services: Services, container: Container
) -> None:
    north = await make_tenant(services, "North IT", customers=("Acme",))
    engine = container.engine()
    engine.pool.dispose()

    async with engine.connect() as connection:
        first_pid = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar()
        await connection.execute(
            text("SELECT set_config('vectis.tenant_id', :tenant, true)"),
            {"tenant": str(north.tenant.id)},
        )
        seen_inside = (await connection.execute(text("SELECT count(*) FROM customers"))).scalar()
        await connection.commit()

    async with engine.connect() as reused:
        second_pid = (await reused.execute(text("SELECT pg_backend_pid()"))).scalar()
        seen_after = (await reused.execute(text("SELECT count(*) FROM customers"))).scalar()

    assert first_pid == second_pid, "the pool should hand back the same connection"
    assert seen_inside == 1
    assert seen_after == 0


async def test_a_tenant_setting_rolled_back_with_its_transaction_leaves_nothing(
    services: Services, container: Container
) -> None:
    north = await make_tenant(services, "North IT", customers=("Acme",))
    engine = container.engine()
    engine.pool.dispose()

    async with engine.connect() as connection:
        await connection.execute(
            text("SELECT set_config('vectis.tenant_id', :tenant, true)"),
            {"tenant": str(north.tenant.id)},
        )
        await connection.rollback()
    async with engine.connect() as reused:
        assert (await reused.execute(text("SELECT count(*) FROM customers"))).scalar() == 0


def test_every_table_with_a_tenant_id_forces_row_level_security(database_url: str) -> None:
    with owner_connection(database_url) as owner:
        rows = owner.execute(
            """
            SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind = 'r'
              AND EXISTS (SELECT 1 FROM pg_attribute a
                          WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
            """
        ).fetchall()
    unprotected = [name for name, enabled, forced in rows if not (enabled and forced)]
    # sign_in_throttle too, though the runtime role cannot read it at all (only functions do).
    assert {name for name, *_ in rows} == {*TENANT_TABLES, "sign_in_throttle"}
    assert unprotected == []


def test_the_policy_uses_the_tenant_index(database_url: str) -> None:
    with app_connection(database_url) as connection:
        connection.execute("SET enable_seqscan = off")
        connection.execute(
            "SELECT set_config('vectis.tenant_id', '00000000-0000-0000-0000-000000000001', true)"
        )
        plan = "\n".join(
            row[0]
            for row in connection.execute(
                "EXPLAIN SELECT * FROM events "
                "WHERE customer_id = '00000000-0000-0000-0000-000000000002' "
                "ORDER BY occurred_at DESC LIMIT 10"
            )
        )
    assert "events_by_customer_time" in plan
    assert "InitPlan" in plan or "vectis_current_tenant" in plan
