"""Engines for the two database logins: the owner (migrations) and the runtime role (all else)."""

from __future__ import annotations

from sqlalchemy import make_url
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

APP_ROLE = "vectis_app"


def sqlalchemy_url(url: str) -> URL:
    """The URL with the psycopg 3 async driver, whatever scheme the operator wrote."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise ValueError(f"not a PostgreSQL URL: {parsed.render_as_string(hide_password=True)}")
    return parsed.set(drivername="postgresql+psycopg")


def libpq_url(url: str) -> str:
    """The URL as libpq (and so psycopg and procrastinate) understands it."""
    return sqlalchemy_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def runtime_connect_options() -> dict[str, str]:
    """Options for the runtime pools: every statement planned for its own parameters.

    Statements are prepared (the driver does so after a few runs), but always planned for
    their parameters: a generic plan made while a table was small (a first sync filling it)
    would otherwise stay a sequential scan long after the table has grown."""
    return {"options": "-c plan_cache_mode=force_custom_plan"}


def create_owner_engine(owner_url: str) -> AsyncEngine:
    return create_async_engine(sqlalchemy_url(owner_url), pool_size=2, max_overflow=2)


def create_runtime_engine(runtime_url: str, *, pool_size: int = 10) -> AsyncEngine:
    """The pool every request and job uses, logged in as the runtime role (RLS applies)."""
    return create_async_engine(
        sqlalchemy_url(runtime_url),
        connect_args=runtime_connect_options(),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_recycle=1800,
    )
