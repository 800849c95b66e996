"""Falcon pieces every sandboxed vendor's resources use: a fixed answer, a JSON body read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import falcon
import falcon.asgi

from vectis_sandbox.kit.errors import VendorError

T = TypeVar("T")
_KINDS: dict[type[Any], str] = {dict: "object", list: "array"}


class Fixed:
    """A ``GET`` answered with whatever ``rows()`` gives now: a reference list or an info."""

    def __init__(self, rows: Callable[[], Any]) -> None:
        self._rows = rows

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.media = self._rows()


async def json_body(
    req: falcon.asgi.Request, kind: type[T], refuse: Callable[[str], VendorError]
) -> T:
    """The request's JSON body when it is a ``kind``; otherwise the vendor's ``refuse(reason)``."""
    try:
        body = await req.get_media()
    except falcon.MediaMalformedError:
        raise refuse("The request body is not JSON") from None
    if not isinstance(body, kind):
        raise refuse(f"The request body must be a JSON {_KINDS.get(kind, kind.__name__)}")
    return body
