"""AES-256-GCM sealing of connector credentials, bound to their row and rotatable.

Layout: version (1 byte) ‖ key id (4) ‖ nonce (12) ‖ ciphertext with tag. Older keys stay
able to open what they sealed, so the secret key can be rotated without a migration.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from vectis.adapters.security.keys import derive_key, key_id
from vectis.application.errors import ConfigurationError

_VERSION = b"\x01"
_PURPOSE = "credentials-at-rest"


class AesGcmSecretBox:
    def __init__(self, secret_key: str, previous_keys: Sequence[str] = ()) -> None:
        keys = [derive_key(secret_key, _PURPOSE)] + [derive_key(k, _PURPOSE) for k in previous_keys]
        self._current = keys[0]
        self._by_id = {key_id(key): key for key in keys}

    def seal(self, plaintext: bytes, *, context: bytes) -> bytes:
        nonce = secrets.token_bytes(12)
        sealed = AESGCM(self._current).encrypt(nonce, plaintext, _VERSION + context)
        return _VERSION + key_id(self._current) + nonce + sealed

    def open(self, sealed: bytes, *, context: bytes) -> bytes:
        if sealed[:1] != _VERSION or len(sealed) < 1 + 4 + 12 + 16:
            raise ConfigurationError("stored credentials are not in a format this Vectis reads")
        key = self._by_id.get(sealed[1:5])
        if key is None:
            raise ConfigurationError(
                "stored credentials were sealed with a secret key this server does not have; "
                "add the old key to VECTIS_PREVIOUS_SECRET_KEYS"
            )
        try:
            return AESGCM(key).decrypt(sealed[5:17], sealed[17:], _VERSION + context)
        except InvalidTag:
            raise ConfigurationError(
                "stored credentials failed their integrity check (altered or moved between rows)"
            ) from None
