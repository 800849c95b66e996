"""Many rows in one round of work: ``COPY`` into a session-local staging table, then one
``INSERT … SELECT`` from it with the conflict handling and ``RETURNING`` the caller needs.

A multi-row ``VALUES`` list makes the driver parse a statement with thousands of placeholders
on every batch, and array parameters are encoded element by element in Python; binary
``COPY`` is encoded by the driver's C code and keeps every statement short and constant.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from functools import cache
from typing import Any

import psycopg
from attrs import frozen
from psycopg.rows import namedtuple_row
from psycopg.types.json import Jsonb
from sqlalchemy import Table
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import JSON, JSONB
from sqlalchemy.ext.asyncio import AsyncConnection

_DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]
# psycopg's names for the column types our tables use (binary COPY needs them spelled out).
_COPY_TYPES = {
    "UUID": "uuid",
    "TEXT": "text",
    "BOOLEAN": "bool",
    "INTEGER": "int4",
    "BIGINT": "int8",
    "DOUBLE PRECISION": "float8",
    "DATE": "date",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "JSONB": "jsonb",
    "JSON": "json",
}


@frozen
class Staged:
    """Rows copied into a staging table, waiting for ``apply`` in the same transaction."""

    statement: str
    returning: bool


async def stage_rows(
    connection: AsyncConnection,
    table: Table,
    columns: Sequence[str],
    rows: Collection[Sequence[Any]],
    *,
    conflict: Sequence[str] = (),
    update: Sequence[str] = (),
    only_if_changed: Sequence[str] = (),
    conflict_where: str = "",
    returning: str = "",
) -> Staged | None:
    """Copy ``rows`` (values in the order of ``columns``) into a session-local staging table,
    as tuples rather than mappings: a sync stages a hundred thousand rows. Nothing is
    locked yet, so a caller may stage while another transaction still holds rows it needs.
    ``apply`` then inserts them: on a ``conflict`` it does nothing or updates the ``update``
    columns — only where one of ``only_if_changed`` differs, when given."""
    if not rows:
        return None
    columns = tuple(columns)
    types = tuple(_copy_type(table, column) for column in columns)
    stage, create, insert = _statements(
        table.name,
        columns,
        tuple(conflict),
        tuple(update),
        tuple(only_if_changed),
        conflict_where,
        returning,
    )
    driver = await _driver(connection)
    jsonish = {index for index, kind in enumerate(types) if kind in ("json", "jsonb")}
    async with driver.cursor() as cursor:
        # Each time, not once per connection: a rolled-back transaction takes its DDL along.
        await cursor.execute(create)
        async with cursor.copy(f"COPY {stage} FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(list(types))
            for row in rows:
                if jsonish:
                    values = list(row)
                    for index in jsonish:
                        values[index] = Jsonb(values[index])
                    await copy.write_row(values)
                else:
                    await copy.write_row(row)
    return Staged(statement=insert, returning=bool(returning))


async def apply(connection: AsyncConnection, staged: Staged | None) -> list[Any]:
    """Move staged rows into their table; the ``RETURNING`` rows as named tuples."""
    if staged is None:
        return []
    driver = await _driver(connection)
    async with driver.cursor(row_factory=namedtuple_row) as cursor:
        await cursor.execute(staged.statement)
        return await cursor.fetchall() if staged.returning else []


async def _driver(connection: AsyncConnection) -> psycopg.AsyncConnection[Any]:
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    assert isinstance(driver, psycopg.AsyncConnection)
    return driver


@cache
def _statements(
    table: str,
    columns: tuple[str, ...],
    conflict: tuple[str, ...],
    update: tuple[str, ...],
    only_if_changed: tuple[str, ...],
    conflict_where: str,
    returning: str,
) -> tuple[str, str, str]:
    """The staging table's name, its DDL, and the insert from it.

    Identifiers come from the SQLAlchemy ``Table`` (unknown names fail the type lookup first);
    every value travels through ``COPY``.
    """
    names = ", ".join(columns)
    stage = f"stage_{table}_{hashlib.sha256(names.encode()).hexdigest()[:8]}"
    create = (
        f"CREATE TEMP TABLE IF NOT EXISTS {stage} ON COMMIT DELETE ROWS AS "  # noqa: S608
        f"SELECT {names} FROM {table} WITH NO DATA"
    )
    # The rows leave the staging table as they go in, so it can be staged again at once.
    sql = (
        f"WITH staged AS (DELETE FROM {stage} RETURNING {names}) "  # noqa: S608
        f"INSERT INTO {table} AS t ({names}) SELECT {names} FROM staged"
    )
    if conflict:
        target = f"({', '.join(conflict)})" + (f" WHERE {conflict_where}" if conflict_where else "")
        if update:
            assignments = ", ".join(f"{column} = EXCLUDED.{column}" for column in update)
            sql += f" ON CONFLICT {target} DO UPDATE SET {assignments}"
            if only_if_changed:
                old = ", ".join(f"t.{column}" for column in only_if_changed)
                new = ", ".join(f"EXCLUDED.{column}" for column in only_if_changed)
                sql += f" WHERE ({old}) IS DISTINCT FROM ({new})"
        else:
            sql += f" ON CONFLICT {target} DO NOTHING"
    if returning:
        sql += f" RETURNING {returning}"
    return stage, create, sql


def _copy_type(table: Table, column: str) -> str:
    kind = table.c[column].type
    if isinstance(kind, JSON):
        return "jsonb" if isinstance(kind, JSONB) else "json"
    compiled = str(kind.compile(dialect=_DIALECT))
    return _COPY_TYPES[compiled.upper()]
