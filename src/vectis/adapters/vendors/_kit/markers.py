"""The one idempotency marker Vectis writes into a vendor record it creates.

A PSA has no idempotency header, so a write-back that may be retried leaves a marker in a
field the vendor stores and can filter on (ConnectWise ``externalXRef``, Autotask
``externalID``, HaloPSA ``third_party_id_string``) or in a note's text, and looks for it
before creating again. The marker has one format in every PSA: ``vectis:`` and the first 32
hexadecimal digits of the key's SHA-256 — 39 characters, inside every vendor's limit, free of
characters a vendor's query syntax would need escaped, and the same for the same key however
long or odd the key is.
"""

from __future__ import annotations

import hashlib

PREFIX = "vectis:"
DIGEST_LENGTH = 32
LENGTH = len(PREFIX) + DIGEST_LENGTH


def marker(idempotency_key: str) -> str:
    """The marker for the record created under this idempotency key."""
    if not idempotency_key:
        raise ValueError("an idempotency marker needs a key")
    return PREFIX + hashlib.sha256(idempotency_key.encode()).hexdigest()[:DIGEST_LENGTH]


def note_tag(idempotency_key: str) -> str:
    """The marker as it ends a note's text or title, where a vendor stores no marker field."""
    return f"[{marker(idempotency_key)}]"


def is_marker(value: str | None) -> bool:
    return (
        value is not None
        and len(value) == LENGTH
        and value.startswith(PREFIX)
        and all(c in "0123456789abcdef" for c in value[len(PREFIX) :])
    )
