"""HaloPSA as the vendor registry lists it: credentials, rate limit, gateway factories."""

from __future__ import annotations

from vectis.adapters.vendors._entry import (
    WEBHOOK_SECRET,
    CredentialField,
    EmptyBaseUrl,
    IdForm,
    Link,
    SyncSource,
    Ticketing,
    VendorEntry,
    WebhookParser,
    WebhookSubscriptions,
)
from vectis.adapters.vendors.halopsa.client import HaloClient
from vectis.adapters.vendors.halopsa.settings import HaloSettings
from vectis.adapters.vendors.halopsa.sync import HaloSync
from vectis.adapters.vendors.halopsa.ticketing import HaloTicketing
from vectis.adapters.vendors.halopsa.webhooks import HaloWebhooks, HaloWebhookSubscriptions


def _settings(link: Link) -> HaloSettings:
    return HaloSettings.of(link)


def _client(link: Link) -> HaloClient:
    return HaloClient.of(link)


ENTRY = VendorEntry(
    label="HaloPSA",
    # Halo publishes no request limit (UNCONFIRMED in the reference pack): a conservative
    # default, overridable per integration with the `requests_per_minute` setting.
    requests_per_minute=300,
    burst=20,
    credential_fields=(
        CredentialField(key="client_id", label="Client ID (API application)", secret=False),
        CredentialField(key="client_secret", label="Client secret"),
        CredentialField(
            key="tenant",
            label="Tenant (hosted Halo only; leave empty otherwise)",
            secret=False,
            optional=True,
        ),
    ),
    base_url_hint="https://yourcompany.halopsa.com — the address agents sign in at, without /api",
    empty_base_url=EmptyBaseUrl(
        why="each HaloPSA tenant has its own address, the one agents sign in at"
    ),
    record_ids={"ticket": IdForm.NUMBER, "company": IdForm.NUMBER},
    ports={
        SyncSource: lambda link: HaloSync(_client(link), _settings(link)),
        Ticketing: lambda link: HaloTicketing(_client(link), _settings(link)),
        WebhookParser: lambda link: HaloWebhooks(
            secret=link.credentials.get(WEBHOOK_SECRET),
            base_url=link.integration.base_url,
            settings=_settings(link),
        ),
        WebhookSubscriptions: lambda link: HaloWebhookSubscriptions(
            _client(link), _settings(link), link.credentials.get(WEBHOOK_SECRET)
        ),
    },
    fills=frozenset({"tickets", "contacts", "contracts", "devices"}),
)
