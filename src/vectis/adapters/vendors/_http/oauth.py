"""Calling an API as an OAuth2 client (client-credentials grant), as HaloPSA and NinjaOne ask.

The bearer token is fetched with a form POST through the vendor's transport, cached until
shortly before it expires (in a cache that outlives one client, so jobs reuse it), and
renewed once when the vendor refuses a cached token (revoked, or expired early).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from typing import Any

import httpx
from attrs import field, frozen

from vectis.adapters.vendors._http.transport import (
    RateLimit,
    RetryPolicy,
    VendorTransport,
    json_body,
)
from vectis.application.ports import Clock
from vectis.domain.errors import VendorAuthFailed, VendorRejected

MARGIN_SECONDS = 60
DEFAULT_LIFETIME_SECONDS = 3600.0

TokenCache = dict[str, tuple[float, bytes]]


@frozen(kw_only=True)
class ClientCredentials:
    token_url: str
    client_id: str
    client_secret: str = field(repr=False)
    scope: str
    token_params: Mapping[str, str] = field(factory=dict)

    @property
    def cache_key(self) -> str:
        """Names this client's token in the cache: every part of the grant, the secret as a
        digest, so a new secret (or tenant, or scope) never reuses the old token."""
        secret = hashlib.sha256(self.client_secret.encode()).hexdigest()[:16]
        params = "&".join(f"{key}={value}" for key, value in sorted(self.token_params.items()))
        return f"oauth-token:{self.token_url}?{params}:{self.client_id}:{self.scope}:{secret}"


class OAuthApi:
    """A JSON API reached as an OAuth2 client: the vendor's transport, a bearer session whose
    token outlives the client (``token_cache``), and the API's root URL."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        vendor: str,
        api_url: str,
        credentials: ClientCredentials,
        limit: RateLimit | None = None,
        token_cache: TokenCache | None = None,
        clock: Clock | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.transport = VendorTransport(http, vendor=vendor, limit=limit, clock=clock, retry=retry)
        self.session = BearerSession(
            self.transport, vendor, credentials, token_cache if token_cache is not None else {}
        )
        self.api_url = api_url

    @property
    def clock(self) -> Clock:
        return self.transport.clock

    async def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> httpx.Response:
        """Send ``method`` to ``path`` under the API root with the bearer token."""
        return await self.session.request(method, self.api_url + path, params=params, json=json)


class BearerSession:
    """Sends requests with a bearer token for one OAuth client."""

    def __init__(
        self,
        transport: VendorTransport,
        vendor: str,
        client: ClientCredentials,
        cache: TokenCache,
    ) -> None:
        self._transport = transport
        self._vendor = vendor
        self._client = client
        self._cache = cache

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> httpx.Response:
        token, fresh = await self._token()
        try:
            return await self._send(method, url, token, params, json)
        except VendorAuthFailed:
            if fresh:
                raise
            self._cache.pop(self._client.cache_key, None)
            token, _ = await self._token()
            return await self._send(method, url, token, params, json)

    async def _send(
        self,
        method: str,
        url: str,
        token: str,
        params: Mapping[str, Any] | None,
        json: Any,
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        return await self._transport.request(method, url, headers=headers, params=params, json=json)

    async def _token(self) -> tuple[str, bool]:
        """The bearer token, and whether it was fetched just now."""
        cached = self._cache.get(self._client.cache_key)
        if cached and cached[0] > time.monotonic():
            return cached[1].decode(), False
        token, lifetime = await self._fetch()
        expires = time.monotonic() + max(lifetime - MARGIN_SECONDS, lifetime / 2)
        self._cache[self._client.cache_key] = (expires, token.encode())
        return token, True

    async def _fetch(self) -> tuple[str, float]:
        client = self._client
        form = {
            "grant_type": "client_credentials",
            "client_id": client.client_id,
            "client_secret": client.client_secret,
            "scope": client.scope,
        }
        try:
            response = await self._transport.request(
                "POST",
                client.token_url,
                data=form,
                params=dict(client.token_params) or None,
                headers={"Accept": "application/json"},
            )
        except VendorRejected as error:
            # OAuth refuses unknown clients and wrong secrets with 400 or 401 (invalid_client).
            raise VendorAuthFailed(
                f"{self._vendor} refused the client credentials: {error}"
            ) from error
        document = json_body(response, self._vendor)
        token = document.get("access_token") if isinstance(document, dict) else None
        if not isinstance(token, str) or not token:
            raise VendorRejected(f"{self._vendor} issued no access_token")
        try:
            lifetime = float(document.get("expires_in", DEFAULT_LIFETIME_SECONDS))
        except (TypeError, ValueError):
            lifetime = DEFAULT_LIFETIME_SECONDS
        return token, max(lifetime, 1.0)
