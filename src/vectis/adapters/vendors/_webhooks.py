"""What every vendor's webhook parser shares: reading the body and judging the delivery's date.

A delivery is untrusted bytes until it is verified, and may be odd even then: whatever cannot be
read is a malformed delivery (400), never an error of ours (500), and a delivery dated outside
the window around our clock is refused like a forged one (401).
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from vectis.application.errors import WebhookRejected

MAX_FUTURE_SKEW = timedelta(minutes=5)
"""How far ahead of Vectis's clock a delivery may be dated: clock drift, not a capture to replay
later (a delivery dated a month ahead would stay fresh for a month)."""


def read_json(body: bytes, what: str) -> Any:
    """The delivery's JSON document: bad UTF-8, bad JSON, ``NaN`` and ``Infinity``, and nesting
    too deep to read are a malformed delivery. (NUL characters and lone surrogates are refused
    earlier, at the HTTP edge, with every other request's.)"""
    try:
        return json.loads(body, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as error:
        raise WebhookRejected(f"{what} is not JSON", malformed=True) from error


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A delivery's header by name, whatever its case (the receiver hands them over
    lower-cased; a parser called directly, as the contract tests do, may get any case)."""
    wanted = name.lower()
    found = headers.get(wanted)
    if found is not None:
        return found
    return next((value for key, value in headers.items() if key.lower() == wanted), None)


def check_fresh(stated: datetime, received_at: datetime, *, max_age: timedelta, what: str) -> None:
    """Refuse a delivery dated more than ``max_age`` before it arrived (a replayed capture) or
    more than ``MAX_FUTURE_SKEW`` after (a capture dated ahead to be replayed later)."""
    if received_at - stated > max_age:
        raise WebhookRejected(f"{what} is stale: it is dated {stated.isoformat()}")
    if stated - received_at > MAX_FUTURE_SKEW:
        raise WebhookRejected(f"{what} is dated {stated.isoformat()}, in the future")


def same_secret(presented: str, expected: str | bytes) -> bool:
    """Constant-time comparison of a header value with the expected secret or signature; a
    header with non-ASCII characters simply does not match."""
    wanted = expected.encode() if isinstance(expected, str) else expected
    return hmac.compare_digest(presented.encode("utf-8", "surrogatepass"), wanted)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")
