"""NinjaOne public API v2: an OAuth2 client-credentials token, bearer calls, two kinds of paging.

The token comes from ``POST {instance}/ws/oauth/token`` (form ``grant_type=client_credentials``,
``client_id``, ``client_secret``, ``scope``). It is cached per API client until shortly before
``expires_in`` runs out, and fetched again once when the API refuses it. Lists page with
``pageSize`` + ``after`` (the last id of the previous page); the ``/queries`` reports page with
the ``cursor`` name each answer carries.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx

from vectis.adapters.vendors._entry import Link
from vectis.adapters.vendors._http.oauth import BearerSession, ClientCredentials
from vectis.adapters.vendors._http.transport import RateLimit, VendorTransport, json_body
from vectis.adapters.vendors.ninjaone.settings import NinjaOneAccount
from vectis.application.ports import Clock
from vectis.domain.errors import VendorRejected

VENDOR_LABEL = "NinjaOne"


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

    @classmethod
    def of(cls, link: Link) -> NinjaOneClient:
        return cls(
            link.http,
            NinjaOneAccount.of(link),
            limit=link.limit,
            token_cache=link.key_cache,
            clock=link.clock,
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
