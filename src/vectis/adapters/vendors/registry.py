"""The one explicit list of vendors and the gateways each offers."""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from vectis.adapters.postgres.rate_limits import PostgresRateLimiter
from vectis.adapters.vendors import connectwise
from vectis.adapters.vendors._entry import Link, VendorEntry
from vectis.adapters.vendors.connectwise.client import ConnectWiseAccount
from vectis.adapters.vendors.connectwise.gateway import (
    ConnectWiseCallbackSubscriptions,
    ConnectWiseTicketing,
)
from vectis.adapters.vendors.connectwise.webhooks import ConnectWiseCallbacks
from vectis.application.ports import WebhookParser, WebhookSubscriptions
from vectis.domain.alerting import Alerting
from vectis.domain.errors import VendorRejected
from vectis.domain.integration import Credentials, Integration
from vectis.domain.sync import SyncSource
from vectis.domain.ticketing import Ticketing


def _connectwise(link: Link) -> ConnectWiseAccount:
    return ConnectWiseAccount.from_credentials(link.integration.base_url, link.credentials)


VENDORS: Mapping[str, VendorEntry] = {
    # ConnectWise publishes no limit (UNCONFIRMED in the reference pack): a conservative default,
    # overridable per integration with the `requests_per_minute` setting.
    connectwise.VENDOR: VendorEntry(
        label="ConnectWise Manage",
        requests_per_minute=600,
        burst=20,
        credential_fields=(),
        base_url_hint="https://api-na.myconnectwise.net/v4_6_release",
        ticketing=lambda link: ConnectWiseTicketing(link.http, _connectwise(link), link.limit),
        webhooks=lambda link: ConnectWiseCallbacks(link.http, _connectwise(link), link.key_cache),
        subscriptions=lambda link: ConnectWiseCallbackSubscriptions(
            link.http, _connectwise(link), link.limit
        ),
    ),
}


class VendorConnectors:
    """Implements the ``Connectors`` port over the registry, sharing one HTTP client."""

    def __init__(self, http: httpx.AsyncClient, limiter: PostgresRateLimiter) -> None:
        self._http = http
        self._limiter = limiter
        self._key_cache: dict[str, tuple[float, bytes]] = {}

    def sync_source(self, integration: Integration, credentials: Credentials) -> SyncSource:
        entry = _entry(integration)
        if entry.sync is None:
            raise VendorRejected(f"Vectis cannot sync {entry.label} yet")
        return entry.sync(self._link(entry, integration, credentials))

    def ticketing(self, integration: Integration, credentials: Credentials) -> Ticketing:
        entry = _entry(integration)
        if entry.ticketing is None:
            raise VendorRejected(f"{entry.label} has no tickets")
        return entry.ticketing(self._link(entry, integration, credentials))

    def alerting(self, integration: Integration, credentials: Credentials) -> Alerting:
        entry = _entry(integration)
        if entry.alerting is None:
            raise VendorRejected(f"{entry.label} has no alerts Vectis can acknowledge")
        return entry.alerting(self._link(entry, integration, credentials))

    def webhooks(self, integration: Integration, credentials: Credentials) -> WebhookParser:
        entry = _entry(integration)
        if entry.webhooks is None:
            raise VendorRejected(f"{entry.label} sends no webhooks Vectis reads")
        return entry.webhooks(self._link(entry, integration, credentials))

    def webhook_subscriptions(
        self, integration: Integration, credentials: Credentials
    ) -> WebhookSubscriptions:
        entry = _entry(integration)
        if entry.subscriptions is None:
            raise VendorRejected(f"{entry.label} cannot push changes to Vectis")
        return entry.subscriptions(self._link(entry, integration, credentials))

    def _link(self, entry: VendorEntry, integration: Integration, credentials: Credentials) -> Link:
        per_minute = float(integration.setting("requests_per_minute", entry.requests_per_minute))
        return Link(
            http=self._http,
            integration=integration,
            credentials=credentials,
            limit=self._limiter.for_integration(
                integration.tenant_id, integration.id, per_minute=per_minute, burst=entry.burst
            ),
            key_cache=self._key_cache,
        )


def _entry(integration: Integration) -> VendorEntry:
    try:
        return VENDORS[integration.vendor]
    except KeyError:
        raise VendorRejected(f"no connector for vendor {integration.vendor!r}") from None
