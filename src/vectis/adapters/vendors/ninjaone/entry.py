"""NinjaOne RMM as the registry sees it: credentials, limits and gateway factories."""

from __future__ import annotations

from vectis.adapters.vendors._entry import EmptyBaseUrl, IdForm, Link, VendorEntry
from vectis.adapters.vendors.ninjaone.client import NinjaOneAccount, NinjaOneClient, NinjaOneOptions
from vectis.adapters.vendors.ninjaone.gateway import (
    NinjaOneAlerts,
    NinjaOneSync,
    NinjaOneWebhookSubscriptions,
)
from vectis.adapters.vendors.ninjaone.webhooks import NinjaOneWebhooks
from vectis.domain.integration import WEBHOOK_SECRET, CredentialField


def client(link: Link) -> NinjaOneClient:
    options = NinjaOneOptions.of(link.integration)
    account = NinjaOneAccount.from_credentials(
        link.integration.base_url,
        link.credentials,
        api_prefix=options.api_prefix,
        scope=options.scope,
    )
    return NinjaOneClient(
        link.http, account, limit=link.limit, token_cache=link.key_cache, clock=link.clock
    )


def _secret(link: Link) -> str:
    return link.credentials.get(WEBHOOK_SECRET) or ""


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
    sync=lambda link: NinjaOneSync(client(link), NinjaOneOptions.of(link.integration)),
    alerting=lambda link: NinjaOneAlerts(client(link)),
    webhooks=lambda link: NinjaOneWebhooks(_secret(link), NinjaOneOptions.of(link.integration)),
    subscriptions=lambda link: NinjaOneWebhookSubscriptions(
        client(link), NinjaOneOptions.of(link.integration), _secret(link)
    ),
)
