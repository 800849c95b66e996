"""ConnectWise callbacks: registered by API, verified with the key behind ``key_url``, parsed.

The signing key is fetched from the callback's ``Metadata.key_url`` — but only from a pinned
ConnectWise host (https on the cloud domain, or the integration's own scheme, host and port),
parsed strictly, never from an arbitrary URL a forged payload names.
key = SHA-256(signing_key); signature = base64(HMAC-SHA256(key, body)).
A callback carries no time of its own, so its age cannot be judged: a replay is dropped by its
``MessageId`` in the inbox instead.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Mapping
from datetime import datetime

import httpx

from vectis.adapters.vendors._http.urls import vendor_url
from vectis.adapters.vendors._kit.records import UNREADABLE, read_each
from vectis.adapters.vendors._webhooks import header, read_json, same_secret
from vectis.adapters.vendors.connectwise import mapping, wire
from vectis.adapters.vendors.connectwise.client import ConnectWiseClient
from vectis.adapters.vendors.connectwise.settings import ConnectWiseAccount
from vectis.application.errors import WebhookRejected
from vectis.domain.errors import InvalidValue, VendorError, VendorRejected
from vectis.domain.events import InboundEvent

SIGNATURE_HEADER = "x-content-signature"
CLOUD_DOMAIN = "myconnectwise.net"
KEY_CACHE_SECONDS = 600


class ConnectWiseWebhooks:
    """The ``WebhookParser``: verifies and parses callback deliveries for one integration."""

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
        signature = header(headers, SIGNATURE_HEADER)
        if not signature:
            raise WebhookRejected(f"the callback carries no {SIGNATURE_HEADER} header")
        document = read_json(body, "the callback body")
        try:
            callback = wire.structure(document, wire.Callback)
        except UNREADABLE as error:
            raise WebhookRejected(
                "the callback body is not a ConnectWise callback", malformed=True
            ) from error
        key = await self._signing_key(callback.Metadata.key_url)
        expected = base64.b64encode(hmac.new(key, body, hashlib.sha256).digest())
        if not same_secret(signature.strip(), expected):
            raise WebhookRejected("the callback signature does not match")
        try:
            return mapping.callback_events(callback, received_at)
        except (VendorError, InvalidValue) as error:
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
        try:
            vendor_url(
                key_url,
                vendor="ConnectWise",
                what="callback key_url",
                origins=[self._account.base_url],
                domain=CLOUD_DOMAIN,
            )
        except VendorRejected as error:
            raise WebhookRejected(str(error)) from None


class ConnectWiseWebhookSubscriptions:
    """``WebhookSubscriptions`` on ConnectWise: one owner-level ticket callback per receiver."""

    def __init__(self, client: ConnectWiseClient) -> None:
        self._client = client

    async def ensure_subscribed(self, receiver_url: str) -> str:
        listed = await self._client.get(
            "/system/callbacks", {"conditions": f'url="{receiver_url}"', "pageSize": 100}
        )
        # The conditions clause narrows the list; the check below does not rely on it.
        existing, _ = read_each(
            "callbacks",
            listed if isinstance(listed, list) else [],
            lambda row: wire.structure(row, wire.CallbackRegistration),
        )
        for callback in existing:
            if callback.url == receiver_url and not callback.inactiveFlag:
                return str(callback.id)
        created = await self._client.post("/system/callbacks", mapping.new_callback(receiver_url))
        try:
            return str(wire.structure(created, wire.CallbackRegistration).id)
        except UNREADABLE:
            raise VendorRejected("ConnectWise did not return the new callback's id") from None
