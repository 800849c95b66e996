"""Input at the edge: text PostgreSQL and UTF-8 can hold, bounded in size, depth and length.

Checked once, where a request enters: the path, the query string and the header values in a
middleware, and JSON and form bodies in the media handlers that decode them, so no resource
sees a NUL character, a lone surrogate, an over-long value or a body nested past the limit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import falcon
import falcon.asgi
from falcon.media import BaseHandler, URLEncodedFormHandler

MAX_BODY_BYTES = 1_048_576
"""A JSON or form body; larger is 413 (webhooks have the same limit)."""
MAX_DEPTH = 32
"""Arrays and objects nested in a JSON body."""
MAX_URL_VALUE_LENGTH = 2_000
"""A path segment or query parameter (ids, filters, searches, page cursors)."""
MAX_TEXT_LENGTH = 20_000
"""A JSON string or form field: the longest any field documents (a note)."""

_UNSAFE = re.compile("[\x00\ud800-\udfff]")
_HEADER_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f]")
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_A_BRACKET = bytes(byte for byte in range(256) if byte not in b"[]{}")
_OPENING = frozenset(b"[{")


class UnsafeInput(falcon.HTTPBadRequest):
    """A request carrying text the server refuses to store or pass on, with why and where."""

    def __init__(self, description: str) -> None:
        super().__init__(title="Invalid request", description=description)


def check_text(value: str, where: str, *, limit: int = MAX_TEXT_LENGTH) -> None:
    """Refuse NUL (PostgreSQL text cannot hold it), lone surrogates (not encodable as UTF-8)
    and values over ``limit`` characters."""
    found = _UNSAFE.search(value)
    if found:
        what = "a NUL character" if found.group() == "\x00" else "a lone surrogate"
        raise UnsafeInput(f"{where} contains {what}, which is not allowed")
    if len(value) > limit:
        raise UnsafeInput(f"{where} is longer than {limit:,} characters")


def check_tree(value: Any, where: str = "body", *, limit: int = MAX_TEXT_LENGTH) -> None:
    """Every key and string in decoded JSON, and how deep it nests."""
    for path, depth, item in _walk(value, where, 0):
        if depth > MAX_DEPTH:
            raise _too_deep()
        if isinstance(item, str):
            check_text(item, path, limit=limit)


def check_delivery(body: bytes) -> None:
    """A webhook body before it is verified and parsed: no NUL byte and, when it is JSON, no
    NUL or lone surrogate in it and no deeper than the limit. Whether it is well formed is the
    vendor's parser's to say; its strings may be as long as the body (at most 1 MiB)."""
    if b"\x00" in body:
        raise UnsafeInput("the delivery contains a NUL byte")
    if nests_deeper_than(body, MAX_DEPTH):
        raise _too_deep()
    try:
        media = json.loads(body)
    except ValueError:
        return
    check_tree(media, "delivery", limit=MAX_BODY_BYTES)


def nests_deeper_than(data: bytes, limit: int) -> bool:
    """Whether JSON text opens more than ``limit`` arrays or objects inside one another.

    Told before decoding, so a body nested thousands deep never makes the decoder recurse to
    the interpreter's limit (where a ``RecursionError`` can surface anywhere, even in a
    garbage collection). Brackets inside strings do not count."""
    brackets = _JSON_STRING.sub(b"", data).translate(None, _NOT_A_BRACKET)
    if brackets.count(b"[") + brackets.count(b"{") <= limit:
        return False
    depth = 0
    for byte in brackets:
        depth += 1 if byte in _OPENING else -1
        if depth > limit:
            return True
    return False


class InputGuard:
    """Middleware: the path, the query string and header values, before any routing."""

    async def process_request(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        for segment in req.path.split("/"):
            check_text(segment, "the path", limit=MAX_URL_VALUE_LENGTH)
        for name, values in req.params.items():
            check_text(name, "a query parameter's name", limit=MAX_URL_VALUE_LENGTH)
            for value in values if isinstance(values, list) else [values]:
                check_text(value, f"the query parameter {name!r}", limit=MAX_URL_VALUE_LENGTH)
        for name, value in req.headers.items():
            if _HEADER_CONTROL.search(value):
                raise UnsafeInput(f"the {name} header contains a control character")


class StrictJSONHandler(BaseHandler):
    """JSON request bodies: at most 1 MiB of UTF-8, no NaN or Infinity, checked as above."""

    async def deserialize_async(
        self, stream: Any, content_type: str | None, content_length: int | None
    ) -> Any:
        return self._deserialize(await _read_bounded(stream, content_length))

    def deserialize(self, stream: Any, content_type: str | None, content_length: int | None) -> Any:
        return self._deserialize(stream.read(MAX_BODY_BYTES + 1))

    def _deserialize(self, data: bytes) -> Any:
        if len(data) > MAX_BODY_BYTES:
            raise _too_large()
        if not data:
            raise falcon.MediaNotFoundError("JSON")
        if nests_deeper_than(data, MAX_DEPTH):
            raise _too_deep()
        try:
            media = json.loads(data.decode("utf-8"), parse_constant=_refuse_constant)
        except ValueError as error:  # also UnicodeDecodeError
            raise falcon.MediaMalformedError("JSON") from error
        check_tree(media)
        return media


class StrictFormHandler(URLEncodedFormHandler):
    """URL-encoded form bodies: at most 1 MiB, every name and value checked as above."""

    def __init__(self) -> None:
        super().__init__()
        self._deserialize_sync = None  # so Falcon calls the bounded read below

    async def deserialize_async(
        self, stream: Any, content_type: str | None, content_length: int | None
    ) -> Any:
        data = await _read_bounded(stream, content_length)
        if len(data) > MAX_BODY_BYTES:
            raise _too_large()
        form: dict[str, str | list[str]] = self._deserialize(data)
        for name, values in form.items():
            check_text(name, "a form field's name")
            for value in values if isinstance(values, list) else [values]:
                check_text(value, f"the form field {name!r}")
        return form


def _walk(value: Any, where: str, depth: int) -> Iterator[tuple[str, int, Any]]:
    """(where, depth, item) for a value and everything in it, keys included, iteratively."""
    pending = [(where, depth, value)]
    while pending:
        path, level, item = pending.pop()
        yield path, level, item
        if isinstance(item, dict):
            for key, child in item.items():
                yield f"a key of {path}", level + 1, key
                pending.append((f"{path}.{key}" if _plain(key) else path, level + 1, child))
        elif isinstance(item, list):
            pending.extend((f"{path}[{index}]", level + 1, v) for index, v in enumerate(item))


def _plain(key: Any) -> bool:
    return isinstance(key, str) and len(key) <= 100 and not _UNSAFE.search(key)


async def _read_bounded(stream: Any, content_length: int | None) -> bytes:
    if content_length is not None and content_length > MAX_BODY_BYTES:
        raise _too_large()
    data: bytes = await stream.read(MAX_BODY_BYTES + 1)
    return data


def _too_large() -> falcon.HTTPContentTooLarge:
    return falcon.HTTPContentTooLarge(
        description=f"request bodies are limited to {MAX_BODY_BYTES // 1_048_576} MiB"
    )


def _too_deep() -> UnsafeInput:
    return UnsafeInput(f"the request body is nested deeper than {MAX_DEPTH} levels")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")
