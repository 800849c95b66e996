"""The one error a sandboxed vendor answers with, and the Falcon handler that writes it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import falcon.asgi


class VendorError(Exception):
    """A refusal in the vendor's own shape: a status, a JSON body and any headers.

    Each vendor keeps one small function that builds its body (``{"errors": [...]}``,
    ``{"code", "message"}``, ...) and raises this; ``vendor_app`` registers the handler once.
    A ``bytes`` body is sent as it is, for answers that are deliberately not JSON.
    """

    def __init__(self, status: int, body: Any, *, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(f"{status} {body!r}")
        self.status = status
        self.body = body
        self.headers: Mapping[str, str] = dict(headers or {})


async def handle_vendor_error(
    req: falcon.asgi.Request, resp: falcon.asgi.Response, error: VendorError, params: Any
) -> None:
    """Write a ``VendorError`` as the vendor would: its status, headers and body."""
    resp.status = error.status
    for name, value in error.headers.items():
        resp.set_header(name, value)
    if isinstance(error.body, bytes):
        resp.content_type = "application/json"
        resp.data = error.body
    else:
        resp.media = error.body
