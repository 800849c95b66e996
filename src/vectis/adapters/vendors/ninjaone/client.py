"""NinjaOne public API v2: an OAuth2 client-credentials token, bearer calls, two kinds of paging.

The token comes from ``POST {instance}/ws/oauth/token`` (form ``grant_type=client_credentials``,
``client_id``, ``client_secret``, ``scope``). It is cached per API client until shortly before
``expires_in`` runs out, and fetched again once when the API refuses it. Lists page with
``pageSize`` + ``after`` (the last id of the previous page); the ``/queries`` reports page with
the ``cursor`` name each answer carries.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import httpx

from vectis.adapters.vendors._entry import Link
from vectis.adapters.vendors._http.oauth import ClientCredentials, OAuthApi
from vectis.adapters.vendors._http.transport import RateLimit, json_body
from vectis.adapters.vendors._kit import paging
from vectis.adapters.vendors._kit.paging import Ask, CursorPaginator, VendorPage, in_body
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
        self._api = OAuthApi(
            http,
            vendor=VENDOR_LABEL,
            api_url=account.api_url,
            credentials=ClientCredentials(
                token_url=account.token_url,
                client_id=account.client_id,
                client_secret=account.client_secret,
                scope=account.scope,
            ),
            limit=limit,
            token_cache=token_cache,
            clock=clock,
        )
        self.clock = self._api.clock
        self._account = account

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

    def pages_after(
        self, path: str, page_size: int, params: Mapping[str, Any] | None = None
    ) -> AsyncIterator[tuple[list[Any], bool]]:
        """Each page of a ``pageSize``/``after`` list and whether it is the last one.

        A short page ends the list; so does a page whose last row has no integer id, which
        could not say where the next page starts.
        """
        paginator = CursorPaginator(param="after", token=_last_id, size=page_size)
        return self._pages(path, params, paginator, lambda body: body, "with something not a list")

    def pages_by_cursor(
        self, path: str, page_size: int, params: Mapping[str, Any] | None = None
    ) -> AsyncIterator[tuple[list[Any], bool]]:
        """Each page of a ``/queries`` report (``{"cursor": {"name"...}, "results": [...]}``)
        and whether it is the last one; the next page is asked for by the cursor's name.

        UNCONFIRMED: that a report's cursor keeps its name from page to page while its
        ``offset`` moves (as the recorded pages show), so a loop is the same name and offset.
        """
        paginator = CursorPaginator(
            param="cursor",
            token=_cursor_name,
            size=page_size,
            position=lambda page: (_cursor_name(page), in_body("cursor", "offset")(page)),
        )
        return self._pages(path, params, paginator, _results, "without a results list")

    async def _pages(
        self,
        path: str,
        params: Mapping[str, Any] | None,
        paginator: CursorPaginator,
        rows_of: Callable[[Any], Any],
        refusal: str,
    ) -> AsyncIterator[tuple[list[Any], bool]]:
        async def fetch(ask: Ask) -> VendorPage:
            query = {**(params or {}), **ask.params}
            response = await self._api.call("GET", path, params=query)
            body = _json(response)
            rows = rows_of(body)
            if not isinstance(rows, list):
                raise VendorRejected(f"{VENDOR_LABEL} answered {path} {refusal}")
            return VendorPage(response=response, body=body, rows=rows)

        async for page in paging.pages(fetch, paginator, vendor=VENDOR_LABEL, path=path):
            yield list(page.rows), page.last

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> Any:
        response = await self._api.call(method, path, params=params, json=json)
        return _json(response)


def _last_id(page: VendorPage) -> int | None:
    """Where the next page of an ``after`` list starts: the last row's integer id."""
    last = page.rows[-1] if page.rows else None
    last_id = last.get("id") if isinstance(last, dict) else None
    return last_id if isinstance(last_id, int) else None


def _cursor_name(page: VendorPage) -> str | None:
    name = in_body("cursor", "name")(page)
    return name if isinstance(name, str) and name else None


def _results(body: Any) -> Any:
    return body.get("results") if isinstance(body, dict) else None


def _json(response: httpx.Response) -> Any:
    return json_body(response, VENDOR_LABEL, allow_empty=True)
