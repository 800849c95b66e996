"""Tenants (the MSPs), their operators and what each role may do."""

from __future__ import annotations

import enum
import re
import unicodedata
from datetime import datetime
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from attrs import frozen

from vectis.domain.errors import InvalidValue

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


class Permission(enum.StrEnum):
    """Something an operator may be allowed to do."""

    READ = "read"
    WRITE_BACK = "write_back"
    MANAGE_INTEGRATIONS = "manage_integrations"
    MANAGE_OPERATORS = "manage_operators"
    MANAGE_TENANT = "manage_tenant"


class Role(enum.StrEnum):
    """An operator's role in their tenant; each role includes the ones below it."""

    OWNER = "owner"
    ADMIN = "admin"
    TECH = "tech"
    READ_ONLY = "read_only"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def includes(self, other: Role) -> bool:
        """Whether this role has at least the rights of ``other``."""
        return self.rank >= other.rank

    def can(self, permission: Permission) -> bool:
        return permission in _PERMISSIONS[self]

    @classmethod
    def parse(cls, value: str) -> Role:
        normalised = value.strip().lower().replace("-", "_")
        try:
            return cls(normalised)
        except ValueError:
            names = ", ".join(role.value for role in cls)
            raise InvalidValue(f"unknown role {value!r}; expected one of {names}") from None


_RANK = {Role.READ_ONLY: 0, Role.TECH: 1, Role.ADMIN: 2, Role.OWNER: 3}
_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.READ_ONLY: frozenset({Permission.READ}),
    Role.TECH: frozenset({Permission.READ, Permission.WRITE_BACK}),
    Role.ADMIN: frozenset(
        {
            Permission.READ,
            Permission.WRITE_BACK,
            Permission.MANAGE_INTEGRATIONS,
            Permission.MANAGE_OPERATORS,
        }
    ),
    Role.OWNER: frozenset(Permission),
}


@frozen(kw_only=True)
class Tenant:
    """An MSP using Vectis; everything else belongs to exactly one tenant."""

    id: UUID
    slug: str
    name: str
    created_at: datetime
    accent_color: str | None = None
    """The MSP's brand colour for the hub's chrome (``#rrggbb``)."""
    has_logo: bool = False


LOGO_TYPES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}
MAX_LOGO_BYTES = 256 * 1024
_COLOR = re.compile(r"^#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})$")


def accent_color(value: str) -> str:
    """A brand colour as stored: ``#rrggbb`` in lower case (``#0A7`` → ``#00aa77``)."""
    match = _COLOR.match(value.strip())
    if not match:
        raise InvalidValue(f"{value!r} is not a colour; use #rrggbb, e.g. #0a7d5a")
    digits = match.group(1).lower()
    if len(digits) == 3:
        digits = "".join(digit * 2 for digit in digits)
    return f"#{digits}"


def logo_type(image: bytes) -> str:
    """The media type of a logo, told by its first bytes (never by what the upload claims);
    PNG, JPEG and WebP only, so nothing served as a logo can carry script (as SVG could)."""
    if len(image) > MAX_LOGO_BYTES:
        raise InvalidValue(f"a logo is at most {MAX_LOGO_BYTES // 1024} KB")
    for magic, media_type in LOGO_TYPES.items():
        if image.startswith(magic):
            return media_type
    if image[:4] == b"RIFF" and image[8:12] == b"WEBP":
        return "image/webp"
    raise InvalidValue("a logo must be a PNG, JPEG or WebP image")


@frozen(kw_only=True)
class Operator:
    """A tech or admin of the MSP who signs in to the hub."""

    id: UUID
    tenant_id: UUID
    email: str
    display_name: str
    role: Role
    time_zone: str
    created_at: datetime
    disabled_at: datetime | None = None

    @property
    def is_active(self) -> bool:
        return self.disabled_at is None


def time_zone(value: str) -> str:
    """An IANA time zone name the hub can show times in (``Europe/London``), or a refusal."""
    name = value.strip()
    try:
        if (name and "/" in name) or name == "UTC":
            ZoneInfo(name)
            return name
    except (ZoneInfoNotFoundError, ValueError):
        pass
    raise InvalidValue(f"{value!r} is not a time zone; use an IANA name such as Europe/London")


def normalize_email(email: str) -> str:
    """Return the canonical (trimmed, lower-case) form of an e-mail address or refuse it."""
    candidate = email.strip().lower()
    if not _EMAIL.match(candidate) or len(candidate) > 254:
        raise InvalidValue(f"{email!r} is not an e-mail address")
    return candidate


def slugify(name: str) -> str:
    """Derive a URL-safe identifier (``Aldridge & Co.`` → ``aldridge-co``) from a display name."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:63].strip("-")
    return validate_slug(slug or "x")


def validate_slug(slug: str) -> str:
    if not _SLUG.match(slug):
        raise InvalidValue(
            f"{slug!r} is not a valid slug (lower-case letters, digits and dashes, at most 63)"
        )
    return slug


def validate_name(name: str, *, what: str = "name") -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise InvalidValue(f"the {what} must not be empty")
    if len(cleaned) > 200:
        raise InvalidValue(f"the {what} must be at most 200 characters")
    return cleaned
