"""NinjaOne public API v2: an OAuth2 client-credentials token, bearer calls, two kinds of paging.

The token comes from ``POST {instance}/ws/oauth/token`` (form ``grant_type=client_credentials``,
``client_id``, ``client_secret``, ``scope``). It is cached per API client until shortly before
``expires_in`` runs out, and fetched again once when the API refuses it. Lists page with
``pageSize`` + ``after`` (the last id of the previous page); the ``/queries`` reports page with
the ``cursor`` name each answer carries.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

import httpx
from attrs import field, frozen

from vectis.adapters.vendors._http.oauth import BearerSession, ClientCredentials
from vectis.adapters.vendors._http.transport import RateLimit, VendorTransport, json_body
from vectis.application.ports import Clock
from vectis.domain.errors import VendorRejected
from vectis.domain.integration import Credentials, Integration

VENDOR_LABEL = "NinjaOne"
TOKEN_PATH = "/ws/oauth/token"  # noqa: S105 - a path
DEFAULT_SCOPE = "monitoring management control"
DEFAULT_API_PREFIX = "/v2"
"""UNCONFIRMED: the official OpenAPI serves ``/v2/...`` on the instance host, while some public
clients call ``/api/v2/...``; an integration can switch with the ``api_prefix`` setting."""
AV_DEFINITIONS_STATUS_CODES = ("AV_DEFINITIONS_UPDATED",)
"""UNCONFIRMED: the OpenAPI's ``statusCode`` enum names no antivirus-definitions update, so the
codes an ``ANTIVIRUS`` activity carries for one are a setting (``av_definitions_status_codes``)."""


@frozen(kw_only=True)
class NinjaOneOptions:
    """The integration's settings for this connector, with the defaults the docs suggest."""

    api_prefix: str = DEFAULT_API_PREFIX
    scope: str = DEFAULT_SCOPE
    page_size: int = 1000
    """UNCONFIRMED: the spec states no maximum ``pageSize`` for lists and reports."""
    activity_page_size: int = 1000
    """The spec's maximum (and minimum 10) for ``/activities``."""
    activity_max_pages: int = 20
    """How far one read walks back through activities before it stops (first sync, backlog)."""
    webhook_max_age_seconds: int = 900
    av_definitions_status_codes: tuple[str, ...] = AV_DEFINITIONS_STATUS_CODES
    webhook_activities: Mapping[str, Sequence[str]] | None = None
    """UNCONFIRMED: the spec types the filter as ``{string: [string]}`` without saying what the
    keys are; Vectis sends activity types mapped to status codes (see ``webhook_filter``)."""
    webhook_expand: tuple[str, ...] = ("device",)
    """UNCONFIRMED value: what ``expand`` takes to put the ``device`` (with its organisation
    reference) into deliveries."""

    def webhook_filter(self) -> dict[str, list[str]]:
        if self.webhook_activities is not None:
            return {key: list(codes) for key, codes in self.webhook_activities.items()}
        return {
            "CONDITION": ["TRIGGERED", "RESET"],
            "PATCH_MANAGEMENT": ["PATCH_MANAGEMENT_APPLY_PATCH_COMPLETED"],
            "ANTIVIRUS": list(self.av_definitions_status_codes),
        }

    @classmethod
    def of(cls, integration: Integration) -> NinjaOneOptions:
        default = cls()
        codes = integration.setting(
            "av_definitions_status_codes", default.av_definitions_status_codes
        )
        return cls(
            api_prefix=str(integration.setting("api_prefix", default.api_prefix)),
            scope=str(integration.setting("oauth_scope", default.scope)),
            page_size=max(1, int(integration.setting("page_size", default.page_size))),
            activity_page_size=min(
                1000,
                max(10, int(integration.setting("activity_page_size", default.activity_page_size))),
            ),
            activity_max_pages=max(
                1, int(integration.setting("activity_max_pages", default.activity_max_pages))
            ),
            webhook_max_age_seconds=int(
                integration.setting("webhook_max_age_seconds", default.webhook_max_age_seconds)
            ),
            av_definitions_status_codes=tuple(str(code) for code in codes),
            webhook_activities=integration.setting("webhook_activities"),
            webhook_expand=tuple(integration.setting("webhook_expand", default.webhook_expand)),
        )


@frozen(kw_only=True)
class NinjaOneAccount:
    """Where and as whom to call: ``base_url`` is the instance, e.g. ``https://eu.ninjarmm.com``."""

    base_url: str
    client_id: str
    client_secret: str = field(repr=False)
    api_prefix: str = DEFAULT_API_PREFIX
    scope: str = DEFAULT_SCOPE

    @classmethod
    def from_credentials(
        cls,
        base_url: str,
        credentials: Credentials,
        *,
        api_prefix: str = DEFAULT_API_PREFIX,
        scope: str = DEFAULT_SCOPE,
    ) -> NinjaOneAccount:
        try:
            return cls(
                base_url=base_url.rstrip("/"),
                client_id=credentials["client_id"],
                client_secret=credentials["client_secret"],
                api_prefix="/" + api_prefix.strip("/"),
                scope=scope,
            )
        except KeyError as missing:
            raise VendorRejected(f"NinjaOne credentials lack {missing.args[0]}") from None

    @property
    def api_url(self) -> str:
        return self.base_url + self.api_prefix

    @property
    def token_url(self) -> str:
        return self.base_url + TOKEN_PATH

    @property
    def cache_key(self) -> str:
        secret = hashlib.sha256(self.client_secret.encode()).hexdigest()[:16]
        return f"ninjaone-token:{self.base_url}:{self.client_id}:{secret}"

    def device_url(self, device_id: str) -> str:
        """The device's page in the NinjaOne console (UNCONFIRMED route, as seen in the app)."""
        return f"{self.base_url}/#/deviceDashboard/{device_id}/overview"


class NinjaOneClient:
    """Authenticated calls for one API client; ``token_cache`` outlives the client."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        account: NinjaOneAccount,
        *,
        limit: RateLimit | None = None,
        token_cache: dict[str, tuple[float, bytes]] | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._transport = VendorTransport(http, vendor=VENDOR_LABEL, limit=limit, clock=clock)
        self.clock = self._transport.clock
        self._account = account
        self._session = BearerSession(
            self._transport,
            VENDOR_LABEL,
            ClientCredentials(
                token_url=account.token_url,
                client_id=account.client_id,
                client_secret=account.client_secret,
                scope=account.scope,
                cache_key=account.cache_key,
                token_params={},
            ),
            token_cache if token_cache is not None else {},
        )

    @property
    def account(self) -> NinjaOneAccount:
        return self._account

    async def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return await self._call("GET", path, params=params)

    async def post(self, path: str, body: Any) -> Any:
        return await self._call("POST", path, json=body)

    async def put(self, path: str, body: Any) -> Any:
        return await self._call("PUT", path, json=body)

    async def pages_after(
        self, path: str, page_size: int, params: Mapping[str, Any] | None = None
    ) -> AsyncIterator[tuple[list[Any], bool]]:
        """Each page of a ``pageSize``/``after`` list and whether it is the last one.

        A short page ends the list; so does a page whose last row has no integer id, which
        could not say where the next page starts.
        """
        after: int | None = None
        while True:
            query = {**(params or {}), "pageSize": page_size}
            if after is not None:
                query["after"] = after
            rows = await self.get(path, query)
            if not isinstance(rows, list):
                raise VendorRejected(f"NinjaOne answered {path} with something not a list")
            last_id = rows[-1].get("id") if rows and isinstance(rows[-1], dict) else None
            last = len(rows) < page_size or not isinstance(last_id, int) or last_id == after
            yield rows, last
            if last:
                return
            after = last_id

    async def pages_by_cursor(
        self, path: str, page_size: int, params: Mapping[str, Any] | None = None
    ) -> AsyncIterator[tuple[list[Any], bool]]:
        """Each page of a ``/queries`` report (``{"cursor": {"name"...}, "results": [...]}``)
        and whether it is the last one; the next page is asked for by the cursor's name."""
        cursor: str | None = None
        while True:
            query = {**(params or {}), "pageSize": page_size}
            if cursor:
                query["cursor"] = cursor
            report = await self.get(path, query)
            results = report.get("results") if isinstance(report, dict) else None
            if not isinstance(results, list):
                raise VendorRejected(f"NinjaOne answered {path} without a results list")
            named = (report.get("cursor") or {}).get("name")
            last = len(results) < page_size or not isinstance(named, str) or not named
            yield results, last
            if last:
                return
            cursor = named

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> Any:
        response = await self._session.request(
            method, self._account.api_url + path, params=params, json=json
        )
        return _json(response)


def _json(response: httpx.Response) -> Any:
    return json_body(response, VENDOR_LABEL, allow_empty=True)
