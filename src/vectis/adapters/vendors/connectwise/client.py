"""ConnectWise Manage REST 3.0: Basic auth ``company+publicKey:privateKey`` plus ``clientId``.

Lists page with ``page``/``pageSize`` (at most 1000) and say in the ``Link`` header whether a
``rel="next"`` page exists; the body is a bare JSON array.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import httpx
from attrs import frozen

from vectis.adapters.vendors._http.transport import RateLimit, VendorTransport, json_body
from vectis.application.ports import Clock
from vectis.domain.errors import VendorRejected
from vectis.domain.integration import Credentials, Integration

API_ROOT = "/apis/3.0"
ACCEPT = "application/vnd.connectwise.com+json; version=2022.1"
MAX_PAGE_SIZE = 1000
TICKET_URL_TEMPLATE = (
    "{console}/services/system_io/Service/fv_sr100_request.rails"
    "?service_recid={id}&companyName={company}"
)


@frozen(kw_only=True)
class ConnectWiseAccount:
    """Where and as whom to call: ``base_url`` is ``https://{host}/{codebase}``."""

    base_url: str
    company_id: str
    public_key: str
    private_key: str
    client_id: str

    @classmethod
    def from_credentials(cls, base_url: str, credentials: Credentials) -> ConnectWiseAccount:
        try:
            return cls(
                base_url=base_url.rstrip("/"),
                company_id=credentials["company_id"],
                public_key=credentials["public_key"],
                private_key=credentials["private_key"],
                client_id=credentials["client_id"],
            )
        except KeyError as missing:
            raise VendorRejected(f"ConnectWise credentials lack {missing.args[0]}") from None

    @property
    def api_url(self) -> str:
        return self.base_url + API_ROOT

    @property
    def console_url(self) -> str:
        """The web console people open: the API host without its ``api-`` prefix."""
        parts = urlsplit(self.base_url)
        host = parts.netloc.removeprefix("api-")
        return urlunsplit((parts.scheme, host, parts.path, "", ""))

    def headers(self) -> dict[str, str]:
        user = f"{self.company_id}+{self.public_key}:{self.private_key}"
        return {
            "Authorization": "Basic " + base64.b64encode(user.encode()).decode(),
            "clientId": self.client_id,
            "Accept": ACCEPT,
        }


@frozen(kw_only=True)
class ConnectWiseOptions:
    """Integration settings (``integration.setting``) that tune the connector."""

    page_size: int = MAX_PAGE_SIZE
    ticket_url_template: str = TICKET_URL_TEMPLATE
    """UNCONFIRMED as a documented link: the console's ticket page that integrations commonly
    open. ``{console}``, ``{id}`` and ``{company}`` are filled in; empty disables links."""
    console_url: str | None = None
    """The console's base URL when it is not the API host without ``api-`` (UNCONFIRMED for
    every region: on-premise servers and e.g. ``aus.myconnectwise.net`` need this set)."""
    default_board_id: str | None = None
    """The board new tickets go to when the draft names none (ConnectWise requires one)."""
    note_dedupe_minutes: int = 24 * 60
    """How far back ``add_note`` looks for the same note from a crashed attempt; 0 turns the
    look-up (one extra request per note) off."""
    sync_sites: bool = True
    """Sites cost one request per changed company; turn off for very large books."""

    @classmethod
    def from_integration(cls, integration: Integration) -> ConnectWiseOptions:
        default = cls()
        board = integration.setting("default_board_id")
        return cls(
            page_size=max(1, min(MAX_PAGE_SIZE, _number(integration, "page_size", 1000))),
            ticket_url_template=str(
                integration.setting("ticket_url_template", default.ticket_url_template)
            ),
            console_url=integration.setting("console_url"),
            default_board_id=str(board) if board is not None else None,
            note_dedupe_minutes=_number(
                integration, "note_dedupe_minutes", default.note_dedupe_minutes
            ),
            sync_sites=_flag(integration.setting("sync_sites", True)),
        )

    def ticket_url(self, account: ConnectWiseAccount, ticket_id: int | str) -> str:
        if not self.ticket_url_template:
            return ""
        try:
            return self.ticket_url_template.format(
                console=(self.console_url or account.console_url).rstrip("/"),
                id=ticket_id,
                company=quote(account.company_id, safe=""),
            )
        except (KeyError, IndexError, ValueError):
            return ""  # a template naming other placeholders: no link rather than no ticket


class ConnectWiseClient:
    def __init__(
        self,
        http: httpx.AsyncClient,
        account: ConnectWiseAccount,
        limit: RateLimit | None = None,
        *,
        clock: Clock | None = None,
    ) -> None:
        self._transport = VendorTransport(http, vendor="ConnectWise", limit=limit, clock=clock)
        self._account = account
        self.clock = self._transport.clock

    async def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        response = await self._transport.request(
            "GET", self._account.api_url + path, headers=self._account.headers(), params=params
        )
        return _json(response)

    async def pages(
        self, path: str, params: Mapping[str, Any], *, page_size: int = MAX_PAGE_SIZE
    ) -> AsyncIterator[list[Any]]:
        """Every page of a list, following ``rel="next"`` until the last one."""
        page = 1
        while True:
            response = await self._transport.request(
                "GET",
                self._account.api_url + path,
                headers=self._account.headers(),
                params={**params, "page": page, "pageSize": page_size},
            )
            items = _json(response)
            if not isinstance(items, list):
                raise VendorRejected(f"ConnectWise answered {path} with something not a list")
            yield items
            following = _next_page(response, page, len(items), page_size)
            if following is None:
                return
            page = following

    async def post(self, path: str, body: Any) -> Any:
        response = await self._transport.request(
            "POST", self._account.api_url + path, headers=self._account.headers(), json=body
        )
        return _json(response)

    async def patch(self, path: str, operations: list[dict[str, Any]]) -> Any:
        response = await self._transport.request(
            "PATCH", self._account.api_url + path, headers=self._account.headers(), json=operations
        )
        return _json(response)

    async def add_ticket_note(self, ticket_id: str, body: dict[str, Any]) -> Any:
        return await self.post(f"/service/tickets/{ticket_id}/notes", body)

    async def list_callbacks(self, conditions: str) -> Any:
        return await self.get("/system/callbacks", {"conditions": conditions, "pageSize": 100})

    async def create_callback(self, body: dict[str, Any]) -> Any:
        return await self.post("/system/callbacks", body)

    async def signing_key(self, key_url: str) -> Any:
        """Fetch a callback's signing key; the caller has already pinned ``key_url``'s host."""
        response = await self._transport.request(
            "GET",
            key_url,
            headers={"clientId": self._account.client_id, "Accept": "application/json"},
        )
        return _json(response)


def _number(integration: Integration, key: str, default: int) -> int:
    try:
        return int(integration.setting(key, default))
    except (TypeError, ValueError):
        raise VendorRejected(f"the integration's {key} setting must be a whole number") from None


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _next_page(response: httpx.Response, page: int, count: int, page_size: int) -> int | None:
    """The page ``rel="next"`` names. Only its page number is taken: the link's host may be the
    console's rather than the API's, and credentials go only where the operator pointed them."""
    if "link" not in response.headers:
        # No navigation at all: a full page may have a successor, a short one has not.
        return page + 1 if count >= page_size else None
    target = response.links.get("next", {}).get("url")
    if not target:
        return None
    try:
        following = int(httpx.URL(target).params.get("page", ""))
    except (ValueError, httpx.InvalidURL):
        raise VendorRejected(f"ConnectWise's next link names no page: {target}") from None
    return following if following > page else None


def _json(response: httpx.Response) -> Any:
    return json_body(response, "ConnectWise")
