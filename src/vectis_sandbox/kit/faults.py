"""Fault switches and a rate limit every sandboxed vendor shares, as Falcon ASGI middleware.

Tests flip a switch on the vendor's ``Faults`` and the next matching requests misbehave the
way real clouds do: 5xx, a hang past the client's timeout, a body that is not JSON, 429 with
``Retry-After``, or credentials that have expired.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import falcon.asgi
from attrs import define, field

from vectis_sandbox.kit.errors import VendorError


@define
class Faults:
    """Counters of requests still to spoil, by kind; ``path_contains`` narrows which."""

    server_errors: int = 0
    timeouts: int = 0
    timeout_seconds: float = 30.0
    malformed: int = 0
    rate_limited: int = 0
    retry_after: int = 1
    credentials_expired: bool = False
    lost_responses: int = 0
    """Requests the vendor carries out but answers only after ``timeout_seconds``: the client
    gives up not knowing the write happened (what idempotency keys are for)."""
    path_contains: str = ""
    requests_per_second: float | None = None
    """When set, a token bucket that answers 429 + ``Retry-After`` when exceeded."""
    requests: list[tuple[str, str]] = field(factory=list)
    """Every ``(method, path?query)`` served, so tests can count calls."""
    _tokens: float = 0.0
    _refilled: float = field(factory=time.monotonic)

    def clear(self) -> None:
        self.server_errors = self.timeouts = self.malformed = self.rate_limited = 0
        self.credentials_expired = False
        self.path_contains = ""
        self.requests_per_second = None


class FaultMiddleware:
    """Applies a ``Faults`` before the vendor's own handlers (and before its auth check).

    ``expired`` is the vendor's own answer for expired credentials: (status, JSON body).
    """

    def __init__(self, faults: Faults, *, expired: tuple[int, Any]) -> None:
        self._faults = faults
        self._expired = expired

    async def process_request(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        faults = self._faults
        target = req.path + (f"?{req.query_string}" if req.query_string else "")
        faults.requests.append((req.method, target))
        if faults.path_contains and faults.path_contains not in req.path:
            return
        if faults.credentials_expired:
            status, body = self._expired
            raise VendorError(status, body)
        if faults.rate_limited > 0:
            faults.rate_limited -= 1
            raise _rate_limited(faults.retry_after)
        if faults.requests_per_second:
            self._take_token(faults)
        if faults.server_errors > 0:
            faults.server_errors -= 1
            raise VendorError(500, {"message": "Internal server error"})
        if faults.timeouts > 0:
            faults.timeouts -= 1
            await asyncio.sleep(faults.timeout_seconds)
        if faults.malformed > 0:
            faults.malformed -= 1
            raise VendorError(200, b'{"items": [{"id": 1, "title": "trunc')

    async def process_response(
        self,
        req: falcon.asgi.Request,
        resp: falcon.asgi.Response,
        resource: object,
        req_succeeded: bool,
    ) -> None:
        faults = self._faults
        if faults.lost_responses > 0 and req.method != "GET" and req_succeeded:
            if faults.path_contains and faults.path_contains not in req.path:
                return
            faults.lost_responses -= 1
            await asyncio.sleep(faults.timeout_seconds)

    def _take_token(self, faults: Faults) -> None:
        assert faults.requests_per_second
        now = time.monotonic()
        burst = max(1.0, faults.requests_per_second)
        faults._tokens = min(
            burst, faults._tokens + (now - faults._refilled) * faults.requests_per_second
        )
        faults._refilled = now
        if faults._tokens < 1:
            wait = max(1, int((1 - faults._tokens) / faults.requests_per_second + 0.999))
            raise _rate_limited(wait)
        faults._tokens -= 1


def _rate_limited(retry_after: int) -> VendorError:
    return VendorError(
        429, {"message": "Rate limit exceeded"}, headers={"Retry-After": str(retry_after)}
    )
