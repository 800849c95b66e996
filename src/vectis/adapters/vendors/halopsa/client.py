"""HaloPSA REST: an OAuth2 client-credentials token, bearer calls under ``/api``, paged lists.

The token comes from ``POST {base}/auth/token`` (form ``grant_type=client_credentials``,
``client_id``, ``client_secret``, ``scope``; hosted Halo adds ``?tenant=``). It is cached per
OAuth client until shortly before ``expires_in`` runs out, and fetched again once when the API
refuses it (a token revoked or expired early).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from datetime import datetime
from typing import Any

import httpx

from vectis.adapters.vendors._entry import Link
from vectis.adapters.vendors._http.oauth import ClientCredentials, OAuthApi
from vectis.adapters.vendors._http.transport import RateLimit, json_body
from vectis.adapters.vendors._kit import paging
from vectis.adapters.vendors._kit.paging import Ask, PageNumberPaginator, VendorPage
from vectis.adapters.vendors.halopsa.settings import MAX_PAGE_SIZE, HaloAccount
from vectis.application.ports import Clock
from vectis.domain.errors import VendorRejected

VENDOR_LABEL = "HaloPSA"


class HaloClient:
    """Authenticated calls for one Halo account; ``token_cache`` outlives the client."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        account: HaloAccount,
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
                token_params={"tenant": account.tenant} if account.tenant else {},
            ),
            limit=limit,
            token_cache=token_cache,
            clock=clock,
        )
        self.clock = self._api.clock
        self._account = account

    @classmethod
    def of(cls, link: Link) -> HaloClient:
        """The client a registry link describes; its token cache is the registry's shared key
        cache, so one token serves every gateway of one OAuth client in this process."""
        return cls(
            link.http,
            HaloAccount.of(link),
            limit=link.limit,
            token_cache=link.key_cache,
            clock=link.clock,
        )

    @property
    def account(self) -> HaloAccount:
        return self._account

    async def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return await self._call("GET", path, params=params)

    async def post(self, path: str, body: Any) -> Any:
        return await self._call("POST", path, json=body)

    async def pages(
        self,
        path: str,
        params: Mapping[str, Any],
        *,
        key: str,
        page_size: int = MAX_PAGE_SIZE,
    ) -> AsyncIterator[tuple[list[Any], bool]]:
        """Each page's rows and whether it is known to be the last (``pageinate``/``page_no``).

        Halo has been seen to answer a page past the end with the last page again, so a page
        that starts with the previous page's first record ends the listing too.
        """

        async def fetch(ask: Ask) -> VendorPage:
            query = {**params, "pageinate": "true", **ask.params}
            response = await self._api.call("GET", path, params=query)
            body = _json(response)
            return VendorPage(response=response, body=body, rows=unwrap(body, key, path)[0])

        paginator = PageNumberPaginator(
            size=max(1, min(page_size, MAX_PAGE_SIZE)),
            page_param="page_no",
            size_param="page_size",
            total=lambda page: _record_count(page.body),
            row_id=_row_id,
            repeat_ends=True,
        )
        async for page in paging.pages(fetch, paginator, vendor=VENDOR_LABEL, path=path):
            yield list(page.rows), page.last

    async def newest_first(
        self,
        path: str,
        params: Mapping[str, Any],
        *,
        key: str,
        order: str,
        stamp: Callable[[Any], datetime | None],
        floor: datetime | None,
        page_size: int = MAX_PAGE_SIZE,
    ) -> AsyncIterator[list[Any]]:
        """The pages of a list asked for newest first by ``order``, down to ``floor``.

        Halo documents ``order`` ("the name of the field to order by") and ``orderdesc`` on its
        lists, but not which field names it sorts on, so the order is checked as rows arrive
        (``stamp`` reads a row's time): while no row is newer than the one before, the reading
        stops after the page that reaches a row older than ``floor``; once a row breaks the
        order, Halo has ignored it and the list is read to its end — a full read, which the
        caller's change detection (row time against its cursor) filters all the same.
        """
        query = {**params, "order": order, "orderdesc": "true"}
        ordered, previous = True, None
        async for rows, _ in self.pages(path, query, key=key, page_size=page_size):
            yield rows
            for moment in (stamp(row) for row in rows):
                if moment is not None:
                    ordered = ordered and (previous is None or moment <= previous)
                    previous = moment
            if floor is not None and ordered and previous is not None and previous < floor:
                return

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


def unwrap(body: Any, key: str, path: str = "") -> tuple[list[Any], int | None]:
    """A list answer's rows and ``record_count`` (when given).

    UNCONFIRMED: Halo's list wrapper (``{"record_count": n, "<key>": [...]}``) is seen in
    third-party clients, not in the swagger, and some endpoints answer a bare array. Both are
    accepted; when ``key`` is absent, the one array the wrapper holds is taken.
    """
    if isinstance(body, list):
        return body, None
    if isinstance(body, dict):
        total = _record_count(body)
        rows = body.get(key)
        if rows is None and key not in body:
            arrays = [value for value in body.values() if isinstance(value, list)]
            rows = arrays[0] if len(arrays) == 1 else None
            if rows is None and total == 0:
                rows = []
        if rows is None and key in body:
            rows = []
        if isinstance(rows, list):
            return rows, total
    raise VendorRejected(
        f"{VENDOR_LABEL} answered {path or 'a list'} with neither an array "
        f"nor a {{record_count, {key}}} object"
    )


def one(body: Any) -> dict[str, Any]:
    """The object a write answers with: Halo returns the object itself, or an array of one."""
    if isinstance(body, list) and len(body) == 1:
        body = body[0]
    if not isinstance(body, dict):
        raise VendorRejected(f"{VENDOR_LABEL} answered a write with no object")
    return body


def _record_count(body: Any) -> int | None:
    count = body.get("record_count") if isinstance(body, dict) else None
    return count if isinstance(count, int) and not isinstance(count, bool) else None


def _row_id(row: Any) -> Any:
    return row.get("id") if isinstance(row, dict) else row


def _json(response: httpx.Response) -> Any:
    return json_body(response, VENDOR_LABEL, allow_empty=True)
