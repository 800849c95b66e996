"""The schema comes from the migrations, which are idempotent and match the table models."""

from __future__ import annotations

import uuid

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine

from tests.conftest import _libpq
from vectis.adapters.postgres.migrator import head_revision, migrate
from vectis.adapters.postgres.tables import metadata


async def test_migrating_again_changes_nothing(database_url: str) -> None:
    assert await migrate(database_url) == (head_revision(), head_revision())


def test_the_table_models_match_the_migrated_schema(database_url: str) -> None:
    engine = create_engine(
        _libpq(database_url).replace("postgresql://", "postgresql+psycopg://", 1)
    )
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={
                    "include_object": lambda obj, name, kind, reflected, compare_to: (
                        not (
                            kind == "table"
                            and (name.startswith("procrastinate") or name == "alembic_version")
                        )
                        and kind in ("table", "column")
                    ),
                    "compare_type": True,
                },
            )
            differences = compare_metadata(context, metadata)
    finally:
        engine.dispose()
    assert differences == []


async def test_readiness_says_to_migrate_an_empty_database(
    postgres_admin_url: str, tmp_path: object
) -> None:
    from tests.conftest import TEST_SECRET_KEY, _create_database, _drop_database, _with_database
    from vectis.container import Container
    from vectis.settings import Settings

    name = f"vectis_empty_{uuid.uuid4().hex[:8]}"
    _create_database(postgres_admin_url, name)
    url = _with_database(postgres_admin_url, name)
    container = Container(
        settings=Settings(database_url=url, secret_key=TEST_SECRET_KEY),
        database_url=url,
        secret_key=TEST_SECRET_KEY,
    )
    try:
        readiness = await container.services().health.readiness()
    finally:
        await container.engine().dispose()
        _drop_database(postgres_admin_url, name)
    assert (readiness.database_ok, readiness.ready) == (True, False)
    assert "run `vectis migrate`" in readiness.detail
