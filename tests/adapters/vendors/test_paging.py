"""The connector kit's paginators: each style's next request, its stop conditions, its loops."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from vectis.adapters.vendors._http.transport import VendorTransport, json_body
from vectis.adapters.vendors._kit import paging
from vectis.adapters.vendors._kit.paging import (
    Ask,
    CursorPaginator,
    LinkHeaderPaginator,
    NextUrlPaginator,
    OffsetPaginator,
    PageNumberPaginator,
    PagingFailed,
    VendorPage,
    in_body,
)
from vectis.domain.errors import VendorRejected

URL = "https://vendor.example/api/items"


def page(
    rows: list[Any],
    body: Any = None,
    *,
    headers: dict[str, str] | None = None,
    url: str = URL,
) -> VendorPage:
    body = rows if body is None else body
    response = httpx.Response(200, headers=headers, json=body, request=httpx.Request("GET", url))
    return VendorPage(response=response, body=body, rows=rows)


def rows(*ids: int) -> list[dict[str, int]]:
    return [{"id": i} for i in ids]


def link(page_number: int, rel: str = "next") -> dict[str, str]:
    return {"Link": f'<https://na.myconnectwise.net/x?page={page_number}&pageSize=2>; rel="{rel}"'}


@pytest.mark.parametrize(
    ("headers", "count", "expected"),
    [
        (link(2), 2, 2),
        (link(1, "first"), 2, None),
        ({}, 2, 2),
        ({}, 1, None),
    ],
)
def test_the_next_page_is_the_one_the_link_header_names_or_a_full_pages_successor(
    headers: dict[str, str], count: int, expected: int | None
) -> None:
    paginator = LinkHeaderPaginator(size=2)

    assert paginator.first() == Ask(params={"page": 1, "pageSize": 2})
    following = paginator.next(page(rows(*range(count)), headers=headers))
    assert following == (None if expected is None else Ask(params={"page": 2, "pageSize": 2}))


def test_a_next_link_without_a_page_number_cannot_be_followed() -> None:
    paginator = LinkHeaderPaginator(size=2)
    paginator.first()
    headers = {"Link": '<https://na.myconnectwise.net/x?pageSize=2>; rel="next"'}

    with pytest.raises(PagingFailed, match="names no page"):
        paginator.next(page(rows(1, 2), headers=headers))


@pytest.mark.parametrize("looping_back_to", [1, 2])
def test_a_next_link_naming_a_page_already_read_is_a_loop(looping_back_to: int) -> None:
    paginator = LinkHeaderPaginator(size=2)
    paginator.first()
    paginator.next(page(rows(1, 2), headers=link(2)))

    with pytest.raises(PagingFailed, match=f"page {looping_back_to} again"):
        paginator.next(page(rows(3, 4), headers=link(looping_back_to)))


def test_a_next_url_in_the_body_is_followed_as_given_until_there_is_none() -> None:
    paginator = NextUrlPaginator(at=("pageDetails", "nextPageUrl"), vendor="Autotask")
    following = f"{URL}/next?paging=abc"

    assert paginator.first() == Ask()
    assert paginator.next(page([], {"pageDetails": {"nextPageUrl": following}})) == Ask(
        url=following
    )
    assert paginator.next(page([], {"pageDetails": {"nextPageUrl": None}})) is None
    assert NextUrlPaginator(at=("@odata.nextLink",), vendor="Graph").next(page([], {})) is None


def test_a_next_url_off_the_pages_origin_is_refused() -> None:
    paginator = NextUrlPaginator(at=("@odata.nextLink",), vendor="Graph")
    body = {"@odata.nextLink": "https://attacker.example/v1.0/users?$skiptoken=x"}

    with pytest.raises(VendorRejected, match="not a host of this integration"):
        paginator.next(page([], body))


def test_the_same_next_url_twice_is_a_loop() -> None:
    paginator = NextUrlPaginator(at=("@odata.nextLink",), vendor="Graph")
    body = {"@odata.nextLink": f"{URL}?$skiptoken=x"}
    paginator.next(page(rows(1), body))

    with pytest.raises(PagingFailed, match=r"skiptoken=x again after reading it: a paging loop"):
        paginator.next(page(rows(2), body))


def halo(**options: Any) -> PageNumberPaginator:
    return PageNumberPaginator(size=2, page_param="page_no", size_param="page_size", **options)


def test_page_numbers_count_up_from_one_until_a_short_page() -> None:
    paginator = halo()

    assert paginator.first() == Ask(params={"page_size": 2, "page_no": 1})
    assert paginator.next(page(rows(1, 2))) == Ask(params={"page_size": 2, "page_no": 2})
    assert paginator.next(page(rows(3))) is None


def test_a_full_page_that_reaches_the_stated_total_is_the_last() -> None:
    paginator = halo(total=in_body("record_count"))
    paginator.first()

    assert paginator.next(page(rows(1, 2), {"record_count": 4})) is not None
    assert paginator.next(page(rows(3, 4), {"record_count": 4})) is None


def test_a_page_repeating_the_one_before_is_a_loop_or_for_halo_the_end() -> None:
    looping, halo_style = halo(), halo(row_id=lambda row: row["id"], repeat_ends=True)
    for paginator in (looping, halo_style):
        paginator.first()
        assert not paginator.past_end(page(rows(1, 2)))
        paginator.next(page(rows(1, 2)))

    with pytest.raises(PagingFailed, match="page 2 repeats page 1"):
        looping.past_end(page(rows(1, 2)))
    assert halo_style.past_end(page(rows(1, 2)))


def test_a_cursor_is_sent_as_its_parameter_until_a_page_carries_none() -> None:
    paginator = CursorPaginator(param="cursor", token=in_body("pagination", "nextCursor"))

    assert paginator.first() == Ask()
    assert paginator.next(page(rows(1), {"pagination": {"nextCursor": "c1"}})) == Ask(
        params={"cursor": "c1"}
    )
    assert paginator.next(page(rows(2), {"pagination": {"nextCursor": None}})) is None
    assert paginator.next(page(rows(2), {"pagination": {"nextCursor": ""}})) is None


def last_id(p: VendorPage) -> Any:
    return p.rows[-1]["id"] if p.rows else None


def test_an_after_cursor_pages_by_the_last_id_and_a_short_page_ends_it() -> None:
    paginator = CursorPaginator(param="after", token=last_id, size=2)

    assert paginator.first() == Ask(params={"pageSize": 2})
    assert paginator.next(page(rows(3, 7))) == Ask(params={"pageSize": 2, "after": 7})
    assert paginator.next(page(rows(9))) is None


def test_the_same_cursor_twice_is_a_loop() -> None:
    paginator = CursorPaginator(param="after", token=last_id, size=2)
    paginator.next(page(rows(3, 7)))

    with pytest.raises(PagingFailed, match="after 7 again after reading it: a paging loop"):
        paginator.next(page(rows(5, 7)))


def test_a_cursor_whose_name_stays_loops_only_when_its_position_repeats() -> None:
    def report(offset: int) -> VendorPage:
        return page(rows(offset, offset + 1), {"cursor": {"name": "q1", "offset": offset}})

    paginator = CursorPaginator(
        param="cursor",
        token=in_body("cursor", "name"),
        size=2,
        position=lambda p: (in_body("cursor", "name")(p), in_body("cursor", "offset")(p)),
    )

    assert paginator.next(report(0)) == Ask(params={"pageSize": 2, "cursor": "q1"})
    assert paginator.next(report(2)) == Ask(params={"pageSize": 2, "cursor": "q1"})
    with pytest.raises(PagingFailed, match="cursor 'q1' again"):
        paginator.next(report(2))


def test_a_start_position_is_one_based_and_moves_by_the_rows_read() -> None:
    paginator = OffsetPaginator(size=2)

    assert paginator.first() == Ask(params={"STARTPOSITION": 1, "MAXRESULTS": 2})
    assert paginator.next(page(rows(1, 2))) == Ask(params={"STARTPOSITION": 3, "MAXRESULTS": 2})
    assert paginator.next(page(rows(3, 4))) == Ask(params={"STARTPOSITION": 5, "MAXRESULTS": 2})
    assert paginator.next(page(rows(5))) is None


def test_a_start_position_the_vendor_did_not_act_on_is_a_loop() -> None:
    paginator = OffsetPaginator(size=2)
    paginator.first()
    paginator.past_end(page(rows(1, 2)))
    paginator.next(page(rows(1, 2)))

    with pytest.raises(PagingFailed, match="repeats"):
        paginator.past_end(page(rows(1, 2)))


Serve = Callable[[httpx.Request], httpx.Response]


async def read_all(
    serve: Serve, paginator: paging.Paginator
) -> tuple[list[tuple[list[Any], bool]], list[httpx.Request]]:
    """Every page the loop reads from ``serve`` through a ``VendorTransport``, and the requests."""
    sent: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return serve(request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(record)) as http:
        transport = VendorTransport(http, vendor="Test")

        async def fetch(ask: Ask) -> VendorPage:
            response = await transport.request("GET", ask.url or URL, params=ask.params)
            body = json_body(response, "Test")
            return VendorPage(response=response, body=body, rows=body["items"])

        read = [
            (list(p.rows), p.last)
            async for p in paging.pages(fetch, paginator, vendor="Test", path="/items")
        ]
    return read, sent


async def test_the_loop_reads_every_page_and_marks_the_last() -> None:
    table = rows(1, 2, 3, 4, 5)

    def serve(request: httpx.Request) -> httpx.Response:
        after = int(request.url.params.get("after", "0"))
        return httpx.Response(200, json={"items": [r for r in table if r["id"] > after][:2]})

    read, sent = await read_all(serve, CursorPaginator(param="after", token=last_id, size=2))

    assert read == [(rows(1, 2), False), (rows(3, 4), False), (rows(5), True)]
    assert [r.url.params.get("after") for r in sent] == [None, "2", "4"]


async def test_the_loop_fails_a_vendor_paging_in_a_loop_naming_it_and_the_path() -> None:
    def serve(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"items": rows(1), "next": "same"})

    with pytest.raises(PagingFailed, match=r"^Test /items: the vendor named next 'same' again"):
        await read_all(serve, CursorPaginator(param="next", token=in_body("next")))


async def test_the_loop_leaves_out_a_page_past_the_end() -> None:
    def serve(request: httpx.Request) -> httpx.Response:
        number = min(int(request.url.params["page"]), 2)
        return httpx.Response(200, json={"items": rows(2 * number - 1, 2 * number)})

    paginator = PageNumberPaginator(size=2, row_id=lambda row: row["id"], repeat_ends=True)
    read, sent = await read_all(serve, paginator)

    assert read == [(rows(1, 2), False), (rows(3, 4), False)]
    assert len(sent) == 3
