"""A tenant's connection to one vendor account, and the credentials it uses."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from attrs import field, frozen

from vectis.domain.errors import InvalidValue

_Port = TypeVar("_Port", bound=type)

WEBHOOK_SECRET = "webhook_secret"  # noqa: S105 - the name of a credential, not its value
"""The credential Vectis generates for every integration: the shared secret the vendor's
webhooks authenticate with (Autotask's ``SecretKey``, NinjaOne's custom header, HaloPSA's
basic-auth password)."""


@frozen(kw_only=True, repr=False)
class Credentials:
    """Secret values for one integration; they never print, log or serialise by accident."""

    values: Mapping[str, str] = field(factory=dict)

    def __getitem__(self, key: str) -> str:
        return self.values[key]

    def get(self, key: str, default: str | None = None) -> str | None:
        return self.values.get(key, default)

    def __repr__(self) -> str:
        return f"Credentials(<{len(self.values)} redacted values>)"

    __str__ = __repr__


@frozen(kw_only=True)
class Integration:
    """A configured connector: which vendor, where, with which settings and how healthy."""

    id: UUID
    tenant_id: UUID
    vendor: str
    name: str
    base_url: str
    created_at: datetime
    settings: Mapping[str, Any] = field(factory=dict)
    last_success_at: datetime | None = None
    last_error_at: datetime | None = None
    last_error: str | None = None

    def setting(self, key: str, default: Any = None) -> Any:
        return self.settings.get(key, default)

    @property
    def failing(self) -> bool:
        """Whether the latest contact with the vendor failed."""
        if self.last_error_at is None:
            return False
        return self.last_success_at is None or self.last_error_at > self.last_success_at


@frozen(kw_only=True)
class CredentialField:
    """One credential an operator supplies when connecting a vendor account."""

    key: str
    label: str
    secret: bool = True
    optional: bool = False  # may be left empty (HaloPSA's tenant, for self-hosted Halo)


MAX_NUMERIC_ID = 2**63 - 1
"""The largest id a vendor's 64-bit id column holds (the widest any connected vendor uses)."""


class IdForm(enum.StrEnum):
    """How a vendor writes the ids of one kind of its records."""

    NUMBER = "number"
    """A positive whole number in ASCII digits, at most ``MAX_NUMERIC_ID``."""
    UUID = "uuid"
    """A UUID in its canonical form: 32 hex digits in hyphenated groups of 8-4-4-4-12."""

    def fits(self, value: str) -> bool:
        if self is IdForm.NUMBER:
            digits = value.isascii() and value.isdigit() and len(value) <= len(str(MAX_NUMERIC_ID))
            return digits and 0 < int(value) <= MAX_NUMERIC_ID
        try:
            return str(UUID(value)) == value.lower()
        except ValueError:
            return False

    @property
    def description(self) -> str:
        if self is IdForm.NUMBER:
            return "those are positive whole numbers"
        return "those are UUIDs"


@frozen(kw_only=True)
class EmptyBaseUrl:
    """What leaving a vendor's base URL empty means, as the vendor documents it: its one
    default address, the connector discovering the account's address, or neither (then the
    operator must give one, and the error names the documented hosts)."""

    default: str | None = None
    """The documented address an empty base URL stands for."""
    discovery: str | None = None
    """Where the connector looks the account's address up; the base URL is then kept empty."""
    choices: tuple[str, ...] = ()
    """The documented hosts to pick from when there is no default and no discovery."""
    why: str = ""
    """Why there is neither, said in the error (``each tenant has its own address``)."""

    def resolve(self, label: str) -> str:
        """The base URL an empty field means: ``""`` to discover, the default, or
        ``InvalidValue`` saying what to enter."""
        if self.discovery:
            return ""
        if self.default:
            return self.default
        reason = f": {self.why}" if self.why else ""
        choices = f"; enter one of {', '.join(self.choices)}" if self.choices else ""
        raise InvalidValue(f"{label} needs its API address{reason}{choices}")


@frozen(kw_only=True)
class VendorInfo:
    """What an operator needs to know to connect one vendor."""

    key: str
    label: str
    credential_fields: tuple[CredentialField, ...]
    base_url_hint: str
    """Prose shown beside the address field; never used as an address."""
    empty_base_url: EmptyBaseUrl = EmptyBaseUrl()
    ports: frozenset[type] = frozenset()
    """The port Protocols its connector offers (``Ticketing``, ``Alerting``, ``SyncSource``…)."""
    fills: frozenset[str] = frozenset()
    """The kinds of record its sync fills (``tickets``, ``alerts``, ``devices``…)."""
    record_ids: Mapping[str, IdForm] = field(factory=dict)
    """The form of the vendor's ids by kind of record (``ticket``, ``company``, ``alert``)."""

    def offers(self, port: type) -> bool:
        return port in self.ports

    def check_record_id(self, kind: str, value: str) -> None:
        """Refuse an id no ``kind`` record of this vendor can have (a write-back aimed at it
        could only fail later, or reach another endpoint); a kind without a form is not
        checked."""
        form = self.record_ids.get(kind)
        if form is not None and not form.fits(value):
            shown = value if len(value) <= 40 else value[:40] + "…"
            raise InvalidValue(f"{shown!r} is not a {self.label} {kind} id: {form.description}")


def capability(lacking: str) -> Callable[[_Port], _Port]:
    """Name a port Protocol in a technician's words: ``lacking`` ends the sentence "<vendor>
    …" that refuses a vendor without it ("has no alerts Vectis can acknowledge")."""

    def named(port: _Port) -> _Port:
        port.__vectis_lacking__ = lacking  # type: ignore[attr-defined]
        return port

    return named


def lacking(port: type) -> str:
    """How a vendor without ``port`` is described (after its name)."""
    said: str | None = getattr(port, "__vectis_lacking__", None)
    return said or f"does not offer {port.__name__}"
