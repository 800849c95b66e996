"""The server's secret key and the purpose-bound keys derived from it (HKDF-SHA256)."""

from __future__ import annotations

import base64
import hashlib
import secrets

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from vectis.application.errors import ConfigurationError

MINIMUM_LENGTH = 32


def generate_secret_key() -> str:
    """A new random key in the form ``VECTIS_SECRET_KEY`` expects."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


def check_secret_key(key: str) -> str:
    if len(key) < MINIMUM_LENGTH:
        raise ConfigurationError(
            f"VECTIS_SECRET_KEY must be at least {MINIMUM_LENGTH} characters; "
            "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )
    return key


def derive_key(secret_key: str, purpose: str) -> bytes:
    """A 32-byte key for one purpose, so no two uses share key material."""
    return HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=b"vectis",
        info=purpose.encode(),
    ).derive(check_secret_key(secret_key).encode())


def key_id(key: bytes) -> bytes:
    return hashlib.sha256(b"key-id:" + key).digest()[:4]
