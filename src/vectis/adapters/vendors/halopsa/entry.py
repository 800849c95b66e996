"""HaloPSA as the vendor registry lists it: credentials, rate limit, gateway factories."""

from __future__ import annotations

from vectis.adapters.vendors._entry import (
    WEBHOOK_SECRET,
    CredentialField,
    EmptyBaseUrl,
    IdForm,
    Link,
    VendorEntry,
)
from vectis.adapters.vendors.halopsa.client import HaloAccount, HaloClient
from vectis.adapters.vendors.halopsa.gateway import HaloSync, HaloWebhookSubscriptions
from vectis.adapters.vendors.halopsa.settings import HaloSettings
from vectis.adapters.vendors.halopsa.ticketing import HaloTicketing
from vectis.adapters.vendors.halopsa.webhooks import HaloWebhooks


def _settings(link: Link) -> HaloSettings:
    return HaloSettings.of(link.integration)


def _client(link: Link) -> HaloClient:
    account = HaloAccount.from_credentials(
        link.integration.base_url, link.credentials, scope=_settings(link).scope
    )
    # The token cache is the registry's shared key cache: one token per OAuth client and
    # process, however many gateways are built.
    return HaloClient(
        link.http, account, limit=link.limit, token_cache=link.key_cache, clock=link.clock
    )


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
    sync=lambda link: HaloSync(_client(link), _settings(link)),
    ticketing=lambda link: HaloTicketing(_client(link), _settings(link)),
    webhooks=lambda link: HaloWebhooks(
        secret=link.credentials.get(WEBHOOK_SECRET),
        base_url=link.integration.base_url,
        settings=_settings(link),
    ),
    subscriptions=lambda link: HaloWebhookSubscriptions(
        _client(link), _settings(link), link.credentials.get(WEBHOOK_SECRET)
    ),
)
