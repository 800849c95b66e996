"""A page of one of a customer's tables (tickets, alerts, devices): what to show and where.

Tables sort by one column at a time and page by keyset: the position is the last row's sort
value and its key (integration, vendor id), so rows never repeat or vanish between pages.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from typing import Any, Generic, TypeVar
from uuid import UUID

from attrs import field, frozen

from vectis.domain.errors import InvalidValue

T = TypeVar("T")
PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
MAX_SEARCH_LENGTH = 200


@frozen(kw_only=True)
class ListPosition:
    """The last row of a page: its sort value (as text) and its key."""

    value: str
    integration_id: UUID
    vendor_id: str

    def encode(self) -> str:
        raw = json.dumps([self.value, str(self.integration_id), self.vendor_id]).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> ListPosition:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            value, integration_id, vendor_id = json.loads(raw)
            return cls(value=str(value), integration_id=UUID(integration_id), vendor_id=vendor_id)
        except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
            raise InvalidValue(
                "the page link is not valid; start again from the first page"
            ) from None


@frozen(kw_only=True)
class ListQuery:
    """Search, filters, one sort column and a keyset position for a customer's table."""

    customer_id: UUID
    sort: str
    descending: bool = True
    search: str = ""
    filters: Mapping[str, frozenset[str]] = field(factory=dict)
    """Column → values to keep (any of them); an absent column is not filtered."""
    after: ListPosition | None = None
    limit: int = PAGE_SIZE

    def __attrs_post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_PAGE_SIZE:
            raise InvalidValue(f"a page holds 1 to {MAX_PAGE_SIZE} rows")
        if len(self.search) > MAX_SEARCH_LENGTH:
            raise InvalidValue(f"a search is at most {MAX_SEARCH_LENGTH} characters")

    def keep(self, column: str) -> frozenset[str]:
        return self.filters.get(column, frozenset())


@frozen(kw_only=True)
class Listed(Generic[T]):
    """One page of rows, where the next starts, and the values each filter can take."""

    rows: Sequence[T]
    next: ListPosition | None = None
    options: Mapping[str, Sequence[str]] = field(factory=dict)


def choose(value: str | None, allowed: Sequence[str], what: str) -> str:
    """One of ``allowed`` (the first when none is given), or a clear refusal."""
    if not value:
        return allowed[0]
    if value not in allowed:
        raise InvalidValue(f"cannot sort or filter {what} by {value!r}; use {', '.join(allowed)}")
    return value


def as_text(value: Any) -> str:
    """A sort value as a page position carries it."""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)
