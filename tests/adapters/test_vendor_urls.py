"""Operator-set vendor URLs cannot be turned against the server's own network."""

from __future__ import annotations

import re

import pytest

from tests.adapters.fake_dns import PUBLIC, FakeResolver
from vectis.adapters.vendors._http.urls import VendorUrlPolicy, vendor_url
from vectis.domain.errors import InvalidValue, VendorRejected


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


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://[::1/", "not a well-formed URL"),
        ("https://[::1/api", "not a well-formed URL"),
        ("https://example.com:99999/", "port must be a number from 1 to 65535"),
        ("https://example.com:0/", "port must be a number from 1 to 65535"),
        ("https://example.com:/", "port must be a number from 1 to 65535"),
        ("https://example.com:44x/", "port must be a number from 1 to 65535"),
        ("https://example.com:0443/", "port must be a number from 1 to 65535"),
        ("https://example.com:443:80/", "port must be a number from 1 to 65535"),
        ("https://exa\tmple.com/", r"must not contain '\\t'"),
        ("https://example.com\n/", r"must not contain '\\n'"),
        ("https://example.com/\r", r"must not contain '\\r'"),
        ("https://example.com\x00/", r"must not contain '\\x00'"),
        ("https://example.com/\x7f", r"must not contain '\\x7f'"),
        ("\x01https://example.com/", r"must not contain '\\x01'"),
        ("https://exa mple.com/", "must not contain ' '"),
        ("https://example.com\\@attacker.example/", r"must not contain '\\\\'"),
        ("https://exämple.com/", "must not contain 'ä'"),
        ("https://ex%61mple.com/", "not a host name or IP address"),
        ("https://example.com./", "not a host name or IP address"),
        ("https://-example.com/", "not a host name or IP address"),
        ("https://ex_ample.com/", "not a host name or IP address"),
        ("https://[fe80::1%25eth0]/", "not a host name or IP address"),
        ("https://[1.2.3.4]/", "not a well-formed URL"),
        ("https://[v1.x]/", "not a host name or IP address"),
        ("https://@example.com/", "credential fields"),
        ("https://example.com/#top", "fragment"),
        ("", "must use https, not nothing"),
    ],
)
async def test_malformed_base_urls_are_refused_with_the_reason(url: str, reason: str) -> None:
    resolver = FakeResolver({"example.com": [[PUBLIC]]})
    for policy in (VendorUrlPolicy(resolver=resolver), VendorUrlPolicy(allow_private=True)):
        with pytest.raises(InvalidValue, match=reason):
            await policy.check_base_url(url)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.7",
        "100.64.1.1",
        "169.254.169.254",
        "0.0.0.0",
        "::",
        "::1",
        "::ffff:169.254.169.254",
        "::169.254.169.254",
        "64:ff9b::a9fe:a9fe",
        "2002:a9fe:a9fe::1",
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",
        "fd00::1",
        "fe80::1",
        "ff05::2",
    ],
)
async def test_a_name_resolving_to_any_non_public_form_is_refused_when_saved(address: str) -> None:
    policy = VendorUrlPolicy(resolver=FakeResolver({"psa.example": [[PUBLIC, address]]}))
    with pytest.raises(InvalidValue, match=f"resolves to {re.escape(address)}.*not a public"):
        await policy.check_base_url("https://psa.example/v4_6_release")


async def test_a_name_resolving_to_public_addresses_only_is_saved() -> None:
    policy = VendorUrlPolicy(resolver=FakeResolver({"psa.example": [[PUBLIC, "2606:4700::1111"]]}))
    assert await policy.check_base_url("https://PSA.example:8443/v4_6_release/") == (
        "https://PSA.example:8443/v4_6_release"
    )


async def test_the_sandbox_setting_accepts_unresolved_names_but_still_checks_answers() -> None:
    resolver = FakeResolver({"multicast.example": [["224.0.0.1"]]})
    policy = VendorUrlPolicy(allow_private=True, resolver=resolver)

    assert await policy.check_base_url("https://later.example/") == "https://later.example"
    with pytest.raises(InvalidValue, match="multicast"):
        await policy.check_base_url("http://multicast.example/")
    assert resolver.lookups == ["later.example", "multicast.example"]


ZONE = "https://webservices5.autotask.net/atservicesrest"


@pytest.mark.parametrize(
    "url",
    [
        f"{ZONE}/v1.0/Tickets/query?search=x",
        "https://WEBSERVICES5.autotask.net:443/atservicesrest/v1.0/next",
        "https://webservices14.autotask.net/atservicesrest",
    ],
)
def test_a_vendor_url_on_the_origin_or_the_documented_domain_passes(url: str) -> None:
    assert vendor_url(url, vendor="Autotask", what="URL", origins=[ZONE], domain="autotask.net")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://attacker.example/atservicesrest", "not a host of this integration"),
        ("https://autotask.net.attacker.example/", "not a host of this integration"),
        ("https://evilautotask.net/", "not a host of this integration"),
        ("http://webservices5.autotask.net/atservicesrest", "not a host of this integration"),
        ("https://webservices5.autotask.net:8443/x", "not a host of this integration"),
        ("https://webservices5.autotask.net\t.attacker.example/", "malformed"),
        ("https://webservices5.autotask.net\n/", "malformed"),
        ("https://webservices5.autotask.net\\@attacker.example/", "malformed"),
        ("https://user:pw@webservices5.autotask.net/", "malformed"),
        ("https://webservices5.autotask.net:99999/", "malformed"),
        ("ftp://webservices5.autotask.net/", "malformed"),
        ("/v1.0/Tickets", "malformed"),
    ],
)
def test_a_vendor_url_elsewhere_or_malformed_is_refused(url: str, reason: str) -> None:
    with pytest.raises(VendorRejected, match=reason):
        vendor_url(url, vendor="Autotask", what="URL", origins=[ZONE], domain="autotask.net")
