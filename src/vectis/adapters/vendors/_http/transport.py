"""One way to call a vendor: timeouts, backoff with jitter, Retry-After, errors classified.

Only requests that are safe to repeat are retried after the vendor may have acted on them;
a POST is retried only when it never reached the vendor (connection refused, DNS).
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import logging
import random
from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import httpx
from attrs import frozen

from vectis.adapters.clock import SystemClock
from vectis.application.ports import Clock
from vectis.domain.errors import (
    VendorAuthFailed,
    VendorError,
    VendorNotFound,
    VendorRateLimited,
    VendorRejected,
    VendorUnavailable,
)

logger = logging.getLogger(__name__)
_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
_LONGEST_RETRY_AFTER = timedelta(days=1)


@frozen(kw_only=True)
class RetryPolicy:
    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 30.0

    def delay(self, attempt: int) -> float:
        """Full-jitter exponential backoff for the given (1-based) attempt."""
        return random.uniform(0, min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))  # noqa: S311


class RateLimit(Protocol):
    """An integration's documented limits: requests a minute and, where the vendor documents
    one, requests in flight at once — both across every process."""

    async def acquire(self) -> float:
        """Wait until one more request may go out; return the seconds waited."""
        ...

    def hold(self) -> AbstractAsyncContextManager[None]:
        """A slot for one request in flight, held for the block (a no-op without a limit)."""
        ...


class Unpaced:
    """No limit at all: for a call made before the integration exists (checking new
    credentials), and for tests."""

    async def acquire(self) -> float:
        return 0.0

    def hold(self) -> AbstractAsyncContextManager[None]:
        return contextlib.nullcontext()


UNPACED = Unpaced()


class VendorTransport:
    """Sends requests for one vendor and turns failures into domain errors."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        vendor: str,
        limit: RateLimit | None = None,
        retry: RetryPolicy | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._client = client
        self._vendor = vendor
        self._limit = limit
        self._retry = retry or RetryPolicy()
        self.clock: Clock = clock or SystemClock()
        """The time a ``Retry-After`` date is read against, and the connector's "now"."""

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Send one request (``json`` or form ``data``), retrying what is safe to retry."""
        method = method.upper()
        for attempt in range(1, self._retry.attempts + 1):
            in_flight: AbstractAsyncContextManager[None] = contextlib.nullcontext()
            if self._limit is not None:
                await self._limit.acquire()
                in_flight = self._limit.hold()
            try:
                async with in_flight:
                    response = await self._client.request(
                        method, url, headers=headers, params=params, json=json, data=data
                    )
            except httpx.ConnectError as error:
                failure: VendorError = VendorUnavailable(f"{self._vendor} is unreachable: {error}")
            except httpx.TimeoutException as error:
                failure = VendorUnavailable(f"{self._vendor} did not answer in time")
                if method not in _IDEMPOTENT:
                    raise failure from error
            except httpx.HTTPError as error:
                raise VendorUnavailable(f"{self._vendor}: {error}") from error
            except httpx.InvalidURL as error:
                raise VendorRejected(f"{self._vendor}: the URL is malformed ({error})") from None
            else:
                if response.is_success:
                    return response
                failure = classify(self._vendor, response, now=self.clock.now())
                if not failure.retriable or (
                    method not in _IDEMPOTENT and not isinstance(failure, VendorRateLimited)
                ):
                    raise failure
            if attempt == self._retry.attempts:
                raise failure
            wait = self._retry.delay(attempt)
            if isinstance(failure, VendorRateLimited) and failure.retry_after is not None:
                wait = min(self._retry.max_delay, failure.retry_after.total_seconds())
            logger.info("%s: %s; retrying in %.1fs", self._vendor, failure, wait)
            await asyncio.sleep(wait)
        raise AssertionError("unreachable")


def json_body(response: httpx.Response, vendor: str, *, allow_empty: bool = False) -> Any:
    """A response's JSON; ``VendorRejected`` when it is not JSON (``None`` for an empty body
    when ``allow_empty``, as vendors answer 204s and some writes)."""
    if allow_empty and not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        raise VendorRejected(f"{vendor} answered with a body that is not JSON") from None


def classify(vendor: str, response: httpx.Response, *, now: datetime) -> VendorError:
    """The domain error for a vendor's non-success response received at ``now``."""
    status = response.status_code
    detail = _detail(response)
    if status == 429:
        return VendorRateLimited(
            f"{vendor} rate limit reached", retry_after=retry_after(response.headers, now=now)
        )
    if status in (401, 403):
        return VendorAuthFailed(f"{vendor} refused the credentials ({status}){detail}")
    if status == 404:
        return VendorNotFound(f"{vendor} has no such object{detail}")
    if status >= 500:
        return VendorUnavailable(f"{vendor} answered {status}{detail}")
    return VendorRejected(f"{vendor} rejected the request ({status}){detail}")


def retry_after(headers: httpx.Headers, *, now: datetime) -> timedelta | None:
    """Parse ``Retry-After`` as seconds or as an HTTP date (read against ``now``), at most a day
    away; ``None`` when it is neither (a vendor's odd header never fails its request)."""
    raw = headers.get("retry-after")
    if not raw:
        return None
    raw = raw.strip()
    if raw.isascii() and raw.isdigit():
        return min(_LONGEST_RETRY_AFTER, timedelta(seconds=int(raw[:12])))
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000": the date is UTC, its source unknown (RFC 5322)
        when = when.replace(tzinfo=UTC)
    return min(_LONGEST_RETRY_AFTER, max(timedelta(0), when - now))


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    if isinstance(body, dict):
        message = (
            body.get("error_description")  # OAuth token endpoints
            or body.get("message")
            or body.get("error")
            or body.get("title")
        )
        if isinstance(message, str) and message:
            return f": {message[:200]}"
    return ""
