"""The sandboxed Autotask's storage: entity tables served in id order, and Autotask's query
filters (``{"op": "gte", "field": ..., "value": ...}``, ``and``/``or`` groups) evaluated on them.

``Table`` keeps rows in memory. ``GeneratedTable`` serves the benchmark's hundred thousand
tickets without storing them: row ``i`` is built on request, ids and times grow with ``i``, so a
``gte`` time filter and an id continuation become index arithmetic instead of a scan. Rows the
API changes or adds live in an overlay ``Table`` that shadows the generated ones.
"""

from __future__ import annotations

import bisect
import heapq
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from attrs import field, frozen

Row = dict[str, Any]
Predicate = Callable[[Row], bool]
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
_FRACTION = re.compile(r"(\.\d{6})\d+")


_MISSING = object()


class FilterError(ValueError):
    """The query's filter is not one Autotask would accept."""


@frozen(kw_only=True)
class Hints:
    """What a filter tells a generated table about where matching rows can be."""

    since: datetime | None = None
    parent: int | None = None
    item_id: int | None = None
    constants: Mapping[str, Any] = field(factory=dict)


def compile_filter(conditions: Any) -> tuple[Predicate, Hints]:
    """A predicate for the top-level conditions (implicitly ``and``-ed) and the hints in them."""
    if not isinstance(conditions, list) or not conditions:
        raise FilterError("a query needs at least one filter condition")
    predicates = [_compile(condition) for condition in conditions]
    return (lambda row: all(test(row) for test in predicates)), _hints(conditions)


class Table:
    """Rows by id, iterated in id order like Autotask's query pages."""

    def __init__(self, rows: Sequence[Row] = ()) -> None:
        self._rows: dict[int, Row] = {}
        self._ids: list[int] = []
        for row in rows:
            self.put(row)

    def __len__(self) -> int:
        return len(self._rows)

    def get(self, item_id: int) -> Row | None:
        return self._rows.get(item_id)

    def put(self, row: Row) -> None:
        item_id = int(row["id"])
        if item_id not in self._rows:
            bisect.insort(self._ids, item_id)
        self._rows[item_id] = row

    def rows(self) -> Iterator[Row]:
        return (self._rows[item_id] for item_id in self._ids)

    def scan(self, predicate: Predicate, after: int, hints: Hints) -> Iterator[Row]:
        if hints.item_id is not None:
            row = self._rows.get(hints.item_id)
            if row is not None and hints.item_id > after and predicate(row):
                yield row
            return
        for item_id in self._ids[bisect.bisect_right(self._ids, after) :]:
            row = self._rows[item_id]
            if predicate(row):
                yield row


class GeneratedTable:
    """``count`` rows built on request by ``make(i)``, ids ``first_id + i``, times rising with i.

    ``index_since(t)`` is the first index whose ``lastActivityDate`` is at or after ``t``;
    ``parent_range(p)`` the index range of rows whose ``ticketID`` is ``p``; ``constants`` the
    values every generated row shares (an ``eq`` filter on another value skips them all).
    """

    def __init__(
        self,
        *,
        count: int,
        first_id: int,
        make: Callable[[int], Row],
        index_since: Callable[[datetime], int],
        parent_range: Callable[[int], tuple[int, int]] | None = None,
        constants: Mapping[str, Any] | None = None,
    ) -> None:
        self.count = count
        self.first_id = first_id
        self.make = make
        self.index_since = index_since
        self.parent_range = parent_range
        self.constants = {name.lower(): value for name, value in (constants or {}).items()}
        self.overlay = Table()

    def __len__(self) -> int:
        extra = sum(1 for row in self.overlay.rows() if not self._generated(int(row["id"])))
        return self.count + extra

    def get(self, item_id: int) -> Row | None:
        row = self.overlay.get(item_id)
        if row is None and self._generated(item_id):
            return self.make(item_id - self.first_id)
        return row

    def put(self, row: Row) -> None:
        self.overlay.put(row)

    def rows(self) -> Iterator[Row]:
        return self.scan(lambda row: True, -1, Hints())

    def scan(self, predicate: Predicate, after: int, hints: Hints) -> Iterator[Row]:
        return heapq.merge(
            self._scan_generated(predicate, after, hints),
            self.overlay.scan(predicate, after, hints),
            key=lambda row: int(row["id"]),
        )

    def _scan_generated(self, predicate: Predicate, after: int, hints: Hints) -> Iterator[Row]:
        for name, value in hints.constants.items():
            shared = self.constants.get(name.lower(), _MISSING)
            if shared is not _MISSING and not _equal(shared, value):
                return
        low, high = max(0, after - self.first_id + 1), self.count
        if hints.item_id is not None:
            low, high = (
                max(low, hints.item_id - self.first_id),
                min(high, hints.item_id - self.first_id + 1),
            )
        if hints.since is not None:
            low = max(low, self.index_since(hints.since))
        if hints.parent is not None and self.parent_range is not None:
            first, last = self.parent_range(hints.parent)
            low, high = max(low, first), min(high, last)
        for index in range(low, high):
            if self.overlay.get(self.first_id + index) is not None:
                continue  # changed through the API: the overlay serves it
            row = self.make(index)
            if predicate(row):
                yield row

    def _generated(self, item_id: int) -> bool:
        return 0 <= item_id - self.first_id < self.count


Store = Table | GeneratedTable
"""Either kind of table: what the sandbox's resources read and write."""


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not _ISO.match(value):
        return None
    try:
        parsed = datetime.fromisoformat(_FRACTION.sub(r"\1", value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def _compile(condition: Any) -> Predicate:
    if not isinstance(condition, dict) or not isinstance(condition.get("op"), str):
        raise FilterError(f"not a filter condition: {condition!r}")
    op = condition["op"].lower()
    if op in ("and", "or"):
        items = [_compile(item) for item in condition.get("items") or []]
        if not items:
            raise FilterError(f"an {op!r} group needs items")
        combine = all if op == "and" else any
        return lambda row: combine(test(row) for test in items)
    name = condition.get("field")
    if not isinstance(name, str) or not name:
        raise FilterError(f"the {op!r} condition names no field")
    expected = condition.get("value")
    test = _OPERATORS.get(op)
    if test is None:
        raise FilterError(f"unknown filter operator {op!r}")
    return lambda row: test(_value(row, name), expected)


def _value(row: Row, name: str) -> Any:
    if name in row:
        return row[name]
    lowered = name.lower()
    return next((value for key, value in row.items() if key.lower() == lowered), None)


def _compare(actual: Any, expected: Any) -> int | None:
    """-1, 0 or 1 as Autotask would order the two values; ``None`` when they do not compare."""
    if actual is None or expected is None:
        return None
    left, right = parse_time(actual), parse_time(expected)
    if left is not None and right is not None:
        return (left > right) - (left < right)
    if isinstance(actual, bool) or isinstance(expected, bool):
        return 0 if _truth(actual) == _truth(expected) else 1
    try:
        a, b = float(actual), float(expected)
    except (TypeError, ValueError):
        a_text, b_text = str(actual).lower(), str(expected).lower()
        return (a_text > b_text) - (a_text < b_text)
    return (a > b) - (a < b)


def _equal(actual: Any, expected: Any) -> bool:
    return _compare(actual, expected) == 0


def _truth(value: Any) -> bool:
    return value in (True, 1, "1", "true", "True")


def _text(actual: Any, expected: Any, test: Callable[[str, str], bool]) -> bool:
    return (
        actual is not None
        and expected is not None
        and test(str(actual).lower(), str(expected).lower())
    )


_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": _equal,
    "noteq": lambda a, b: not _equal(a, b),
    "gt": lambda a, b: (_compare(a, b) or 0) > 0,
    "gte": lambda a, b: _compare(a, b) in (0, 1),
    "lt": lambda a, b: (_compare(a, b) or 0) < 0,
    "lte": lambda a, b: _compare(a, b) in (0, -1),
    "beginswith": lambda a, b: _text(a, b, str.startswith),
    "endswith": lambda a, b: _text(a, b, str.endswith),
    "contains": lambda a, b: _text(a, b, lambda text, part: part in text),
    "exist": lambda a, b: a not in (None, ""),
    "notexist": lambda a, b: a in (None, ""),
    "in": lambda a, b: isinstance(b, list) and any(_equal(a, item) for item in b),
    "notin": lambda a, b: isinstance(b, list) and not any(_equal(a, item) for item in b),
}


def _hints(conditions: Sequence[Any]) -> Hints:
    since: datetime | None = None
    parent: int | None = None
    item_id: int | None = None
    constants: dict[str, Any] = {}
    for condition in conditions:
        op = str(condition.get("op", "")).lower()
        name = str(condition.get("field", ""))
        value = condition.get("value")
        if op in ("gte", "gt") and name.lower() == "lastactivitydate":
            moment = parse_time(value)
            if moment is not None and (since is None or moment > since):
                since = moment
        elif op == "eq" and name.lower() == "ticketid" and _is_int(value):
            parent = int(value)
        elif op == "eq" and name.lower() == "id" and _is_int(value):
            item_id = int(value)
        elif op == "eq":
            constants[name] = value
    return Hints(since=since, parent=parent, item_id=item_id, constants=constants)


def _is_int(value: Any) -> bool:
    try:
        int(value)
    except (TypeError, ValueError):
        return False
    return not isinstance(value, bool)
