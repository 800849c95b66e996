"""NinjaOne RMM as the registry sees it: credentials, limits and gateway factories."""

from __future__ import annotations

from vectis.adapters.vendors._entry import (
    Alerting,
    EmptyBaseUrl,
    IdForm,
    Link,
    SyncSource,
    VendorEntry,
    WebhookParser,
    WebhookSubscriptions,
)
from vectis.adapters.vendors.ninjaone.alerting import NinjaOneAlerts
from vectis.adapters.vendors.ninjaone.client import NinjaOneClient
from vectis.adapters.vendors.ninjaone.settings import NinjaOneAccount, NinjaOneOptions
from vectis.adapters.vendors.ninjaone.sync import NinjaOneSync
from vectis.adapters.vendors.ninjaone.webhooks import (
    NinjaOneWebhooks,
    NinjaOneWebhookSubscriptions,
)
from vectis.domain.integration import CredentialField


def client(link: Link) -> NinjaOneClient:
    return NinjaOneClient.of(link)


def _secret(link: Link) -> str:
    return NinjaOneAccount.of(link).webhook_secret


ENTRY = VendorEntry(
    label="NinjaOne RMM",
    # NinjaOne publishes no API rate limit (UNCONFIRMED): a conservative default, overridable
    # per integration with the `requests_per_minute` setting.
    requests_per_minute=300,
    burst=20,
    credential_fields=(
        CredentialField(key="client_id", label="Client ID", secret=False),
        CredentialField(key="client_secret", label="Client secret"),
    ),
    base_url_hint=(
        "Your NinjaOne instance, e.g. https://app.ninjarmm.com (also us2., eu., ca., oc.)"
    ),
    # NinjaOne documents one instance per region and no default among them.
    empty_base_url=EmptyBaseUrl(
        why="NinjaOne has an instance per region and no default",
        choices=tuple(f"https://{host}.ninjarmm.com" for host in ("app", "us2", "eu", "ca", "oc")),
    ),
    # Alerts are reset by their uid, which every recorded alert and delivery writes as a UUID.
    record_ids={"alert": IdForm.UUID},
    ports={
        SyncSource: lambda link: NinjaOneSync(client(link), NinjaOneOptions.of(link)),
        Alerting: lambda link: NinjaOneAlerts(client(link)),
        WebhookParser: lambda link: NinjaOneWebhooks(_secret(link), NinjaOneOptions.of(link)),
        WebhookSubscriptions: lambda link: NinjaOneWebhookSubscriptions(
            client(link), NinjaOneOptions.of(link), _secret(link)
        ),
    },
    fills=frozenset({"alerts", "devices"}),
)
