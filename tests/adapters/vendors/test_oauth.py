"""The kit's OAuth client-credentials API: one token per grant, shared, renewed when refused."""

from __future__ import annotations

from urllib.parse import parse_qsl

import attrs
import httpx
import pytest

from vectis.adapters.vendors._http.oauth import ClientCredentials, OAuthApi, TokenCache
from vectis.adapters.vendors._http.transport import RetryPolicy
from vectis.domain.errors import VendorAuthFailed

GRANT = ClientCredentials(
    token_url="https://vendor.example/oauth/token",
    client_id="cid",
    client_secret="first-secret",
    scope="read",
    token_params={"tenant": "harbor"},
)


@attrs.define
class Vendor:
    """An OAuth vendor in memory: issues numbered tokens, accepts only the current ones."""

    issued: list[dict[str, str]] = attrs.field(factory=list)
    valid: set[str] = attrs.field(factory=set)
    seen: list[str] = attrs.field(factory=list)
    refuse_grant: bool = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            if self.refuse_grant:
                return httpx.Response(401, json={"error": "invalid_client"})
            form = dict(parse_qsl(request.content.decode()))
            self.issued.append({**form, **dict(request.url.params)})
            token = f"token-{len(self.issued)}"
            self.valid.add(token)
            return httpx.Response(200, json={"access_token": token, "expires_in": 3600})
        token = request.headers["authorization"].removeprefix("Bearer ")
        self.seen.append(token)
        if token not in self.valid:
            return httpx.Response(401, json={"error": "invalid_token"})
        return httpx.Response(200, json={"ok": True})


def _api(http: httpx.AsyncClient, cache: TokenCache, grant: ClientCredentials = GRANT) -> OAuthApi:
    return OAuthApi(
        http,
        vendor="Vendor",
        api_url="https://vendor.example/api",
        credentials=grant,
        token_cache=cache,
        retry=RetryPolicy(attempts=1),
    )


async def test_clients_sharing_a_cache_fetch_one_token_with_the_documented_form() -> None:
    vendor, cache = Vendor(), {}
    async with httpx.AsyncClient(transport=httpx.MockTransport(vendor)) as http:
        await _api(http, cache).call("GET", "/things")
        await _api(http, cache).call("GET", "/things")

    assert vendor.issued == [
        {
            "grant_type": "client_credentials",
            "client_id": "cid",
            "client_secret": "first-secret",
            "scope": "read",
            "tenant": "harbor",
        }
    ]
    assert vendor.seen == ["token-1", "token-1"]


async def test_a_refused_token_is_renewed_once_and_the_call_goes_through() -> None:
    vendor, cache = Vendor(), {}
    async with httpx.AsyncClient(transport=httpx.MockTransport(vendor)) as http:
        api = _api(http, cache)
        await api.call("GET", "/things")
        vendor.valid.clear()  # the vendor revoked it early
        response = await api.call("GET", "/things")

    assert response.status_code == 200
    assert vendor.seen == ["token-1", "token-1", "token-2"]


async def test_a_new_secret_tenant_or_scope_never_reuses_the_old_token() -> None:
    grants = [
        GRANT,
        attrs.evolve(GRANT, client_secret="second-secret"),
        attrs.evolve(GRANT, token_params={"tenant": "other"}),
        attrs.evolve(GRANT, scope="read write"),
    ]
    assert len({grant.cache_key for grant in grants}) == 4
    assert all("secret" not in grant.cache_key for grant in grants)


async def test_a_refused_grant_is_an_authentication_failure_naming_the_vendor() -> None:
    vendor = Vendor(refuse_grant=True)
    async with httpx.AsyncClient(transport=httpx.MockTransport(vendor)) as http:
        with pytest.raises(VendorAuthFailed, match="Vendor refused the client credentials"):
            await _api(http, {}).call("GET", "/things")
