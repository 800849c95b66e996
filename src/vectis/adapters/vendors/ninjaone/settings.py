"""The NinjaOne account (instance and API client) and the integration's per-tenant choices."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from attrs import field, frozen

from vectis.adapters.vendors._entry import Link
from vectis.adapters.vendors._kit.settings import credentials, read_settings, within
from vectis.domain.integration import WEBHOOK_SECRET

TOKEN_PATH = "/ws/oauth/token"  # noqa: S105 - a path
DEFAULT_SCOPE = "monitoring management control"
DEFAULT_API_PREFIX = "/v2"
"""UNCONFIRMED: the official OpenAPI serves ``/v2/...`` on the instance host, while some public
clients call ``/api/v2/...``; an integration can switch with the ``api_prefix`` setting."""
WEBHOOK_ACTIVITIES: Mapping[str, Sequence[str]] = {
    "CONDITION": ("TRIGGERED", "RESET"),
    "PATCH_MANAGEMENT": ("PATCH_MANAGEMENT_APPLY_PATCH_COMPLETED",),
}
"""The documented activity types and status codes Vectis reads from deliveries."""


@frozen(kw_only=True)
class NinjaOneOptions:
    """The integration's settings for this connector, with the defaults the docs suggest."""

    api_prefix: str = DEFAULT_API_PREFIX
    scope: str = DEFAULT_SCOPE
    page_size: int = field(default=1000, metadata=within(1))
    """UNCONFIRMED: the spec states no maximum ``pageSize`` for lists and reports."""
    activity_page_size: int = field(default=1000, metadata=within(10, 1000))
    """The spec's maximum (and minimum 10) for ``/activities``."""
    activity_max_pages: int = field(default=20, metadata=within(1))
    """How far one read walks back through activities before it stops (first sync, backlog)."""
    webhook_max_age_seconds: int = 900
    webhook_activities: Mapping[str, Sequence[str]] | None = None
    """UNCONFIRMED: the spec types the filter as ``{string: [string]}`` without saying what the
    keys are; Vectis sends activity types mapped to status codes (see ``webhook_filter``)."""
    webhook_expand: tuple[str, ...] = ("device",)
    """UNCONFIRMED value: what ``expand`` takes to put the ``device`` (with its organisation
    reference) into deliveries."""

    def webhook_filter(self) -> dict[str, list[str]]:
        chosen = WEBHOOK_ACTIVITIES if self.webhook_activities is None else self.webhook_activities
        return {key: list(codes) for key, codes in chosen.items()}

    @classmethod
    def of(cls, link: Link) -> NinjaOneOptions:
        return read_settings(cls, link, vendor="NinjaOne", names={"scope": "oauth_scope"})


@frozen(kw_only=True)
class NinjaOneAccount:
    """Where and as whom to call: ``base_url`` is the instance, e.g. ``https://eu.ninjarmm.com``."""

    base_url: str
    client_id: str
    client_secret: str = field(repr=False)
    webhook_secret: str = field(default="", repr=False)
    api_prefix: str = DEFAULT_API_PREFIX
    scope: str = DEFAULT_SCOPE

    @classmethod
    def of(cls, link: Link) -> NinjaOneAccount:
        options = NinjaOneOptions.of(link)
        return cls(
            base_url=link.integration.base_url.rstrip("/"),
            **credentials(link, "NinjaOne", "client_id", "client_secret"),
            webhook_secret=link.credentials.get(WEBHOOK_SECRET) or "",
            api_prefix="/" + options.api_prefix.strip("/"),
            scope=options.scope,
        )

    @property
    def api_url(self) -> str:
        return self.base_url + self.api_prefix

    @property
    def token_url(self) -> str:
        return self.base_url + TOKEN_PATH

    def device_url(self, device_id: str) -> str:
        """The device's page in the NinjaOne console (UNCONFIRMED route, as seen in the app)."""
        return f"{self.base_url}/#/deviceDashboard/{device_id}/overview"
