"""Engines for the two database roles: the owner (migrations) and the runtime role (all else)."""

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


def runtime_connect_options(app_url: str | None) -> dict[str, str]:
    """Without a URL of its own, the runtime role is assumed on the owner's connection.

    Statements are prepared (the driver does so after a few runs), but always planned for
    their parameters: a generic plan made while a table was small (a first sync filling it)
    would otherwise stay a sequential scan long after the table has grown.
    """
    options = "-c plan_cache_mode=force_custom_plan"
    return {"options": options if app_url else f"-c role={APP_ROLE} {options}"}


def create_owner_engine(owner_url: str) -> AsyncEngine:
    return create_async_engine(sqlalchemy_url(owner_url), pool_size=2, max_overflow=2)


def create_runtime_engine(
    owner_url: str, app_url: str | None = None, *, pool_size: int = 10
) -> AsyncEngine:
    """The pool every request and job uses: as ``vectis_app``, so row-level security applies."""
    return create_async_engine(
        sqlalchemy_url(app_url or owner_url),
        connect_args=runtime_connect_options(app_url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_recycle=1800,
    )
