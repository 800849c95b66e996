"""ConnectWise callbacks: verify ``x-content-signature`` with the key behind ``key_url``.

The signing key is fetched from the callback's ``Metadata.key_url`` — but only from a pinned
ConnectWise host (the cloud hosts, or the integration's own host), never from an arbitrary
URL a forged payload names. key = SHA-256(signing_key); signature = base64(HMAC-SHA256(key, body)).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from datetime import datetime
from urllib.parse import urlsplit

import cattrs
import httpx

from vectis.adapters.vendors.connectwise import mapping, wire
from vectis.adapters.vendors.connectwise.client import ConnectWiseAccount, ConnectWiseClient
from vectis.application.errors import WebhookRejected
from vectis.domain.errors import VendorError
from vectis.domain.events import InboundEvent

SIGNATURE_HEADER = "x-content-signature"
CLOUD_HOST_SUFFIX = ".myconnectwise.net"
KEY_CACHE_SECONDS = 600


class ConnectWiseCallbacks:
    """Verifies and parses callback deliveries for one integration."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        account: ConnectWiseAccount,
        key_cache: dict[str, tuple[float, bytes]],
    ) -> None:
        self._client = ConnectWiseClient(http, account)
        self._account = account
        self._key_cache = key_cache

    async def parse(
        self, headers: Mapping[str, str], body: bytes, received_at: datetime
    ) -> list[InboundEvent]:
        signature = headers.get(SIGNATURE_HEADER)
        if not signature:
            raise WebhookRejected(f"the callback carries no {SIGNATURE_HEADER} header")
        try:
            callback = wire.structure(json.loads(body), wire.Callback)
        except (ValueError, cattrs.BaseValidationError) as error:
            raise WebhookRejected(
                "the callback body is not a ConnectWise callback", malformed=True
            ) from error
        key = await self._signing_key(callback.Metadata.key_url)
        expected = base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode()
        if not hmac.compare_digest(expected, signature.strip()):
            raise WebhookRejected("the callback signature does not match")
        try:
            return mapping.callback_events(callback, received_at)
        except VendorError as error:
            raise WebhookRejected(str(error), malformed=True) from error

    async def _signing_key(self, key_url: str) -> bytes:
        self._check_pinned(key_url)
        cached = self._key_cache.get(key_url)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        try:
            document = await self._client.signing_key(key_url)
        except VendorError as error:
            raise WebhookRejected(f"could not fetch the callback's signing key: {error}") from error
        signing_key = document.get("signing_key") if isinstance(document, dict) else None
        if not isinstance(signing_key, str) or not signing_key:
            raise WebhookRejected("ConnectWise's key URL returned no signing_key")
        key = hashlib.sha256(signing_key.encode()).digest()
        self._key_cache[key_url] = (time.monotonic() + KEY_CACHE_SECONDS, key)
        return key

    def _check_pinned(self, key_url: str) -> None:
        parts = urlsplit(key_url)
        own = urlsplit(self._account.base_url)
        same_host = (parts.scheme, parts.netloc) == (own.scheme, own.netloc)
        cloud = parts.scheme == "https" and (parts.hostname or "").endswith(CLOUD_HOST_SUFFIX)
        if not (same_host or cloud):
            raise WebhookRejected(
                f"the callback's key_url points at {parts.netloc or key_url!r}, "
                "which is not a ConnectWise host of this integration"
            )
