"""A vendor's Retry-After header is read as seconds or a date, and an odd one is ignored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from vectis.adapters.vendors._http.transport import retry_after

NOW = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)


def _after(value: str) -> timedelta | None:
    """As a vendor's response carries it: bytes, which httpx decodes (UTF-8 here)."""
    return retry_after(httpx.Headers({"Retry-After": value.encode()}), now=NOW)


def test_seconds_and_dates_are_read() -> None:
    assert _after("120") == timedelta(seconds=120)
    soon = NOW + timedelta(minutes=5)
    waited = _after(soon.strftime("%a, %d %b %Y %H:%M:%S GMT"))
    assert waited is not None and timedelta(minutes=4) < waited <= timedelta(minutes=5)


def test_a_date_without_a_zone_is_taken_as_utc() -> None:
    soon = NOW + timedelta(minutes=5)
    waited = _after(soon.strftime("%a, %d %b %Y %H:%M:%S -0000"))
    assert waited is not None and timedelta(minutes=4) < waited <= timedelta(minutes=5)


@pytest.mark.parametrize("value", ["9" * 40, "Fri, 31 Dec 9999 23:59:59 GMT"])
def test_a_wait_is_never_longer_than_a_day(value: str) -> None:
    assert _after(value) == timedelta(days=1)


@pytest.mark.parametrize("value", ["²", "١٢", "soon", "Mon, 99 Foo 2026", "-5", "1.5"])
def test_an_odd_header_is_ignored(value: str) -> None:
    assert _after(value) is None
