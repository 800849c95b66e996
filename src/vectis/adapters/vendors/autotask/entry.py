"""What the registry needs to know about Autotask PSA, and its gateway factories."""

from __future__ import annotations

from vectis.adapters.vendors._entry import (
    WEBHOOK_SECRET,
    CredentialField,
    EmptyBaseUrl,
    IdForm,
    Link,
    VendorEntry,
)
from vectis.adapters.vendors.autotask.client import (
    GLOBAL_URL,
    AutotaskAccount,
    AutotaskClient,
    AutotaskSettings,
)
from vectis.adapters.vendors.autotask.gateway import (
    AutotaskSync,
    AutotaskTicketing,
    AutotaskWebhookSubscriptions,
)
from vectis.adapters.vendors.autotask.webhooks import AutotaskWebhooks
from vectis.domain.errors import VendorRejected


def client(link: Link) -> AutotaskClient:
    return AutotaskClient(
        link.http,
        AutotaskAccount.from_credentials(link.integration.base_url, link.credentials),
        AutotaskSettings.from_integration(link.integration),
        link.limit,
        clock=link.clock,
    )


def _webhook_secret(link: Link) -> str:
    secret = link.credentials.get(WEBHOOK_SECRET)
    if not secret:
        raise VendorRejected("the Autotask integration has no webhook secret")
    return secret


ENTRY = VendorEntry(
    label="Autotask PSA",
    # Autotask allows 10,000 requests per rolling hour per database, shared by every
    # integration of the MSP (about 166 a minute): Vectis keeps well under it by default.
    requests_per_minute=120,
    burst=10,
    credential_fields=(
        CredentialField(key="username", label="API user name (email)", secret=False),
        CredentialField(key="secret", label="API user secret"),
        CredentialField(key="integration_code", label="API tracking identifier"),
    ),
    base_url_hint=(
        "https://webservices5.autotask.net/atservicesrest — your zone's REST URL; "
        "leave empty to look the zone up"
    ),
    # Autotask documents zone discovery: GET zoneInformation?user= on the global host names
    # the zone's REST root, which the client looks up (again after a 401) when this is empty.
    empty_base_url=EmptyBaseUrl(discovery=GLOBAL_URL),
    record_ids={"ticket": IdForm.NUMBER, "company": IdForm.NUMBER},
    sync=lambda link: AutotaskSync(
        client(link), AutotaskSettings.from_integration(link.integration)
    ),
    ticketing=lambda link: AutotaskTicketing(
        client(link), AutotaskSettings.from_integration(link.integration)
    ),
    webhooks=lambda link: AutotaskWebhooks(
        _webhook_secret(link), AutotaskSettings.from_integration(link.integration)
    ),
    subscriptions=lambda link: AutotaskWebhookSubscriptions(
        client(link), AutotaskSettings.from_integration(link.integration), _webhook_secret(link)
    ),
)
