"""The one explicit list of vendors and the gateways each offers."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import httpx
from attrs import frozen

from vectis.adapters.vendors import connectwise
from vectis.adapters.vendors.connectwise.client import ConnectWiseAccount
from vectis.adapters.vendors.connectwise.gateway import (
    ConnectWiseCallbackSubscriptions,
    ConnectWiseTicketing,
)
from vectis.adapters.vendors.connectwise.webhooks import ConnectWiseCallbacks
from vectis.application.ports import WebhookParser, WebhookSubscriptions
from vectis.domain.errors import VendorRejected
from vectis.domain.integration import Credentials, Integration
from vectis.domain.ticketing import Ticketing


@frozen(kw_only=True)
class VendorEntry:
    label: str
    ticketing: Callable[[httpx.AsyncClient, Integration, Credentials], Ticketing] | None = None
    webhooks: Callable[[VendorConnectors, Integration, Credentials], WebhookParser] | None = None
    subscriptions: (
        Callable[[httpx.AsyncClient, Integration, Credentials], WebhookSubscriptions] | None
    ) = None


VENDORS: Mapping[str, VendorEntry] = {
    connectwise.VENDOR: VendorEntry(
        label="ConnectWise Manage",
        ticketing=lambda http, integration, credentials: ConnectWiseTicketing(
            http, ConnectWiseAccount.from_credentials(integration.base_url, credentials)
        ),
        webhooks=lambda connectors, integration, credentials: ConnectWiseCallbacks(
            connectors.http,
            ConnectWiseAccount.from_credentials(integration.base_url, credentials),
            connectors.key_cache,
        ),
        subscriptions=lambda http, integration, credentials: ConnectWiseCallbackSubscriptions(
            http, ConnectWiseAccount.from_credentials(integration.base_url, credentials)
        ),
    ),
}


class VendorConnectors:
    """Implements the ``Connectors`` port over the registry, sharing one HTTP client."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http: httpx.AsyncClient = http
        self.key_cache: dict[str, tuple[float, bytes]] = {}

    def ticketing(self, integration: Integration, credentials: Credentials) -> Ticketing:
        factory = _entry(integration).ticketing
        if factory is None:
            raise VendorRejected(f"{_entry(integration).label} has no tickets")
        return factory(self.http, integration, credentials)

    def webhooks(self, integration: Integration, credentials: Credentials) -> WebhookParser:
        factory = _entry(integration).webhooks
        if factory is None:
            raise VendorRejected(f"{_entry(integration).label} sends no webhooks Vectis reads")
        return factory(self, integration, credentials)

    def webhook_subscriptions(
        self, integration: Integration, credentials: Credentials
    ) -> WebhookSubscriptions:
        factory = _entry(integration).subscriptions
        if factory is None:
            raise VendorRejected(f"{_entry(integration).label} cannot push changes to Vectis")
        return factory(self.http, integration, credentials)


def _entry(integration: Integration) -> VendorEntry:
    try:
        return VENDORS[integration.vendor]
    except KeyError:
        raise VendorRejected(f"no connector for vendor {integration.vendor!r}") from None
