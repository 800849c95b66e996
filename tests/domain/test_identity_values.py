"""Token format, roles and redaction: pure domain rules."""

from __future__ import annotations

import pytest

from vectis.domain.audit import REDACTED, redact
from vectis.domain.errors import InvalidValue, MalformedToken
from vectis.domain.identity import (
    TOKEN_LENGTH,
    generate_personal_access_token,
    parse_personal_access_token,
    token_hint,
)
from vectis.domain.tenancy import Permission, Role, normalize_email, slugify


def test_tokens_carry_the_prefix_and_a_checksum_that_catches_typos() -> None:
    token = generate_personal_access_token()
    assert token.startswith("vectis_pat_") and len(token) == TOKEN_LENGTH == 47
    assert parse_personal_access_token(token) == token

    typo = token[:20] + ("A" if token[20] != "A" else "B") + token[21:]
    with pytest.raises(MalformedToken, match="checksum"):
        parse_personal_access_token(typo)


def test_tokens_are_unique_and_hints_reveal_almost_nothing() -> None:
    tokens = {generate_personal_access_token() for _ in range(200)}
    assert len(tokens) == 200
    token = tokens.pop()
    assert token_hint(token) == token[:15] + "…"


@pytest.mark.parametrize(
    "value", ["", "vectis_pat_", "vectis_pat_" + "!" * 36, "github_pat_" + "a" * 36]
)
def test_malformed_tokens_are_refused_before_any_lookup(value: str) -> None:
    with pytest.raises(MalformedToken):
        parse_personal_access_token(value)


def test_roles_nest_and_grant_what_they_should() -> None:
    assert Role.OWNER.includes(Role.ADMIN) and Role.ADMIN.includes(Role.TECH)
    assert not Role.TECH.includes(Role.ADMIN)
    assert Role.TECH.can(Permission.WRITE_BACK)
    assert not Role.READ_ONLY.can(Permission.WRITE_BACK)
    assert not Role.ADMIN.can(Permission.MANAGE_TENANT) and Role.OWNER.can(Permission.MANAGE_TENANT)
    assert Role.parse("Read-Only") is Role.READ_ONLY
    with pytest.raises(InvalidValue, match="unknown role"):
        Role.parse("superuser")


def test_emails_and_slugs_are_normalised() -> None:
    assert normalize_email("  Ops@Example.COM ") == "ops@example.com"
    with pytest.raises(InvalidValue):
        normalize_email("not an email")
    assert slugify("Aldridge & Co.") == "aldridge-co"
    assert slugify("Zoë's Café") == "zoe-s-cafe"


def test_redaction_covers_secret_keys_at_any_depth_and_token_shaped_values() -> None:
    token = generate_personal_access_token()
    payload = {
        "password": "x",
        "clientSecret": "y",
        "headers": {"Authorization": "Basic abc"},
        "items": [{"private_key": "z"}, f"leaked {token} here"],
        "ticket": 4821,
    }
    assert redact(payload) == {
        "password": REDACTED,
        "clientSecret": REDACTED,
        "headers": {"Authorization": REDACTED},
        "items": [{"private_key": REDACTED}, f"leaked {REDACTED} here"],
        "ticket": 4821,
    }
