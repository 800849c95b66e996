"""Pages as vendors document them: a window of a list, a page by number, an opaque cursor,
and the URL of the next page."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import urlencode

from attrs import define, field

T = TypeVar("T")


def window(rows: Sequence[T], offset: int, size: int) -> list[T]:
    """``size`` rows from ``offset`` (0-based): offset and start-position paging."""
    start = max(0, offset)
    return list(rows[start : start + size])


def numbered_page(rows: Sequence[T], number: int, size: int) -> list[T]:
    """Page ``number`` (from 1) of ``size`` rows: page-number paging."""
    return window(rows, (number - 1) * size, size)


def page_count(count: int, size: int) -> int:
    """How many pages of ``size`` hold ``count`` rows; an empty list is still one page."""
    return max(1, -(-count // size))


def page_url(url: str, params: Mapping[str, Any]) -> str:
    """``url`` with ``params`` as its query: a next (or previous, first, last) page's address."""
    return f"{url}?{urlencode(params)}"


@define
class CursorBook:
    """The opaque cursors a vendor handed out, each naming where its list stopped.

    A cursor reads on only in the list (``scope``, e.g. the request path) that issued it, so a
    connector that carries one to another list is refused, as the vendor refuses it.
    """

    _open: dict[str, tuple[str, int]] = field(factory=dict)

    def issue(self, scope: str, offset: int) -> str:
        """A new cursor for reading ``scope`` on from ``offset``."""
        name = secrets.token_hex(8)
        self._open[name] = (scope, offset)
        return name

    def offset(self, name: str, scope: str) -> int | None:
        """Where cursor ``name`` reads on in ``scope``; ``None`` for an unknown or foreign one."""
        issued, offset = self._open.get(name, ("", -1))
        return offset if issued == scope else None
