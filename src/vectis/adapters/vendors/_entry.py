"""What each vendor package declares about itself, and what its gateway factories receive."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import httpx
from attrs import field, frozen

from vectis.adapters.vendors._http.transport import RateLimit
from vectis.application.ports import Clock, WebhookParser, WebhookSubscriptions
from vectis.domain.alerting import Alerting
from vectis.domain.integration import (
    WEBHOOK_SECRET,
    CredentialField,
    Credentials,
    EmptyBaseUrl,
    IdForm,
    Integration,
)
from vectis.domain.sync import SyncSource
from vectis.domain.ticketing import Ticketing

__all__ = [
    "WEBHOOK_SECRET",
    "CredentialField",
    "EmptyBaseUrl",
    "IdForm",
    "Link",
    "VendorEntry",
]


@frozen(kw_only=True)
class Link:
    """What a gateway factory gets: the shared HTTP client, the account, the rate limit, the
    clock."""

    http: httpx.AsyncClient
    integration: Integration
    credentials: Credentials
    limit: RateLimit
    key_cache: dict[str, tuple[float, bytes]]
    clock: Clock


@frozen(kw_only=True)
class VendorEntry:
    label: str
    requests_per_minute: float
    burst: float
    credential_fields: Sequence[CredentialField]
    base_url_hint: str
    """Prose beside the address field, for people; never used as an address."""
    empty_base_url: EmptyBaseUrl
    """What an empty base URL means, as the vendor documents it (declared by every vendor)."""
    record_ids: Mapping[str, IdForm] = field(factory=dict)
    """The form of the vendor's ids by kind of record, checked when a write-back is requested."""
    sync: Callable[[Link], SyncSource] | None = None
    ticketing: Callable[[Link], Ticketing] | None = None
    alerting: Callable[[Link], Alerting] | None = None
    webhooks: Callable[[Link], WebhookParser] | None = None
    subscriptions: Callable[[Link], WebhookSubscriptions] | None = None
