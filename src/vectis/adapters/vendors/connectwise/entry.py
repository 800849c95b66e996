"""ConnectWise Manage as the vendor registry lists it: credentials, rate limit, gateways."""

from __future__ import annotations

from vectis.adapters.vendors._entry import (
    CredentialField,
    EmptyBaseUrl,
    IdForm,
    SyncSource,
    Ticketing,
    VendorEntry,
    WebhookParser,
    WebhookSubscriptions,
)
from vectis.adapters.vendors.connectwise.client import ConnectWiseClient
from vectis.adapters.vendors.connectwise.settings import ConnectWiseAccount, ConnectWiseOptions
from vectis.adapters.vendors.connectwise.sync import ConnectWiseSync
from vectis.adapters.vendors.connectwise.ticketing import ConnectWiseTicketing
from vectis.adapters.vendors.connectwise.webhooks import (
    ConnectWiseWebhooks,
    ConnectWiseWebhookSubscriptions,
)

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
    ports={
        SyncSource: lambda link: ConnectWiseSync(
            ConnectWiseClient.of(link), ConnectWiseOptions.of(link)
        ),
        Ticketing: lambda link: ConnectWiseTicketing(
            ConnectWiseClient.of(link), ConnectWiseOptions.of(link)
        ),
        WebhookParser: lambda link: ConnectWiseWebhooks(
            link.http, ConnectWiseAccount.of(link), link.key_cache
        ),
        WebhookSubscriptions: lambda link: ConnectWiseWebhookSubscriptions(
            ConnectWiseClient.of(link)
        ),
    },
    fills=frozenset({"tickets", "contacts", "contracts", "devices"}),
)
