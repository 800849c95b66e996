"""ConnectWise's list query language, as much as the sandbox serves: conditions, orderBy, paging.

``conditions`` is clauses joined by ``and``: ``lastUpdated >= [2026-01-01T00:00:00Z]``,
``externalXRef="vectis:k1"``, ``company/id=250``, ``closedFlag=false``. Datetimes go in square
brackets, strings in double quotes, and string equality ignores case, as in ConnectWise.
``lastUpdated`` and ``dateEntered`` read the record's ``_info``; ``a/b`` reads nested objects.

Held to what ConnectWise documents, and no kinder: ``childConditions``,
``customFieldConditions`` and ``fields`` are ignored (the full list, whole records, comes back);
ConnectWise promises no order among records an ``orderBy`` ranks equal, so they come newest id
first, and a list asked for without ``orderBy`` comes in id order. UNCONFIRMED: that string
equality ignores case (SQL Server's default collation; the API guide does not say), and whether
ConnectWise sends a ``Link`` header on a list that fits one page (the sandbox sends none, so a
connector must not need one). ``or``, ``in`` and ``not``, which ConnectWise documents, are
refused here: a connector using them fails in the sandbox, never only at a customer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from vectis_sandbox.kit.paging import numbered_page, page_count, page_url

_CLAUSE = re.compile(
    r"""\s*(?P<field>[A-Za-z_][\w/]*)\s*
        (?P<op>>=|<=|!=|=|<|>|\s(?:like|contains)\s)\s*
        (?P<value>\[[^\]]*\]|"(?:[^"\\]|\\.)*"|[-\w.]+)\s*""",
    re.VERBOSE | re.IGNORECASE,
)
_AND = re.compile(r"and\b", re.IGNORECASE)
_INFO_FIELDS = {"lastUpdated", "dateEntered", "updatedBy", "enteredBy"}

Record = Mapping[str, Any]


class QueryError(ValueError):
    """The query is not one ConnectWise (or the sandbox) understands."""


def matcher(conditions: str | None) -> Callable[[Record], bool]:
    """A predicate for ``conditions``; ``None`` or empty matches everything."""
    clauses: list[tuple[str, str, Any]] = []
    text = (conditions or "").strip()
    position = 0
    while position < len(text):
        match = _CLAUSE.match(text, position)
        if match is None:
            raise QueryError(f"cannot read the conditions at {text[position:]!r}")
        clauses.append((match["field"], match["op"].strip().lower(), _literal(match["value"])))
        position = match.end()
        if position < len(text):
            joined = _AND.match(text, position)
            if joined is None:
                raise QueryError(f"only 'and' joins conditions here, not {text[position:]!r}")
            position = joined.end()
    return lambda record: all(_holds(value_of(record, f), op, v) for f, op, v in clauses)


def ordered(records: Sequence[Record], order_by: str | None) -> list[Record]:
    """``orderBy=field asc|desc[, field asc|desc]``; ``id asc`` by default, ties id-descending."""
    keys = [part.split() for part in (order_by or "").split(",") if part.strip()]
    result = sorted(records, key=_by("id"), reverse=bool(keys))
    for parts in reversed(keys):
        if len(parts) > 2 or (len(parts) == 2 and parts[1].lower() not in ("asc", "desc")):
            raise QueryError(f"cannot order by {' '.join(parts)!r}")
        descending = len(parts) == 2 and parts[1].lower() == "desc"
        result.sort(key=_by(parts[0]), reverse=descending)
    return result


def page_of(
    records: Sequence[Record], url: str, params: Mapping[str, Any], page: int, size: int
) -> tuple[list[Record], str]:
    """One page and its ``Link`` header (``next``, ``prev``, ``first``, ``last``)."""
    last = page_count(len(records), size)
    links = []

    def link(number: int, rel: str) -> str:
        return f'<{page_url(url, {**params, "page": number, "pageSize": size})}>; rel="{rel}"'

    if page > 1:
        links += [link(page - 1, "prev"), link(1, "first")]
    if page < last:
        links += [link(page + 1, "next"), link(last, "last")]
    return numbered_page(records, page, size), ", ".join(links)


def value_of(record: Record, field: str) -> Any:
    if field in _INFO_FIELDS:
        return (record.get("_info") or {}).get(field)
    value: Any = record
    for part in field.split("/"):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _literal(raw: str) -> Any:
    if raw.startswith("["):
        try:
            return _time(raw[1:-1].strip())
        except ValueError:
            raise QueryError(f"{raw} is not a datetime") from None
    if raw.startswith('"'):
        return raw[1:-1].replace('\\"', '"')
    lowered = raw.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "null":
        return None
    try:
        return float(raw)
    except ValueError:
        raise QueryError(f"{raw!r} is not a value (quote strings)") from None


def _holds(actual: Any, op: str, expected: Any) -> bool:
    if isinstance(expected, datetime):
        try:
            actual = _time(actual) if isinstance(actual, str) else None
        except ValueError:
            actual = None
    elif isinstance(expected, str):
        actual = None if actual is None else str(actual).casefold()
        expected = expected.casefold()
    elif isinstance(expected, float) and isinstance(actual, int | float):
        actual = float(actual)
    if op in ("like", "contains"):
        pattern = re.escape(str(expected)).replace(r"\*", ".*")
        return (
            actual is not None
            and re.fullmatch(pattern if op == "like" else f".*{pattern}.*", str(actual)) is not None
        )
    if op == "=":
        return bool(actual == expected)
    if op == "!=":
        return bool(actual != expected)
    if actual is None or expected is None or type(actual) is not type(expected):
        return False
    return bool(
        {
            ">=": actual >= expected,
            "<=": actual <= expected,
            ">": actual > expected,
            "<": actual < expected,
        }[op]
    )


def _by(field: str) -> Callable[[Record], tuple[int, Any]]:
    return lambda record: _sort_key(value_of(record, field))


def _time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _sort_key(value: Any) -> tuple[int, Any]:
    """None sorts first; numbers and strings each among their own kind."""
    if value is None:
        return (0, 0)
    if isinstance(value, bool | int | float):
        return (1, value)
    return (2, str(value))
