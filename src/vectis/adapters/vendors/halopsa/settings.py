"""Per-integration choices for HaloPSA, read once from the integration's settings.

Most exist because a Halo behaviour is UNCONFIRMED from an authoritative source (see each
field); an operator can correct them for a tenant without a code change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from attrs import field, frozen

from vectis.adapters.vendors.halopsa.client import MAX_PAGE_SIZE
from vectis.adapters.vendors.halopsa.mapping import CLOSED_STATUS_IDS, CUSTOMER_WHO_TYPES
from vectis.domain.integration import Integration

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
class HaloSettings:
    page_size: int = MAX_PAGE_SIZE
    closed_status_ids: frozenset[int] = CLOSED_STATUS_IDS
    customer_who_types: frozenset[int] = CUSTOMER_WHO_TYPES
    list_keys: Mapping[str, str] = field(factory=lambda: dict(LIST_KEYS))
    scope: str = "all"
    ticket_type_id: int | None = None
    idempotency_filter: str = "third_party_id_string"
    """UNCONFIRMED: the ``GET /Tickets`` filter on the external reference a created ticket
    carries (seen in third-party clients, not in the swagger's parameter list)."""
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
    def of(cls, integration: Integration) -> HaloSettings:
        setting = integration.setting
        keys = dict(LIST_KEYS)
        overrides = setting("list_keys", {})
        if isinstance(overrides, Mapping):
            keys.update({str(path): str(key) for path, key in overrides.items()})
        type_id = setting("ticket_type_id")
        return cls(
            page_size=max(1, min(int(setting("page_size", MAX_PAGE_SIZE)), MAX_PAGE_SIZE)),
            closed_status_ids=_ints(setting("closed_status_ids"), CLOSED_STATUS_IDS),
            customer_who_types=_ints(setting("customer_who_types"), CUSTOMER_WHO_TYPES),
            list_keys=keys,
            scope=str(setting("scope", "all")),
            ticket_type_id=int(type_id) if type_id not in (None, "") else None,
            idempotency_filter=str(setting("idempotency_filter", "third_party_id_string")),
            note_outcome_internal=str(setting("note_outcome_internal", "Private Note")),
            note_outcome_public=str(setting("note_outcome_public", "Email User")),
            note_dedupe_minutes=float(setting("note_dedupe_minutes", 60.0)),
            notes_history_days=float(setting("notes_history_days", 90.0)),
            contract_lines=bool(setting("contract_lines", True)),
            webhook_events=tuple(sorted(_ints(setting("webhook_event_numbers"), WEBHOOK_EVENTS))),
            webhook_max_age_hours=float(setting("webhook_max_age_hours", 24.0)),
        )

    def key(self, path: str) -> str:
        return self.list_keys.get(path, path.strip("/").lower())


def _ints(value: Any, default: Iterable[int]) -> frozenset[int]:
    if value is None or value == "":
        return frozenset(default)
    if isinstance(value, (int, str)):
        value = [value]
    return frozenset(int(item) for item in value)
