"""Who is acting: sessions, personal access tokens and the principal a request runs as.

Personal access tokens follow GitHub's scheme so secret scanners can spot leaked ones:
a fixed prefix, 30 random base62 characters and a 6-character base62 CRC32 checksum
(``vectis_pat_`` + 36 characters). Only the SHA-256 digest of a token is ever stored.
"""

from __future__ import annotations

import hashlib
import secrets
import string
import zlib
from datetime import datetime
from uuid import UUID

from attrs import frozen

from vectis.domain.audit import Actor, ActorKind
from vectis.domain.errors import MalformedToken
from vectis.domain.tenancy import Permission, Role

TOKEN_PREFIX = "vectis_pat_"  # noqa: S105 (a public prefix, not a secret)
_ALPHABET = string.digits + string.ascii_letters
_BODY_LENGTH = 30
_CHECKSUM_LENGTH = 6
TOKEN_LENGTH = len(TOKEN_PREFIX) + _BODY_LENGTH + _CHECKSUM_LENGTH


def generate_personal_access_token() -> str:
    """Return a fresh token; the caller shows it once and keeps only its digest."""
    body = "".join(secrets.choice(_ALPHABET) for _ in range(_BODY_LENGTH))
    return TOKEN_PREFIX + body + _checksum(body)


def parse_personal_access_token(token: str) -> str:
    """Return the token if it is well formed (prefix, alphabet, checksum), else refuse it.

    The checksum lets us reject typos and random strings without touching the database.
    """
    token = token.strip()
    if len(token) != TOKEN_LENGTH or not token.startswith(TOKEN_PREFIX):
        raise MalformedToken
    body = token[len(TOKEN_PREFIX) : len(TOKEN_PREFIX) + _BODY_LENGTH]
    checksum = token[len(TOKEN_PREFIX) + _BODY_LENGTH :]
    if any(char not in _ALPHABET for char in body + checksum):
        raise MalformedToken
    if not secrets.compare_digest(checksum, _checksum(body)):
        raise MalformedToken("the access token's checksum does not match; it was mistyped")
    return token


def token_digest(token: str) -> bytes:
    """The SHA-256 digest under which a token or session secret is stored."""
    return hashlib.sha256(token.encode()).digest()


def token_hint(token: str) -> str:
    """A short, non-secret label that lets an operator recognise a token in a list."""
    return token[: len(TOKEN_PREFIX) + 4] + "…"


def generate_session_secret() -> str:
    return secrets.token_urlsafe(32)


@frozen(kw_only=True)
class PersonalAccessToken:
    """A token an integrator or AI client uses on the REST API and MCP endpoint."""

    id: UUID
    tenant_id: UUID
    operator_id: UUID
    name: str
    role: Role
    hint: str
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None

    def is_expired(self, now: datetime) -> bool:
        return self.expires_at is not None and now >= self.expires_at

    def is_usable(self, now: datetime) -> bool:
        return self.revoked_at is None and not self.is_expired(now)

    def state(self, now: datetime) -> str:
        """``revoked``, ``expired`` or ``active``: what a listing says of the token at ``now``."""
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.is_expired(now) else "active"


@frozen(kw_only=True)
class OperatorSession:
    """A signed-in hub session, stored server-side so that logout and revocation are real."""

    id: UUID
    tenant_id: UUID
    operator_id: UUID
    created_at: datetime
    expires_at: datetime
    last_seen_at: datetime
    ended_at: datetime | None = None

    def is_live(self, now: datetime) -> bool:
        return self.ended_at is None and now < self.expires_at


@frozen(kw_only=True)
class Principal:
    """The identity a use case runs as: one tenant, one role, one actor for the audit log."""

    tenant_id: UUID
    role: Role
    actor: Actor
    operator_id: UUID | None = None
    session_id: UUID | None = None
    display_name: str = ""
    time_zone: str = "UTC"

    def can(self, permission: Permission) -> bool:
        return self.role.can(permission)

    @classmethod
    def system(cls, tenant_id: UUID, label: str) -> Principal:
        """The principal of work Vectis does on its own (automations, sync, CLI maintenance)."""
        return cls(
            tenant_id=tenant_id,
            role=Role.OWNER,
            actor=Actor(kind=ActorKind.SYSTEM, id=None, label=label),
            display_name=label,
        )


def _checksum(body: str) -> str:
    value = zlib.crc32(body.encode())
    digits = []
    for _ in range(_CHECKSUM_LENGTH):
        value, remainder = divmod(value, len(_ALPHABET))
        digits.append(_ALPHABET[remainder])
    return "".join(reversed(digits))
