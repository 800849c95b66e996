"""Operator-set vendor URLs cannot be turned against the server's own network."""

from __future__ import annotations

import pytest

from vectis.adapters.vendors._http.urls import VendorUrlPolicy
from vectis.domain.errors import InvalidValue


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://api-na.myconnectwise.net/v4_6_release", "must use https"),
        ("ftp://example.com", "must use https"),
        ("https://127.0.0.1/api", "not a public address"),
        ("https://localhost:8443/api", "not a public address"),
        ("https://10.1.2.3/", "not a public address"),
        ("https://192.168.0.10/", "not a public address"),
        ("https://169.254.169.254/latest/meta-data", "not a public address"),
        ("https://[::1]/", "not a public address"),
        ("https://[::ffff:127.0.0.1]/", "not a public address"),
        ("https://[fe80::1]/", "not a public address"),
        ("https://user:pass@example.com/", "credential fields"),
        ("https://example.com/api?x=1", "query"),
        ("https:///nohost", "names no host"),
        ("https://no-such-host.invalid/", "cannot resolve"),
    ],
)
async def test_private_unresolvable_or_odd_urls_are_refused(url: str, reason: str) -> None:
    with pytest.raises(InvalidValue, match=reason):
        await VendorUrlPolicy().check_base_url(url)


async def test_a_public_address_passes_and_is_normalised() -> None:
    assert await VendorUrlPolicy().check_base_url("https://8.8.8.8/v4_6_release/") == (
        "https://8.8.8.8/v4_6_release"
    )


async def test_the_sandbox_setting_allows_loopback_over_http() -> None:
    policy = VendorUrlPolicy(allow_private=True)
    assert await policy.check_base_url("http://127.0.0.1:8123/v4_6_release") == (
        "http://127.0.0.1:8123/v4_6_release"
    )
