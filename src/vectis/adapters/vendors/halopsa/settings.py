"""The HaloPSA account (where and as whom to call) and its per-integration choices.

Most choices exist because a Halo behaviour is UNCONFIRMED from an authoritative source (see
each field); an operator can correct them for a tenant without a code change.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

from attrs import field, frozen

from vectis.adapters.vendors._entry import Link
from vectis.adapters.vendors.halopsa.mapping import CLOSED_STATUS_IDS, CUSTOMER_WHO_TYPES
from vectis.domain.errors import VendorRejected

API_ROOT = "/api"
TOKEN_PATH = "/auth/token"  # noqa: S105 - a path, not a secret
MAX_PAGE_SIZE = 100
"""The swagger's stated maximum for ``page_size``."""
LIST_KEYS: Mapping[str, str] = {
    "/Tickets": "tickets",
    "/Client": "clients",
    "/Site": "sites",
    "/Users": "users",
    "/Asset": "assets",
    "/Actions": "actions",
    "/ClientContract": "contracts",
    "/RecurringInvoice": "invoices",
    "/Agent": "agents",
    "/Webhook": "webhooks",
}
"""UNCONFIRMED: the array key of each list wrapper (``{"record_count": n, "tickets": [...]}``);
a bare array, or a wrapper holding a single array under another key, is read too. Override per
path with the setting ``list_keys``."""
WEBHOOK_EVENTS = (3, 61)
"""UNCONFIRMED: Halo notification event numbers for "ticket logged" and "ticket updated", as
django-psa registers them; the setting ``webhook_event_numbers`` replaces them."""


@frozen(kw_only=True)
class HaloAccount:
    """Where and as whom to call: ``base_url`` is ``https://{tenant}.halopsa.com`` (no ``/api``)."""

    base_url: str
    client_id: str
    client_secret: str = field(repr=False)
    tenant: str = ""
    scope: str = "all"

    @classmethod
    def of(cls, link: Link) -> HaloAccount:
        credentials = link.credentials
        try:
            return cls(
                base_url=link.integration.base_url.rstrip("/"),
                client_id=credentials["client_id"],
                client_secret=credentials["client_secret"],
                tenant=(credentials.get("tenant") or "").strip(),
                scope=str(link.integration.setting("scope", "all")),
            )
        except KeyError as missing:
            raise VendorRejected(f"HaloPSA credentials lack {missing.args[0]}") from None

    @property
    def api_url(self) -> str:
        return self.base_url + API_ROOT

    @property
    def token_url(self) -> str:
        return self.base_url + TOKEN_PATH

    @property
    def cache_key(self) -> str:
        secret = hashlib.sha256(self.client_secret.encode()).hexdigest()[:16]
        return f"halopsa-token:{self.token_url}:{self.tenant}:{self.client_id}:{secret}"


@frozen(kw_only=True)
class HaloSettings:
    page_size: int = MAX_PAGE_SIZE
    closed_status_ids: frozenset[int] = CLOSED_STATUS_IDS
    customer_who_types: frozenset[int] = CUSTOMER_WHO_TYPES
    list_keys: Mapping[str, str] = field(factory=lambda: dict(LIST_KEYS))
    ticket_type_id: int | None = None
    create_lookback_hours: float = 72.0
    """How far back a retried ticket creation looks, among its client's tickets opened newest
    first, for the ticket an earlier attempt made (a job retries within hours)."""
    note_outcome_internal: str = "Private Note"
    note_outcome_public: str = "Email User"
    """UNCONFIRMED: action outcome names are tenant configuration; these are Halo's defaults."""
    note_dedupe_minutes: float = 60.0
    notes_history_days: float = 90.0
    """How far back a first sync reads ticket actions (one request per ticket); 0 = all."""
    contract_lines: bool = True
    """Read recurring-invoice lines as contract lines (UNCONFIRMED link via ``contract_id``)."""
    webhook_events: tuple[int, ...] = WEBHOOK_EVENTS
    webhook_max_age_hours: float = 24.0

    @classmethod
    def of(cls, link: Link) -> HaloSettings:
        setting = link.integration.setting
        keys = dict(LIST_KEYS)
        overrides = setting("list_keys", {})
        if isinstance(overrides, Mapping):
            keys.update({str(path): str(key) for path, key in overrides.items()})
        type_id = setting("ticket_type_id")
        try:
            return cls(
                page_size=max(1, min(int(setting("page_size", MAX_PAGE_SIZE)), MAX_PAGE_SIZE)),
                closed_status_ids=_ints(setting("closed_status_ids"), CLOSED_STATUS_IDS),
                customer_who_types=_ints(setting("customer_who_types"), CUSTOMER_WHO_TYPES),
                list_keys=keys,
                ticket_type_id=int(type_id) if type_id not in (None, "") else None,
                create_lookback_hours=float(setting("create_lookback_hours", 72.0)),
                note_outcome_internal=str(setting("note_outcome_internal", "Private Note")),
                note_outcome_public=str(setting("note_outcome_public", "Email User")),
                note_dedupe_minutes=float(setting("note_dedupe_minutes", 60.0)),
                notes_history_days=float(setting("notes_history_days", 90.0)),
                contract_lines=bool(setting("contract_lines", True)),
                webhook_events=tuple(
                    sorted(_ints(setting("webhook_event_numbers"), WEBHOOK_EVENTS))
                ),
                webhook_max_age_hours=float(setting("webhook_max_age_hours", 24.0)),
            )
        except (TypeError, ValueError) as error:
            raise VendorRejected(f"a HaloPSA setting is not valid: {error}") from None

    def key(self, path: str) -> str:
        return self.list_keys.get(path, path.strip("/").lower())


def _ints(value: Any, default: Iterable[int]) -> frozenset[int]:
    if value is None or value == "":
        return frozenset(default)
    if isinstance(value, (int, str)):
        value = [value]
    return frozenset(int(item) for item in value)
