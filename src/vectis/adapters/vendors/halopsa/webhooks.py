"""HaloPSA webhooks: registering Vectis's receiver, and reading what Halo posts to it.

Halo signs nothing, so a delivery proves itself with the Basic credentials
Vectis registered (``vectis`` : the integration's ``webhook_secret``), compared in constant time.

Halo's payload shape is UNCONFIRMED; the parser reads the ticket (or ticket id) it carries and
leaves the rest to the next sync. A delivery whose newest own time is older than
``webhook_max_age_hours`` is refused as stale (a replayed capture), one dated more than a few
minutes ahead of Vectis's clock as from the future, and one whose times are not times at all
as malformed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from vectis.adapters.vendors._kit.records import UNREADABLE, read_each
from vectis.adapters.vendors._webhooks import check_fresh, header, read_json
from vectis.adapters.vendors.halopsa import mapping, wire
from vectis.adapters.vendors.halopsa.client import HaloClient, one, unwrap
from vectis.adapters.vendors.halopsa.settings import HaloSettings
from vectis.application.errors import WebhookRejected
from vectis.domain.errors import InvalidValue, VendorRejected
from vectis.domain.events import InboundEvent

WEBHOOK_USERNAME = "vectis"

_TIME_KEYS = ("timestamp", "datetime", "date", "event_date")
_TICKET_TIME_KEYS = ("last_update", "lastupdate", "flastupdate", "lastactiondate")


class HaloWebhooks:
    """Authenticates and reads webhook deliveries for one integration."""

    def __init__(self, *, secret: str | None, base_url: str, settings: HaloSettings) -> None:
        self._secret = secret
        self._base_url = base_url.rstrip("/")
        self._settings = settings

    async def parse(
        self, headers: Mapping[str, str], body: bytes, received_at: datetime
    ) -> list[InboundEvent]:
        self._authenticate(headers)
        document = read_json(body, "the delivery")
        # Halo can batch deliveries (its webhook "batch method"): an array of payloads then.
        documents = document if isinstance(document, list) else [document]
        if not documents or not all(isinstance(item, dict) for item in documents):
            raise WebhookRejected("the delivery is not a JSON object", malformed=True)
        events: list[InboundEvent] = []
        for index, item in enumerate(documents):
            self._check_fresh(item, received_at)
            delivery = _delivery_id(item, body) + (f":{index}" if len(documents) > 1 else "")
            try:
                events += mapping.webhook_events(
                    item,
                    received_at=received_at,
                    delivery_id=delivery,
                    base_url=self._base_url,
                    closed_status_ids=self._settings.closed_status_ids,
                )
            except UNREADABLE as error:
                raise WebhookRejected(
                    "the delivery carries an unreadable ticket", malformed=True
                ) from error
        return events

    def _authenticate(self, headers: Mapping[str, str]) -> None:
        if not self._secret:
            raise WebhookRejected("the integration has no webhook secret")
        authorization = header(headers, "authorization")
        scheme, _, encoded = (authorization or "").strip().partition(" ")
        if scheme.lower() != "basic" or not encoded:
            raise WebhookRejected("the delivery carries no Basic credentials")
        try:
            presented = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise WebhookRejected("the delivery's Basic credentials are not base64") from None
        expected = f"{WEBHOOK_USERNAME}:{self._secret}".encode()
        if not hmac.compare_digest(presented, expected):
            raise WebhookRejected("the delivery's credentials do not match")

    def _check_fresh(self, document: Mapping[str, Any], received_at: datetime) -> None:
        try:
            stated = _stated_time(document)
        except InvalidValue as error:
            raise WebhookRejected(
                f"the delivery's time is unreadable: {error}", malformed=True
            ) from error
        if stated is not None:
            check_fresh(
                stated,
                received_at,
                max_age=timedelta(hours=self._settings.webhook_max_age_hours),
                what="the delivery",
            )


class HaloWebhookSubscriptions:
    """``WebhookSubscriptions``: one outbound webhook per receiver, authenticated with Basic."""

    def __init__(self, client: HaloClient, settings: HaloSettings, secret: str | None) -> None:
        self._client = client
        self._settings = settings
        self._secret = secret

    async def ensure_subscribed(self, receiver_url: str) -> str:
        if not self._secret:
            raise VendorRejected("the integration has no webhook secret to give HaloPSA")
        rows, _ = unwrap(await self._client.get("/Webhook"), self._settings.key("/Webhook"))
        hooks, _ = read_each("webhooks", rows, lambda raw: wire.structure(raw, wire.Webhook))
        for hook in hooks:
            if hook.url == receiver_url and hook.id and hook.active is not False:
                return str(hook.id)
        body = mapping.new_webhook(
            receiver_url,
            username=WEBHOOK_USERNAME,
            password=self._secret,
            events=self._settings.webhook_events,
        )
        created = one(await self._client.post("/Webhook", [body]))
        try:
            webhook_id = str(wire.structure(created, wire.Webhook).id)
        except UNREADABLE:
            webhook_id = ""
        if not webhook_id:
            raise VendorRejected("HaloPSA did not return the new webhook's id")
        return webhook_id


def _stated_time(document: Mapping[str, Any]) -> datetime | None:
    """The newest time the delivery states about itself or its ticket; ``InvalidValue`` if one
    of them is no time at all."""
    ticket = document.get("ticket")
    sources = [(document, _TIME_KEYS)]
    sources.append((ticket if isinstance(ticket, Mapping) else document, _TICKET_TIME_KEYS))
    times = [
        mapping.read_time(value)
        for source, keys in sources
        for key in keys
        if isinstance(value := source.get(key), str)
    ]
    known = [moment for moment in times if moment is not None]
    return max(known) if known else None


def _delivery_id(document: Mapping[str, Any], body: bytes) -> str:
    """Halo's id of this delivery if it names one, else a digest of the body."""
    for key in ("webhook_event_id", "event_id", "guid"):
        value = document.get(key)
        if isinstance(value, str) and value:
            return value
    return hashlib.sha256(body).hexdigest()[:32]
