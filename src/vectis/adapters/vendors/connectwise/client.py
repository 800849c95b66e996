"""ConnectWise Manage REST 3.0: Basic auth ``company+publicKey:privateKey`` plus ``clientId``."""

from __future__ import annotations

import base64
from typing import Any

import httpx
from attrs import frozen

from vectis.adapters.vendors._http.transport import RateLimit, VendorTransport
from vectis.domain.errors import VendorRejected
from vectis.domain.integration import Credentials

API_ROOT = "/apis/3.0"
ACCEPT = "application/vnd.connectwise.com+json; version=2022.1"


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

    def headers(self) -> dict[str, str]:
        user = f"{self.company_id}+{self.public_key}:{self.private_key}"
        return {
            "Authorization": "Basic " + base64.b64encode(user.encode()).decode(),
            "clientId": self.client_id,
            "Accept": ACCEPT,
        }


class ConnectWiseClient:
    def __init__(
        self, http: httpx.AsyncClient, account: ConnectWiseAccount, limit: RateLimit | None = None
    ) -> None:
        self._transport = VendorTransport(http, vendor="ConnectWise", limit=limit)
        self._account = account

    async def add_ticket_note(self, ticket_id: str, body: dict[str, Any]) -> Any:
        response = await self._transport.request(
            "POST",
            f"{self._account.api_url}/service/tickets/{ticket_id}/notes",
            headers=self._account.headers(),
            json=body,
        )
        return _json(response)

    async def list_callbacks(self, conditions: str) -> Any:
        response = await self._transport.request(
            "GET",
            f"{self._account.api_url}/system/callbacks",
            headers=self._account.headers(),
            params={"conditions": conditions, "pageSize": 100},
        )
        return _json(response)

    async def create_callback(self, body: dict[str, Any]) -> Any:
        response = await self._transport.request(
            "POST",
            f"{self._account.api_url}/system/callbacks",
            headers=self._account.headers(),
            json=body,
        )
        return _json(response)

    async def signing_key(self, key_url: str) -> Any:
        """Fetch a callback's signing key; the caller has already pinned ``key_url``'s host."""
        response = await self._transport.request(
            "GET",
            key_url,
            headers={"clientId": self._account.client_id, "Accept": "application/json"},
        )
        return _json(response)


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        raise VendorRejected("ConnectWise answered with a body that is not JSON") from None
