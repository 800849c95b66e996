"""The Autotask account (zone and credentials) and the integration's settings, read from a Link."""

from __future__ import annotations

from collections.abc import Mapping

from attrs import field, frozen

from vectis.adapters.vendors._entry import WEBHOOK_SECRET, Link
from vectis.adapters.vendors._kit.settings import credentials, read_settings, within
from vectis.domain.errors import VendorRejected

GLOBAL_URL = "https://webservices.autotask.net/atservicesrest"
MAX_RECORDS = 500
WEBHOOK_FIELDS = ("status", "priority", "queueID", "assignedResourceID")
"""The ticket fields whose change makes Autotask call back."""
WEBHOOK_DISPLAY_FIELDS = ("companyID", "ticketNumber", "title", "completedDate")
"""The fields every callout carries; ``completedDate`` keys a closure as the sync keys it."""
WEBHOOK_KEYING_FIELDS = ("lastActivityDate",)
"""Display fields asked for where the tenant's webhook field metadata offers them:
``lastActivityDate`` keys a move to another status as the sync keys it. UNCONFIRMED that
every tenant lists it (a read-only field) among TicketWebhookFields; without it a move pushed
and then synced is recorded twice, so its absence is no reason to refuse the subscription."""


@frozen(kw_only=True)
class AutotaskAccount:
    """As whom to call; ``base_url`` is the zone's REST root, or empty to discover it."""

    base_url: str
    username: str
    secret: str = field(repr=False)
    integration_code: str = field(repr=False)

    @classmethod
    def of(cls, link: Link) -> AutotaskAccount:
        return cls(
            base_url=link.integration.base_url.strip().rstrip("/"),
            **credentials(link, "Autotask", "username", "secret", "integration_code"),
        )

    def headers(self) -> dict[str, str]:
        return {
            "ApiIntegrationCode": self.integration_code,
            "UserName": self.username,
            "Secret": self.secret,
            "Accept": "application/json",
        }


def _without_slash(url: str) -> str:
    return url.rstrip("/")


@frozen(kw_only=True)
class AutotaskSettings:
    """The per-integration choices, read once from ``integration.settings``."""

    zone_lookup_url: str = field(default=GLOBAL_URL, converter=_without_slash)
    web_url: str = field(default="", converter=_without_slash)
    page_size: int = field(default=MAX_RECORDS, metadata=within(1, MAX_RECORDS))
    closed_status_ids: frozenset[str] = frozenset({"5"})
    default_status_id: str = "1"
    default_priority_id: str = "2"
    default_queue_id: str | None = None
    note_type: int = 1
    # TicketNotes.publish: 1 = "All Autotask Users" (visible in the client portal), 2 =
    # "Internal Only". The numeric values are UNCONFIRMED in our reference pack.
    note_publish_external: int = 1
    note_publish_internal: int = 2
    note_title: str = "Vectis update"
    impersonation_resource_id: str | None = None
    webhook_max_age_seconds: float = 900.0
    webhook_fields: tuple[str, ...] = WEBHOOK_FIELDS
    webhook_display_fields: tuple[str, ...] = WEBHOOK_DISPLAY_FIELDS
    webhook_keying_fields: tuple[str, ...] = WEBHOOK_KEYING_FIELDS
    webhook_field_ids: Mapping[str, int] = field(factory=dict)
    """Ticket field name → the tenant's internal webhook field id, where an operator names
    them; any other field's id is read from the account's webhook field metadata."""
    webhook_deactivation_url: str | None = None
    """Where Autotask reports deactivating the webhook; empty: the receiver URL with
    ``?deactivated=1`` (a URL of its own, as Autotask requires)."""
    webhook_signature_bodies: tuple[str, ...] = ("raw", "compact", "ascii", "slashes")
    webhook_notification_email: str | None = None

    @classmethod
    def of(cls, link: Link) -> AutotaskSettings:
        return read_settings(cls, link, vendor="Autotask")


def webhook_secret(link: Link) -> str:
    secret = link.credentials.get(WEBHOOK_SECRET)
    if not secret:
        raise VendorRejected("the Autotask integration has no webhook secret")
    return secret
