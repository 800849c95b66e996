"""Integration settings and credentials read from a Link: converted by type, bounded, one error."""

from __future__ import annotations

import contextlib
import math
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import attrs

from vectis.adapters.vendors._entry import Link
from vectis.domain.errors import VendorRejected

S = TypeVar("S", bound=attrs.AttrsInstance)

_BOUNDS = "vectis.settings.bounds"
_FLAGS = {"true": True, "1": True, "on": True, "yes": True}
_FLAGS |= dict.fromkeys(("false", "0", "off", "no"), False)
"""A form sends a checkbox as ``on`` or nothing, a select as ``true``/``false`` or ``1``/``0``."""


def within(low: float | None = None, high: float | None = None) -> dict[str, Any]:
    """Field metadata clamping a number setting into ``low..high``: a page size above the
    vendor's maximum reads as the maximum rather than failing every sync."""
    return {_BOUNDS: (low, high)}


def read_settings(
    cls: type[S], link: Link, *, vendor: str, names: Mapping[str, str] | None = None
) -> S:
    """``cls`` (frozen attrs, every field defaulted) from the settings named as its fields (or
    ``names[field]``), converted by each field's annotation and clamped by ``within``.

    Absent, ``None`` or blank keeps the default, but ``""`` is a value for a ``str`` field (an
    empty template turns a feature off); a ``Mapping`` merges over the default. A wrong value is
    one ``VendorRejected`` naming the vendor, the setting and what it should have been.
    """
    default = cls()
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for field in attrs.fields(cls):
        name = (names or {}).get(field.name, field.name)
        raw, hint = link.integration.setting(name), hints[field.name]
        blank = isinstance(raw, str) and not raw.strip() and hint is not str
        if not field.init or raw is None or blank:
            continue
        try:
            value = _convert(raw, hint)
        except _Invalid as error:
            message = f"{vendor} setting {name} must be {error}, not {raw!r:.60}"
            raise VendorRejected(message) from None
        fallback = getattr(default, field.name)
        if isinstance(value, Mapping) and isinstance(fallback, Mapping):
            value = {**fallback, **value}
        low, high = field.metadata.get(_BOUNDS, (None, None))
        value = value if low is None else max(low, value)
        values[field.name] = value if high is None else min(high, value)
    return cls(**values)


def credentials(link: Link, vendor: str, *names: str) -> dict[str, str]:
    """The named credentials, or ``VendorRejected`` "<vendor> credentials lack <name>"."""
    lacking = [name for name in names if link.credentials.get(name) is None]
    if lacking:
        raise VendorRejected(f"{vendor} credentials lack {lacking[0]}")
    return {name: link.credentials[name] for name in names}


class _Invalid(Exception):
    """What a setting should have been (``a whole number``), said in the rejection."""


def _convert(raw: Any, hint: Any) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        wanted = []
        for member in (member for member in args if member is not type(None)):
            try:
                return _convert(raw, member)
            except _Invalid as error:
                wanted.append(str(error))
        raise _Invalid(" or ".join(wanted))
    if origin in (frozenset, tuple, Sequence):
        items = tuple(_item(item, args[0], "list") for item in _items(raw))
        return frozenset(items) if origin is frozenset else items
    if origin is Mapping:
        if not isinstance(raw, Mapping):
            raise _Invalid("a mapping of names to values")
        return {str(key): _item(value, args[1], "mapping") for key, value in raw.items()}
    if hint not in _SCALARS:
        raise TypeError(f"a setting of type {hint!r} cannot be read")  # our class, not the tenant
    return _SCALARS[hint](raw)


def _items(raw: Any) -> Sequence[Any]:
    """A list as JSON holds it, or as a form sends it (``"5, 7"``); one number is a list of one."""
    if isinstance(raw, str):
        return [part.strip() for part in raw.split(",") if part.strip()]
    if isinstance(raw, (list, tuple, set, frozenset)):
        return list(raw)
    if _numeric(raw):
        return [raw]
    raise _Invalid("a list")


def _item(raw: Any, hint: Any, container: str) -> Any:
    try:
        return _convert(raw, hint)
    except _Invalid as error:
        raise _Invalid(f"a {container} whose every value is {error}") from None


def _numeric(raw: Any) -> bool:
    return isinstance(raw, (int, float)) and not isinstance(raw, bool)  # True is no number


def _flag(raw: Any) -> bool:
    said = str(raw).strip().lower() if isinstance(raw, int | str) else None
    if said not in _FLAGS:
        raise _Invalid("true or false")
    return _FLAGS[said]


def _whole(raw: Any) -> int:
    with contextlib.suppress(ValueError, OverflowError):
        if (_numeric(raw) and float(raw).is_integer()) or isinstance(raw, str):
            return int(raw)
    raise _Invalid("a whole number")


def _number(raw: Any) -> float:
    with contextlib.suppress(ValueError):
        if _numeric(raw) or isinstance(raw, str):
            number = float(raw)
            if math.isfinite(number):
                return number
    raise _Invalid("a number")


def _text(raw: Any) -> str:
    if isinstance(raw, str) or _numeric(raw):
        return str(raw)  # a numeric id may arrive as a JSON number
    raise _Invalid("text")


_SCALARS = {bool: _flag, int: _whole, float: _number, str: _text}
