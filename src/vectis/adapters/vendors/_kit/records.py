"""Reading a page of vendor rows into records, one unreadable row at a time.

A vendor row that Vectis cannot read — the wrong shape for its wire type, a value the domain
refuses, or a fact the mapping requires and the row lacks (``UnreadableRecord``) — is skipped
and reported, and the rest of the page goes on. Anything else raised while mapping (a
``TypeError`` or ``KeyError`` in our own code) is a bug in Vectis: it propagates and fails the
sync loudly, instead of passing for a skipped vendor record.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

import cattrs
from attrs import define, field

from vectis.domain.errors import InvalidValue, VendorRejected
from vectis.domain.records import SkippedRecord, SyncedRecord

T = TypeVar("T")

REASON_LENGTH = 500
"""How much of a reason a skipped record keeps (vendor text can be long)."""


class UnreadableRecord(VendorRejected):
    """The vendor record lacks what Vectis needs to read it."""


@define
class Page:
    """What a page of vendor rows became: its records, and the rows skipped with a reason."""

    stream: str
    records: list[SyncedRecord] = field(factory=list)
    skipped: list[SkippedRecord] = field(factory=list)

    def read(
        self,
        rows: Iterable[Any],
        read: Callable[[Any], SyncedRecord | Sequence[SyncedRecord] | None],
        *,
        id_key: str = "id",
    ) -> Page:
        """Read each row with ``read`` (wire structuring and mapping); ``None`` drops a row
        on purpose (an inactive board), a sequence adds several records (a row and its
        children)."""
        for row in rows:
            with self.reading(row, id_key=id_key):
                if not isinstance(row, Mapping):
                    raise UnreadableRecord("not a JSON object")
                self.add(read(row))
        return self

    def add(self, read: SyncedRecord | Sequence[SyncedRecord] | None) -> None:
        if read is None:
            return
        if isinstance(read, Sequence) and not isinstance(read, str):
            self.records.extend(read)
        else:
            self.records.append(read)

    @contextmanager
    def reading(self, row: Any, *, id_key: str = "id", prefix: str = "") -> Iterator[None]:
        """Within this block, an unreadable ``row`` is recorded as skipped and swallowed."""
        try:
            yield
        except UNREADABLE as error:
            self.skipped.append(skipped(self.stream, row, error, id_key=id_key, prefix=prefix))


UNREADABLE = (UnreadableRecord, InvalidValue, cattrs.BaseValidationError)
"""What marks a vendor row as unreadable; any other exception is a bug in Vectis."""


def read_each(
    stream: str, rows: Iterable[Any], structure: Callable[[Any], T], *, id_key: str = "id"
) -> tuple[list[T], list[SkippedRecord]]:
    """Structure each row into its wire type, skipping (and reporting) rows that do not fit."""
    wired: list[T] = []
    page = Page(stream)
    for row in rows:
        with page.reading(row, id_key=id_key):
            if not isinstance(row, Mapping):
                raise UnreadableRecord("not a JSON object")
            wired.append(structure(row))
    return wired, page.skipped


def skipped(
    stream: str, row: Any, error: Exception, *, id_key: str = "id", prefix: str = ""
) -> SkippedRecord:
    """The report of one unreadable row: its stream, the vendor's id if it has one, why."""
    vendor_id = row.get(id_key) if isinstance(row, Mapping) else None
    if isinstance(error, cattrs.BaseValidationError):
        reason = "; ".join(cattrs.transform_error(error))
    else:
        reason = str(error)
    return SkippedRecord(
        stream=stream,
        reason=(prefix + reason)[:REASON_LENGTH],
        vendor_id=None if vendor_id is None else str(vendor_id)[:200],
    )


def amount(value: float | None) -> Decimal | None:
    """A vendor's number as an exact decimal, through its text (so ``0.1`` stays ``0.1``);
    ``None`` for no value, or for one that is not a finite number (``NaN``, ``Infinity``)."""
    if value is None:
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None
