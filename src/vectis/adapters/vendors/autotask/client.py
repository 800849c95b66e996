"""Autotask REST v1.0: the account, its zone, and the HTTP calls (queries, writes, metadata).

Every request carries ``ApiIntegrationCode``, ``UserName`` and ``Secret``. The integration's
base URL is the zone's REST root (``https://webservices5.autotask.net/atservicesrest``); when it
is empty or the global host, the zone is discovered with ``GET /v1.0/zoneInformation?user=``
and looked up again once after a 401, since Autotask moves databases between zones.
"""

from __future__ import annotations

import email.utils
import json
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
from attrs import frozen

from vectis.adapters.vendors._http.transport import RateLimit, VendorTransport, json_body
from vectis.adapters.vendors._http.urls import vendor_url
from vectis.adapters.vendors._kit import paging
from vectis.adapters.vendors._kit.paging import Ask, NextUrlPaginator, VendorPage
from vectis.adapters.vendors.autotask.settings import (
    GLOBAL_URL,
    AutotaskAccount,
    AutotaskSettings,
)
from vectis.application.ports import Clock
from vectis.domain.errors import VendorAuthFailed, VendorNotFound, VendorRejected

__all__ = ["ALL", "GLOBAL_URL", "AutotaskClient", "Page", "Zone"]

ZONE_DOMAIN = "autotask.net"
"""Autotask's zones (``webservicesN.autotask.net``): where a discovered zone URL must be."""
ALL = {"op": "gte", "field": "id", "value": 0}
"""Autotask refuses a query without a filter; this one matches every record."""


@frozen(kw_only=True)
class Zone:
    """Where the account's database lives: its REST root and its web console."""

    api_url: str
    web_url: str
    discovered: bool = False


@frozen(kw_only=True)
class Page:
    """One query page; ``served_at`` is the response's ``Date`` header (the server's clock)."""

    items: Sequence[Any]
    last: bool
    served_at: datetime | None = None


class AutotaskClient:
    """The HTTP calls Vectis makes to one Autotask account."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        account: AutotaskAccount,
        settings: AutotaskSettings | None = None,
        limit: RateLimit | None = None,
        *,
        clock: Clock | None = None,
    ) -> None:
        self._transport = VendorTransport(http, vendor="Autotask", limit=limit, clock=clock)
        self.clock = self._transport.clock
        self._account = account
        self._settings = settings or AutotaskSettings()
        self._zone: Zone | None = None

    async def zone(self) -> Zone:
        if self._zone is None:
            self._zone = await self._find_zone()
        return self._zone

    async def get(self, path: str) -> Any:
        """``GET {zone}/v1.0/{path}``."""
        return _json(await self._send("GET", path))

    async def get_item(self, entity: str, item_id: str) -> Any:
        """One record by id; Autotask answers ``{"item": null}`` for an unknown id."""
        body = await self.get(f"{entity}/{item_id}")
        item = body.get("item") if isinstance(body, dict) else None
        if not isinstance(item, dict):
            raise VendorNotFound(f"Autotask has no {entity} with id {item_id}")
        return item

    async def query(
        self,
        entity: str,
        filters: Sequence[Mapping[str, Any]],
        fields: Sequence[str] = (),
    ) -> AsyncIterator[Page]:
        """``GET {entity}/query?search=``, then every ``pageDetails.nextPageUrl`` verbatim.

        ``fields`` become the search's ``IncludeFields``: Autotask then returns only those
        fields of each record (REST_Advanced_Query_Features); empty asks for every field.

        Autotask documents ``POST {entity}/query`` with the same JSON as a body too; the GET
        form is used because a read that may be repeated is retried by the transport. A next-page
        URL must be on the scheme, host and port of the page that named it: it receives the
        credentials.
        """

        async def fetch(ask: Ask) -> VendorPage:
            if ask.url is None:
                response = await self._search(entity, filters, self._settings.page_size, fields)
            else:
                response = await self._send("GET", ask.url)
            document = _json(response)
            if not isinstance(document, dict) or not isinstance(document.get("items"), list):
                raise VendorRejected(f"Autotask answered a {entity} query without items")
            return VendorPage(response=response, body=document, rows=document["items"])

        paginator = NextUrlPaginator(at=("pageDetails", "nextPageUrl"), vendor="Autotask")
        async for page in paging.pages(fetch, paginator, vendor="Autotask", path=f"{entity}/query"):
            yield Page(items=page.rows, last=page.last, served_at=_served_at(page.response))

    async def first(
        self,
        entity: str,
        filters: Sequence[Mapping[str, Any]],
        fields: Sequence[str] = (),
    ) -> Any:
        """The first record a query matches, or ``None``: one request, no paging."""
        document = _json(await self._search(entity, filters, 1, fields))
        items = document.get("items") if isinstance(document, dict) else None
        if not isinstance(items, list):
            raise VendorRejected(f"Autotask answered a {entity} query without items")
        return items[0] if items else None

    async def query_all(
        self,
        entity: str,
        filters: Sequence[Mapping[str, Any]],
        fields: Sequence[str] = (),
    ) -> list[Any]:
        return [item async for page in self.query(entity, filters, fields) for item in page.items]

    async def create(self, path: str, body: Mapping[str, Any]) -> str:
        """``POST`` a new record; Autotask answers ``{"itemId": n}``."""
        return _item_id(await self._send("POST", path, body=dict(body), write=True), path)

    async def update(self, entity: str, body: Mapping[str, Any]) -> str:
        """``PATCH {entity}`` with ``id`` and the changed fields only."""
        return _item_id(await self._send("PATCH", entity, body=dict(body), write=True), entity)

    async def _search(
        self,
        entity: str,
        filters: Sequence[Mapping[str, Any]],
        max_records: int,
        fields: Sequence[str],
    ) -> httpx.Response:
        search: dict[str, Any] = {"MaxRecords": max_records, "filter": list(filters) or [ALL]}
        if fields:
            search["IncludeFields"] = list(fields)
        return await self._send(
            "GET", f"{entity}/query", params={"search": json.dumps(search, separators=(",", ":"))}
        )

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        write: bool = False,
    ) -> httpx.Response:
        headers = self._account.headers()
        if write and self._settings.impersonation_resource_id:
            headers["ImpersonationResourceId"] = self._settings.impersonation_resource_id
        for attempt in (1, 2):
            zone = await self.zone()
            url = (
                path if path.startswith(("http://", "https://")) else f"{zone.api_url}/v1.0/{path}"
            )
            try:
                return await self._transport.request(
                    method, url, headers=headers, params=params, json=body
                )
            except VendorAuthFailed:
                if attempt == 2 or not zone.discovered:
                    raise
                self._zone = None  # the database may have moved zones: look it up again
        raise AssertionError("unreachable")

    async def _find_zone(self) -> Zone:
        base = self._account.base_url
        lookup = self._settings.zone_lookup_url
        if base and base.lower() != lookup.lower() and base.lower() != GLOBAL_URL:
            return Zone(api_url=base, web_url=self._settings.web_url or _web_url_of(base))
        lookup_url = f"{base or lookup}/v1.0/zoneInformation"
        response = await self._transport.request(
            "GET",
            lookup_url,
            params={"user": self._account.username},
            headers={"Accept": "application/json"},
        )
        info = _json(response)
        url = info.get("url") if isinstance(info, dict) else None
        if not isinstance(url, str) or not url:
            raise VendorRejected("Autotask's zoneInformation named no zone URL")
        # The zone receives the credentials: https on Autotask's domain, or the lookup's host.
        vendor_url(
            url, vendor="Autotask", what="zone URL", origins=[lookup_url], domain=ZONE_DOMAIN
        )
        web = info.get("webUrl") if isinstance(info.get("webUrl"), str) else ""
        return Zone(
            api_url=url.rstrip("/"),
            web_url=self._settings.web_url or str(web).rstrip("/") or _web_url_of(url),
            discovered=True,
        )


def _web_url_of(api_url: str) -> str:
    """``https://webservices5.autotask.net/...`` → ``https://ww5.autotask.net``."""
    parts = urlsplit(api_url)
    host = parts.hostname or ""
    if host.startswith("webservices") and host.endswith(".autotask.net"):
        return f"https://ww{host.removeprefix('webservices').split('.', 1)[0]}.autotask.net"
    return f"{parts.scheme}://{parts.netloc}"


def _served_at(response: httpx.Response) -> datetime | None:
    raw = response.headers.get("date")
    if not raw:
        return None
    try:
        return email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None


def _item_id(response: httpx.Response, what: str) -> str:
    body = _json(response)
    item_id = body.get("itemId") if isinstance(body, dict) else None
    if item_id is None:
        raise VendorRejected(f"Autotask did not return the id of the {what} it wrote")
    return str(item_id)


def _json(response: httpx.Response) -> Any:
    return json_body(response, "Autotask")
