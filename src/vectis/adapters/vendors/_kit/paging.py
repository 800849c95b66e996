"""Paging a vendor's lists: one paginator per pagination style and the one loop that uses them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Mapping, Sequence
from typing import Any, Protocol

import httpx
from attrs import define, evolve, field, frozen

from vectis.adapters.vendors._http.urls import vendor_url
from vectis.domain.errors import VendorRejected

_UNSEEN = object()


class PagingFailed(VendorRejected):
    """The vendor's paging cannot be followed (it names a page already read, or no page)."""


@frozen(kw_only=True)
class Ask:
    """The request for one page: parameters added to the listing's own, or a URL to follow."""

    params: Mapping[str, Any] = field(factory=dict)
    url: str | None = None


@frozen(kw_only=True)
class VendorPage:
    """One page as fetched: its response, JSON body and rows; ``last`` is set by ``pages``."""

    response: httpx.Response
    body: Any
    rows: Sequence[Any]
    last: bool = False


Fetch = Callable[[Ask], Awaitable[VendorPage]]
"""A client's request for one page, its rows read from the body (``VendorRejected`` if none)."""


class Paginator(Protocol):
    """A pagination style: ``first`` is the first page's request; ``past_end`` whether a page
    repeats the one before because the list ended; ``next`` the request for the page after
    (``None`` after the last). A paginator remembers what it asked for: one per listing."""

    def first(self) -> Ask: ...

    def past_end(self, page: VendorPage) -> bool: ...

    def next(self, page: VendorPage) -> Ask | None: ...


async def pages(
    fetch: Fetch, paginator: Paginator, *, vendor: str, path: str
) -> AsyncIterator[VendorPage]:
    """Every page of one listing, each marked ``last`` or not.

    A client says what it pages (``fetch``, and the paginator its vendor documents) and never
    writes this loop. No page is asked for twice: a vendor naming a page already read is
    paging in a loop, and the listing fails with a ``PagingFailed`` naming ``vendor`` and
    ``path`` instead of reading forever or passing for complete.
    """
    ask: Ask | None = paginator.first()
    while ask is not None:
        page = await fetch(ask)
        try:
            if paginator.past_end(page):
                return
            ask = paginator.next(page)
        except PagingFailed as error:
            raise PagingFailed(f"{vendor} {path}: {error}") from None
        yield evolve(page, last=ask is None)


def in_body(*keys: str) -> Callable[[VendorPage], Any]:
    """Reads the value at ``keys`` in a page's body (``None`` when any step is missing)."""

    def read(page: VendorPage) -> Any:
        value = page.body
        for key in keys:
            value = value.get(key) if isinstance(value, Mapping) else None
        return value

    return read


@define(kw_only=True)
class _Paginator:
    """What the styles share: what each asked for, so that it never asks for it again."""

    _asked: set[Hashable] = field(factory=set, init=False, repr=False)

    def past_end(self, page: VendorPage) -> bool:
        return False

    def _once(self, key: Hashable, what: str) -> None:
        if key in self._asked:
            raise PagingFailed(f"the vendor named {what} again after reading it: a paging loop")
        self._asked.add(key)


@define(kw_only=True)
class LinkHeaderPaginator(_Paginator):
    """RFC 8288 ``Link: <…>; rel="next"`` (ConnectWise): only the page number the link names is
    taken, asked for on the listing's own URL, since the link's host may be another (the
    console's) and credentials go only where the operator pointed them. With no ``Link``
    header at all, a full page may have a successor and a short one has not."""

    size: int
    page_param: str = "page"
    size_param: str = "pageSize"
    _page: int = field(default=1, init=False)

    def first(self) -> Ask:
        self._once(1, "page 1")
        return self._ask()

    def next(self, page: VendorPage) -> Ask | None:
        if "link" not in page.response.headers:
            if len(page.rows) < self.size:
                return None
            following = self._page + 1
        else:
            target = page.response.links.get("next", {}).get("url")
            if not target:
                return None
            try:
                following = int(httpx.URL(target).params.get(self.page_param, ""))
            except (ValueError, httpx.InvalidURL):
                raise PagingFailed(f"the next link names no page: {target}") from None
        self._once(following, f"page {following}")
        self._page = following
        return self._ask()

    def _ask(self) -> Ask:
        return Ask(params={self.page_param: self._page, self.size_param: self.size})


@define(kw_only=True)
class NextUrlPaginator(_Paginator):
    """A next page's URL in the body at ``at`` (Autotask ``pageDetails.nextPageUrl``, OData
    ``@odata.nextLink``), followed as given once it is on the scheme, host and port of the page
    that named it: it receives the credentials."""

    at: tuple[str, ...]
    vendor: str

    def first(self) -> Ask:
        return Ask()

    def next(self, page: VendorPage) -> Ask | None:
        url = in_body(*self.at)(page)
        if not url:
            return None
        if not isinstance(url, str):
            raise PagingFailed(f"the next page URL is not a string: {url!r}")
        origin = str(page.response.request.url)
        vendor_url(url, vendor=self.vendor, what="next page URL", origins=[origin])
        self._once(url, f"the page {url}")
        return Ask(url=url)


@define(kw_only=True)
class PageNumberPaginator(_Paginator):
    """Page numbers from 1 (HaloPSA ``page_no``, Pax8, Datto): a short page is the last, and so
    is the page that brings the rows read to the ``total`` the body states.

    A page beginning with the previous page's first row (by ``row_id``, else the whole row) is
    a page number not acted on: a paging loop, unless ``repeat_ends`` — a vendor that answers a
    page past the end with its last page again (HaloPSA), whose list ends without that page."""

    size: int
    page_param: str = "page"
    size_param: str = "pageSize"
    total: Callable[[VendorPage], int | None] | None = None
    row_id: Callable[[Any], Any] | None = None
    repeat_ends: bool = False
    _page: int = field(default=1, init=False)
    _read: int = field(default=0, init=False)
    _first_row: Any = field(default=_UNSEEN, init=False, repr=False)

    def first(self) -> Ask:
        return self._ask()

    def past_end(self, page: VendorPage) -> bool:
        if not page.rows:
            return False
        row = page.rows[0] if self.row_id is None else self.row_id(page.rows[0])
        before, self._first_row = self._first_row, row
        if before is _UNSEEN or row != before:
            return False
        if self.repeat_ends:
            return True
        raise PagingFailed(f"page {self._page} repeats page {self._page - 1}: a paging loop")

    def next(self, page: VendorPage) -> Ask | None:
        self._read += len(page.rows)
        total = self.total(page) if self.total is not None else None
        if len(page.rows) < self.size or (total is not None and self._read >= total):
            return None
        self._page += 1
        return self._ask()

    def _ask(self) -> Ask:
        return Ask(params={self.size_param: self.size, self.page_param: self._page})


@define(kw_only=True)
class CursorPaginator(_Paginator):
    """A ``token`` read from each page and sent as ``param`` (NinjaOne ``after`` = the last id
    and ``/queries`` ``cursor``, SentinelOne ``pagination.nextCursor``, Huntress
    ``next_page_token``): no token ends the list, and so does a short page when ``size`` is
    given (sent as ``size_param``). ``position`` is where a token points, for loop detection,
    when the token may repeat (a cursor whose name stays while its offset moves)."""

    param: str
    token: Callable[[VendorPage], Hashable | None]
    size: int | None = None
    size_param: str = "pageSize"
    position: Callable[[VendorPage], Hashable] | None = None

    def first(self) -> Ask:
        return Ask(params=self._sized())

    def next(self, page: VendorPage) -> Ask | None:
        token = self.token(page)
        if token is None or token == "" or (self.size is not None and len(page.rows) < self.size):
            return None
        where = token if self.position is None else self.position(page)
        self._once(where, f"{self.param} {token!r}")
        return Ask(params={**self._sized(), self.param: token})

    def _sized(self) -> dict[str, Any]:
        return {self.size_param: self.size} if self.size is not None else {}


@define(kw_only=True)
class OffsetPaginator(PageNumberPaginator):
    """A start position counted in rows (QuickBooks ``STARTPOSITION``, one-based, with
    ``MAXRESULTS``): a page starts after the rows read, and ends the list as a page number's
    does. Every page before it was full, so the rows read are the pages read times ``size``."""

    page_param: str = "STARTPOSITION"
    size_param: str = "MAXRESULTS"
    start: int = 1

    def _ask(self) -> Ask:
        return Ask(params={self.page_param: self.start + self._read, self.size_param: self.size})
