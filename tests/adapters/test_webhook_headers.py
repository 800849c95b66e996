"""Every vendor's webhook parser finds a header the same way, whatever case it arrives in."""

from __future__ import annotations

import pytest

from vectis.adapters.vendors._webhooks import header


@pytest.mark.parametrize(
    "headers",
    [
        {"x-hook-signature": "sha1=abc"},
        {"X-Hook-Signature": "sha1=abc"},
        {"X-HOOK-SIGNATURE": "sha1=abc", "content-type": "application/json"},
    ],
)
def test_a_header_is_found_whatever_its_case(headers: dict[str, str]) -> None:
    assert header(headers, "X-Hook-Signature") == "sha1=abc"
    assert header(headers, "x-hook-signature") == "sha1=abc"


def test_a_missing_header_is_none_and_an_empty_one_is_kept() -> None:
    assert header({"content-type": "application/json"}, "authorization") is None
    assert header({"authorization": ""}, "Authorization") == ""
