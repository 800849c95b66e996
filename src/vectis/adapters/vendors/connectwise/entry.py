"""ConnectWise Manage as the vendor registry lists it: credentials, rate limit, gateways."""

from __future__ import annotations

from vectis.adapters.vendors._entry import (
    CredentialField,
    EmptyBaseUrl,
    IdForm,
    Link,
    VendorEntry,
)
from vectis.adapters.vendors.connectwise.client import ConnectWiseAccount, ConnectWiseOptions
from vectis.adapters.vendors.connectwise.gateway import ConnectWiseSync
from vectis.adapters.vendors.connectwise.ticketing import (
    ConnectWiseCallbackSubscriptions,
    ConnectWiseTicketing,
)
from vectis.adapters.vendors.connectwise.webhooks import ConnectWiseCallbacks


def _account(link: Link) -> ConnectWiseAccount:
    return ConnectWiseAccount.from_credentials(link.integration.base_url, link.credentials)


def _options(link: Link) -> ConnectWiseOptions:
    return ConnectWiseOptions.from_integration(link.integration)


ENTRY = VendorEntry(
    label="ConnectWise Manage",
    # ConnectWise publishes no request limit (UNCONFIRMED in the reference pack): a
    # conservative default, overridable per integration with the `requests_per_minute` setting.
    requests_per_minute=600,
    burst=20,
    credential_fields=(
        CredentialField(key="company_id", label="Company ID", secret=False),
        CredentialField(key="public_key", label="Public API key", secret=False),
        CredentialField(key="private_key", label="Private API key"),
        CredentialField(
            key="client_id", label="Client ID (developer.connectwise.com)", secret=False
        ),
    ),
    base_url_hint=(
        "Your ConnectWise cloud with its codebase, e.g. "
        "https://api-eu.myconnectwise.net/v4_6_release (also api-na., api-au.)"
    ),
    # ConnectWise documents one cloud host per region and no default among them.
    empty_base_url=EmptyBaseUrl(
        why="ConnectWise has a cloud per region and no default",
        choices=(
            "https://api-na.myconnectwise.net/v4_6_release",
            "https://api-eu.myconnectwise.net/v4_6_release",
            "https://api-au.myconnectwise.net/v4_6_release",
        ),
    ),
    record_ids={"ticket": IdForm.NUMBER, "company": IdForm.NUMBER},
    sync=lambda link: ConnectWiseSync(
        link.http, _account(link), link.limit, _options(link), clock=link.clock
    ),
    ticketing=lambda link: ConnectWiseTicketing(
        link.http, _account(link), link.limit, _options(link), clock=link.clock
    ),
    webhooks=lambda link: ConnectWiseCallbacks(link.http, _account(link), link.key_cache),
    subscriptions=lambda link: ConnectWiseCallbackSubscriptions(
        link.http, _account(link), link.limit
    ),
)
