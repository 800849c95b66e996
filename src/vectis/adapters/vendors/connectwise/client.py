"""ConnectWise Manage REST 3.0: Basic auth ``company+publicKey:privateKey`` plus ``clientId``.

Lists page with ``page``/``pageSize`` (at most 1000) and say in the ``Link`` header whether a
``rel="next"`` page exists; the body is a bare JSON array.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx

from vectis.adapters.vendors._entry import Link
from vectis.adapters.vendors._http.transport import RateLimit, VendorTransport, json_body
from vectis.adapters.vendors._kit import paging
from vectis.adapters.vendors._kit.paging import Ask, LinkHeaderPaginator, VendorPage
from vectis.adapters.vendors.connectwise.settings import MAX_PAGE_SIZE, ConnectWiseAccount
from vectis.application.ports import Clock
from vectis.domain.errors import VendorRejected


class ConnectWiseClient:
    """ConnectWise's REST API for one account: JSON in and out, errors classified."""

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

    @classmethod
    def of(cls, link: Link) -> ConnectWiseClient:
        """The client for the integration a gateway factory is given."""
        return cls(link.http, ConnectWiseAccount.of(link), link.limit, clock=link.clock)

    @property
    def account(self) -> ConnectWiseAccount:
        return self._account

    async def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        response = await self._transport.request(
            "GET", self._account.api_url + path, headers=self._account.headers(), params=params
        )
        return _json(response)

    async def pages(
        self, path: str, params: Mapping[str, Any], *, page_size: int = MAX_PAGE_SIZE
    ) -> AsyncIterator[list[Any]]:
        """Every page of a list, following ``rel="next"`` until the last one."""

        async def fetch(ask: Ask) -> VendorPage:
            response = await self._transport.request(
                "GET",
                self._account.api_url + path,
                headers=self._account.headers(),
                params={**params, **ask.params},
            )
            items = _json(response)
            if not isinstance(items, list):
                raise VendorRejected(f"ConnectWise answered {path} with something not a list")
            return VendorPage(response=response, body=items, rows=items)

        paginator = LinkHeaderPaginator(size=page_size)
        async for page in paging.pages(fetch, paginator, vendor="ConnectWise", path=path):
            yield list(page.rows)

    async def post(self, path: str, body: Any) -> Any:
        response = await self._transport.request(
            "POST", self._account.api_url + path, headers=self._account.headers(), json=body
        )
        return _json(response)

    async def patch(self, path: str, operations: Any) -> Any:
        response = await self._transport.request(
            "PATCH", self._account.api_url + path, headers=self._account.headers(), json=operations
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
    return json_body(response, "ConnectWise")
