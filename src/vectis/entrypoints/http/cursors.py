"""Page cursors (``after=``) signed by the server, so only a position it issued is read back."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from typing import Protocol, TypeVar
from uuid import UUID

from vectis.domain.errors import InvalidValue

T = TypeVar("T")
_MAC_BYTES = 16


class Position(Protocol):
    def encode(self) -> str: ...


class PageCursors:
    """``position.signature``: an HMAC over the position and the list it pages (its scope, for
    example the table and sort column), so a cursor cannot be forged, altered or moved to a
    list whose sort values have another type."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def issue(self, position: Position, scope: str) -> str:
        payload = position.encode()
        return f"{payload}.{self._signature(scope, payload)}"

    def read(self, token: str | None, scope: str, decode: Callable[[str], T]) -> T | None:
        """The position a cursor carries (``None`` for no cursor); one the server did not
        issue for this list is refused."""
        if not token:
            return None
        payload, _, signature = token.rpartition(".")
        if not payload or not hmac.compare_digest(
            self._signature(scope, payload).encode(), signature.encode()
        ):
            raise InvalidValue("the page link is not valid here; start again from the first page")
        return decode(payload)

    def _signature(self, scope: str, payload: str) -> str:
        digest = hmac.new(self._key, f"{scope}\n{payload}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:_MAC_BYTES]).decode().rstrip("=")


def timeline_scope(customer_id: UUID) -> str:
    """One customer's timeline, in the hub and the API alike."""
    return f"timeline:{customer_id}"


def table_scope(table: str, customer_id: UUID, sort: str) -> str:
    """One customer's table in one sort order (the position carries a value of that column)."""
    return f"{table}:{customer_id}:{sort}"
