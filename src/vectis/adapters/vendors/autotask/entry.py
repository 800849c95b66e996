"""What the registry needs to know about Autotask PSA, and its gateway factories."""

from __future__ import annotations

from vectis.adapters.vendors._entry import (
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
from vectis.adapters.vendors.autotask.client import AutotaskClient
from vectis.adapters.vendors.autotask.settings import (
    GLOBAL_URL,
    AutotaskAccount,
    AutotaskSettings,
)
from vectis.adapters.vendors.autotask.settings import webhook_secret as _webhook_secret
from vectis.adapters.vendors.autotask.sync import AutotaskSync
from vectis.adapters.vendors.autotask.ticketing import AutotaskTicketing
from vectis.adapters.vendors.autotask.webhooks import (
    AutotaskWebhooks,
    AutotaskWebhookSubscriptions,
)


def client(link: Link) -> AutotaskClient:
    return AutotaskClient(
        link.http, AutotaskAccount.of(link), AutotaskSettings.of(link), link.limit, clock=link.clock
    )


ENTRY = VendorEntry(
    label="Autotask PSA",
    # Autotask allows 10,000 requests per rolling hour per database, shared by every
    # integration of the MSP (about 166 a minute): Vectis keeps well under it by default.
    requests_per_minute=120,
    burst=10,
    # Its thread limit: three requests in flight per tracking identifier (ThreadLimiting.htm;
    # documented per object endpoint, bounded here per integration, which is stricter).
    requests_at_once=3,
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
    ports={
        SyncSource: lambda link: AutotaskSync(client(link), AutotaskSettings.of(link)),
        Ticketing: lambda link: AutotaskTicketing(client(link), AutotaskSettings.of(link)),
        WebhookParser: lambda link: AutotaskWebhooks(
            _webhook_secret(link), AutotaskSettings.of(link)
        ),
        WebhookSubscriptions: lambda link: AutotaskWebhookSubscriptions(
            client(link),
            AutotaskSettings.of(link),
            _webhook_secret(link),
        ),
    },
    fills=frozenset({"tickets", "contacts", "contracts", "devices"}),
)
