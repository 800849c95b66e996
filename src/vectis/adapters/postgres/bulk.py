"""Many rows in one statement: ``INSERT … SELECT FROM unnest(arrays)`` with one array per column.

A multi-row ``VALUES`` list makes the driver parse a statement with thousands of placeholders
on every batch; one array per column keeps the statement short and constant, so a page of
500 records costs one round trip and almost no client-side work.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy import Table
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import JSON, JSONB
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

_DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]


async def insert_rows(
    connection: AsyncConnection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    conflict: Sequence[str] = (),
    update: Sequence[str] = (),
    only_if_changed: Sequence[str] = (),
    conflict_where: str = "",
    returning: str = "",
) -> Sequence[Row[Any]]:
    """Insert ``rows`` (all with the same keys); on a ``conflict`` either do nothing or update
    the ``update`` columns — only where one of ``only_if_changed`` differs, when given."""
    if not rows:
        return []
    columns = tuple(rows[0])
    statement = _statement(
        table.name,
        columns,
        tuple(_array_type(table, column) for column in columns),
        tuple(conflict),
        tuple(update),
        tuple(only_if_changed),
        conflict_where,
        returning,
    )
    jsonish = {column for column in columns if isinstance(table.c[column].type, JSON | JSONB)}
    parameters = tuple(
        [Jsonb(row[column]) if column in jsonish else row[column] for row in rows]
        for column in columns
    )
    result = await connection.exec_driver_sql(statement, parameters)
    return result.all() if returning else []


@cache
def _statement(
    table: str,
    columns: tuple[str, ...],
    types: tuple[str, ...],
    conflict: tuple[str, ...],
    update: tuple[str, ...],
    only_if_changed: tuple[str, ...],
    conflict_where: str,
    returning: str,
) -> str:
    names = ", ".join(columns)
    arrays = ", ".join(f"%b::{kind}[]" for kind in types)  # %b: sent in binary, unescaped
    # Identifiers come from the SQLAlchemy Table (unknown names fail the lookup first);
    # every value travels as a parameter.
    sql = f"INSERT INTO {table} AS t ({names}) SELECT * FROM unnest({arrays})"  # noqa: S608
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
    return sql


def _array_type(table: Table, column: str) -> str:
    kind = table.c[column].type
    if isinstance(kind, JSON):
        return "jsonb" if isinstance(kind, JSONB) else "json"
    return str(kind.compile(dialect=_DIALECT)).lower()
