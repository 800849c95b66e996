"""The HaloPSA account (where and as whom to call) and its per-integration choices.

Most choices exist because a Halo behaviour is UNCONFIRMED from an authoritative source (see
each field); an operator can correct them for a tenant without a code change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from attrs import field, frozen

from vectis.adapters.vendors._entry import Link
from vectis.adapters.vendors._kit.settings import credentials, read_settings, within
from vectis.adapters.vendors.halopsa.mapping import CLOSED_STATUS_IDS, CUSTOMER_WHO_TYPES

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
        return cls(
            base_url=link.integration.base_url.rstrip("/"),
            **credentials(link, "HaloPSA", "client_id", "client_secret"),
            tenant=(link.credentials.get("tenant") or "").strip(),
            scope=str(link.integration.setting("scope", "all")),
        )

    @property
    def api_url(self) -> str:
        return self.base_url + API_ROOT

    @property
    def token_url(self) -> str:
        return self.base_url + TOKEN_PATH


def _sorted_unique(numbers: Iterable[int]) -> tuple[int, ...]:
    return tuple(sorted(set(numbers)))


@frozen(kw_only=True)
class HaloSettings:
    """The per-integration choices, read once from ``integration.settings``."""

    page_size: int = field(default=MAX_PAGE_SIZE, metadata=within(1, MAX_PAGE_SIZE))
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
    webhook_events: tuple[int, ...] = field(default=WEBHOOK_EVENTS, converter=_sorted_unique)
    """Read from the setting ``webhook_event_numbers``; kept sorted, each number once."""
    webhook_max_age_hours: float = 24.0

    @classmethod
    def of(cls, link: Link) -> HaloSettings:
        names = {"webhook_events": "webhook_event_numbers"}
        return read_settings(cls, link, vendor="HaloPSA", names=names)

    def key(self, path: str) -> str:
        return self.list_keys.get(path, path.strip("/").lower())
