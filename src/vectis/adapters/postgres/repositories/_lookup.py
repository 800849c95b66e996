"""The narrow cross-tenant lookups: a row becomes visible only to a caller who names its key."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection


@asynccontextmanager
async def lookup_key(connection: AsyncConnection, kind: str, value: str) -> AsyncIterator[None]:
    """Expose rows whose ``kind`` (``email`` or ``digest``) equals ``value`` for one query."""
    setting = f"vectis.lookup_{kind}"
    await connection.execute(select(func.set_config(setting, value, True)))
    try:
        yield
    finally:
        await connection.execute(select(func.set_config(setting, "", True)))
