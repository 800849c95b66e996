"""NinjaOne webhooks: registering the API client's one webhook, and reading its deliveries.

NinjaOne signs nothing. ``ensure_subscribed`` registers the webhook with a custom header
carrying the integration's ``webhook_secret``; a delivery without exactly that value is refused.
Each delivery is one activity. Deliveries older than ``webhook_max_age_seconds`` (by
``activityTime``) are refused as replays, and so are deliveries dated more than a few minutes
ahead of Vectis's clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from vectis.adapters.vendors._kit.records import UNREADABLE, UnreadableRecord
from vectis.adapters.vendors._webhooks import check_fresh, header, read_json, same_secret
from vectis.adapters.vendors.ninjaone import mapping, wire
from vectis.adapters.vendors.ninjaone.client import NinjaOneClient
from vectis.adapters.vendors.ninjaone.settings import NinjaOneOptions
from vectis.application.errors import WebhookRejected
from vectis.domain.events import InboundEvent

WEBHOOK_SECRET_HEADER = "X-Vectis-Webhook-Secret"  # noqa: S105 - a header name


class NinjaOneWebhookSubscriptions:
    """``WebhookSubscriptions`` on NinjaOne: one webhook per API client, set with ``PUT``."""

    def __init__(self, client: NinjaOneClient, options: NinjaOneOptions, secret: str) -> None:
        self._client = client
        self._options = options
        self._secret = secret

    async def ensure_subscribed(self, receiver_url: str) -> str:
        await self._client.put(
            "/webhook",
            mapping.webhook_body(
                receiver_url,
                activities=self._options.webhook_filter(),
                expand=self._options.webhook_expand,
                header=WEBHOOK_SECRET_HEADER,
                secret=self._secret,
            ),
        )
        return self._client.account.client_id


class NinjaOneWebhooks:
    """Verifies and reads deliveries for one integration."""

    def __init__(self, secret: str, options: NinjaOneOptions) -> None:
        self._secret = secret.encode()
        self._options = options

    async def parse(
        self, headers: Mapping[str, str], body: bytes, received_at: datetime
    ) -> list[InboundEvent]:
        presented = header(headers, WEBHOOK_SECRET_HEADER) or ""
        if not self._secret or not same_secret(presented, self._secret):
            raise WebhookRejected(f"the delivery carries no valid {WEBHOOK_SECRET_HEADER} header")
        document = read_json(body, "the delivery")
        try:
            if not isinstance(document, dict):
                raise UnreadableRecord("not a JSON object")
            activity = wire.structure(document, wire.Activity)
            happened = mapping.at(activity.activityTime)
        except UNREADABLE as error:
            raise WebhookRejected(
                "the delivery is not a NinjaOne activity", malformed=True
            ) from error
        check_fresh(
            happened,
            received_at,
            max_age=timedelta(seconds=self._options.webhook_max_age_seconds),
            what="the delivery",
        )
        if mapping.is_patch_completion(activity):
            # One delivery per device: the activities sync reports the cycle per organisation.
            return []
        try:
            ref = mapping.device_ref(activity.device) if activity.device else None
            event = mapping.activity_event(activity, ref)
        except UNREADABLE as error:  # an over-long id
            raise WebhookRejected(
                f"the delivery's activity is unreadable: {error}", malformed=True
            ) from error
        return [] if event is None else [event]
