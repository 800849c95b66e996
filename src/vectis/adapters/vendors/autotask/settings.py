"""The Autotask account (zone and credentials) and the integration's settings, read from a Link."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from attrs import field, frozen

from vectis.adapters.vendors._entry import WEBHOOK_SECRET, Link
from vectis.domain.errors import VendorRejected

GLOBAL_URL = "https://webservices.autotask.net/atservicesrest"
MAX_RECORDS = 500
WEBHOOK_FIELDS = ("status", "priority", "queueID", "assignedResourceID")
"""The ticket fields whose change makes Autotask call back."""
WEBHOOK_DISPLAY_FIELDS = ("companyID", "ticketNumber", "title", "completedDate")
"""The fields every callout carries; ``completedDate`` keys a closure as the sync keys it."""


@frozen(kw_only=True)
class AutotaskAccount:
    """As whom to call; ``base_url`` is the zone's REST root, or empty to discover it."""

    base_url: str
    username: str
    secret: str = field(repr=False)
    integration_code: str = field(repr=False)

    @classmethod
    def of(cls, link: Link) -> AutotaskAccount:
        credentials = link.credentials
        try:
            return cls(
                base_url=link.integration.base_url.strip().rstrip("/"),
                username=credentials["username"],
                secret=credentials["secret"],
                integration_code=credentials["integration_code"],
            )
        except KeyError as missing:
            raise VendorRejected(f"Autotask credentials lack {missing.args[0]}") from None

    def headers(self) -> dict[str, str]:
        return {
            "ApiIntegrationCode": self.integration_code,
            "UserName": self.username,
            "Secret": self.secret,
            "Accept": "application/json",
        }


@frozen(kw_only=True)
class AutotaskSettings:
    """The per-integration choices, read once from ``integration.settings``."""

    zone_lookup_url: str = GLOBAL_URL
    web_url: str = ""
    page_size: int = MAX_RECORDS
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
        default = cls()
        get = link.integration.setting
        try:
            return cls(
                zone_lookup_url=str(get("zone_lookup_url", default.zone_lookup_url)).rstrip("/"),
                web_url=str(get("web_url", "")).rstrip("/"),
                page_size=max(1, min(MAX_RECORDS, int(get("page_size", MAX_RECORDS)))),
                closed_status_ids=frozenset(
                    str(value) for value in get("closed_status_ids", default.closed_status_ids)
                ),
                default_status_id=str(get("default_status_id", default.default_status_id)),
                default_priority_id=str(get("default_priority_id", default.default_priority_id)),
                default_queue_id=_optional(get("default_queue_id")),
                note_type=int(get("note_type", default.note_type)),
                note_publish_external=int(get("note_publish_external", 1)),
                note_publish_internal=int(get("note_publish_internal", 2)),
                note_title=str(get("note_title", default.note_title)),
                impersonation_resource_id=_optional(get("impersonation_resource_id")),
                webhook_max_age_seconds=float(get("webhook_max_age_seconds", 900)),
                webhook_fields=_names(get("webhook_fields", WEBHOOK_FIELDS)),
                webhook_display_fields=_names(
                    get("webhook_display_fields", WEBHOOK_DISPLAY_FIELDS)
                ),
                webhook_field_ids={
                    str(name): int(value)
                    for name, value in dict(get("webhook_field_ids") or {}).items()
                },
                webhook_deactivation_url=_optional(get("webhook_deactivation_url")),
                webhook_signature_bodies=_names(
                    get("webhook_signature_bodies", default.webhook_signature_bodies)
                ),
                webhook_notification_email=_optional(get("webhook_notification_email")),
            )
        except (TypeError, ValueError) as error:
            raise VendorRejected(
                f"the Autotask integration's settings are invalid: {error}"
            ) from None


def webhook_secret(link: Link) -> str:
    secret = link.credentials.get(WEBHOOK_SECRET)
    if not secret:
        raise VendorRejected("the Autotask integration has no webhook secret")
    return secret


def _optional(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def _names(values: Any) -> tuple[str, ...]:
    if isinstance(values, str):
        raise ValueError(f"{values!r} is not a list")
    return tuple(str(value) for value in values)
