"""HaloPSA REST: an OAuth2 client-credentials token, bearer calls under ``/api``, paged lists.

The token comes from ``POST {base}/auth/token`` (form ``grant_type=client_credentials``,
``client_id``, ``client_secret``, ``scope``; hosted Halo adds ``?tenant=``). It is cached per
OAuth client until shortly before ``expires_in`` runs out, and fetched again once when the API
refuses it (a token revoked or expired early).
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx
from attrs import field, frozen

from vectis.adapters.vendors._http.oauth import BearerSession, ClientCredentials
from vectis.adapters.vendors._http.transport import RateLimit, VendorTransport, json_body
from vectis.application.ports import Clock
from vectis.domain.errors import (
    VendorRejected,
)
from vectis.domain.integration import Credentials

VENDOR_LABEL = "HaloPSA"
API_ROOT = "/api"
TOKEN_PATH = "/auth/token"  # noqa: S105 - a path, not a secret
MAX_PAGE_SIZE = 100
"""The swagger's stated maximum for ``page_size``."""


@frozen(kw_only=True)
class HaloAccount:
    """Where and as whom to call: ``base_url`` is ``https://{tenant}.halopsa.com`` (no ``/api``)."""

    base_url: str
    client_id: str
    client_secret: str = field(repr=False)
    tenant: str = ""
    scope: str = "all"

    @classmethod
    def from_credentials(
        cls, base_url: str, credentials: Credentials, *, scope: str = "all"
    ) -> HaloAccount:
        try:
            return cls(
                base_url=base_url.rstrip("/"),
                client_id=credentials["client_id"],
                client_secret=credentials["client_secret"],
                tenant=(credentials.get("tenant") or "").strip(),
                scope=scope,
            )
        except KeyError as missing:
            raise VendorRejected(f"HaloPSA credentials lack {missing.args[0]}") from None

    @property
    def api_url(self) -> str:
        return self.base_url + API_ROOT

    @property
    def token_url(self) -> str:
        return self.base_url + TOKEN_PATH

    @property
    def cache_key(self) -> str:
        secret = hashlib.sha256(self.client_secret.encode()).hexdigest()[:16]
        return f"halopsa-token:{self.token_url}:{self.tenant}:{self.client_id}:{secret}"


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
                token_params={"tenant": account.tenant} if account.tenant else {},
            ),
            token_cache if token_cache is not None else {},
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
        size = max(1, min(page_size, MAX_PAGE_SIZE))
        page, seen, previous_first = 1, 0, None
        while True:
            query = {**params, "pageinate": "true", "page_size": size, "page_no": page}
            rows, total = unwrap(await self.get(path, query), key, path)
            first = _row_id(rows[0]) if rows else None
            if page > 1 and rows and first == previous_first:
                return
            seen += len(rows)
            last = len(rows) < size or (total is not None and seen >= total)
            yield rows, last
            if last:
                return
            previous_first, page = first, page + 1

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


def unwrap(body: Any, key: str, path: str = "") -> tuple[list[Any], int | None]:
    """A list answer's rows and ``record_count`` (when given).

    UNCONFIRMED: Halo's list wrapper (``{"record_count": n, "<key>": [...]}``) is seen in
    third-party clients, not in the swagger, and some endpoints answer a bare array. Both are
    accepted; when ``key`` is absent, the one array the wrapper holds is taken.
    """
    if isinstance(body, list):
        return body, None
    if isinstance(body, dict):
        count = body.get("record_count")
        total = count if isinstance(count, int) and not isinstance(count, bool) else None
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


def _row_id(row: Any) -> Any:
    return row.get("id") if isinstance(row, dict) else row


def _json(response: httpx.Response) -> Any:
    return json_body(response, VENDOR_LABEL, allow_empty=True)
