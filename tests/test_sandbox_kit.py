"""The sandbox kit on its own: tokens, the bearer check, vendor errors, paging, deliveries."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import falcon
import falcon.asgi
import httpx
import pytest
from attrs import define, field

from vectis_sandbox.kit.errors import VendorError
from vectis_sandbox.kit.oauth import BearerCheck, TokenEndpoint, Tokens, oauth_error
from vectis_sandbox.kit.paging import CursorBook, numbered_page, page_count, page_url, window
from vectis_sandbox.kit.resources import Fixed
from vectis_sandbox.kit.serving import serve_app
from vectis_sandbox.kit.state import SandboxState
from vectis_sandbox.kit.vendor import vendor_app
from vectis_sandbox.kit.webhooks import deliver_later
from vectis_sandbox.server import SANDBOXES, VENDORS
from vectis_sandbox.world import build_world

SCOPES = {"read", "write"}


@define
class _Vendor(SandboxState):
    client_id: str = "the-client"
    client_secret: str = "the-secret"
    token_seconds: float = 60.0
    tokens: Tokens = field(factory=Tokens)
    tenant: str = "acme"

    @property
    def credentials(self) -> dict[str, str]:
        return {"client_id": self.client_id, "client_secret": self.client_secret}


def _scope(asked: str | None) -> str:
    wanted = set((asked or "").split())
    if not wanted <= SCOPES:
        raise oauth_error(400, "invalid_scope")
    return " ".join(sorted(wanted))


def _tenant(state: _Vendor, req: falcon.asgi.Request) -> None:
    if req.get_param("tenant") not in (None, state.tenant):
        raise oauth_error(401, "invalid_client", "Unknown tenant")


class _Teapot:
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        raise VendorError(418, {"problem": "short and stout"}, headers={"X-Why": "tea"})


def _app(state: _Vendor, *, basic: bool = True) -> falcon.asgi.App[Any, Any]:
    bearer = BearerCheck(
        state, prefix="/api", refuse=lambda: oauth_error(401, "invalid_token", "No entry")
    )
    app = vendor_app(state, expired=(401, {"error": "expired"}), middleware=[bearer])
    app.add_route(
        "/token",
        TokenEndpoint(
            state,
            refuse=oauth_error,
            basic=basic,
            scope=_scope,
            check=lambda req: _tenant(state, req),
        ),
    )
    app.add_route("/api/things", Fixed(lambda: [{"id": 1}]))
    app.add_route("/teapot", _Teapot())
    return app


def _client(app: falcon.asgi.App[Any, Any]) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://vendor")


async def _token(client: httpx.AsyncClient, **form: str) -> httpx.Response:
    grant = {"grant_type": "client_credentials", "client_id": "the-client"}
    return await client.post("/token", data={**grant, "client_secret": "the-secret", **form})


async def test_a_token_for_the_client_credentials_opens_the_prefix_until_revoked() -> None:
    state = _Vendor()
    async with _client(_app(state)) as client:
        issued = await _token(client, scope="write read")
        token = issued.json()["access_token"]
        bearer = {"Authorization": f"Bearer {token}"}
        allowed = await client.get("/api/things", headers=bearer)
        state.tokens.clear()
        revoked = await client.get("/api/things", headers=bearer)

    assert issued.status_code == 200
    assert {key: value for key, value in issued.json().items() if key != "access_token"} == {
        "token_type": "Bearer",
        "expires_in": 60,
        "scope": "read write",
    }
    assert (allowed.status_code, allowed.json()) == (200, [{"id": 1}])
    assert (revoked.status_code, revoked.json()) == (
        401,
        {"error": "invalid_token", "error_description": "No entry"},
    )


async def test_the_token_endpoint_refuses_in_the_documented_order() -> None:
    async with _client(_app(_Vendor())) as client:
        grant = await _token(client, grant_type="password", client_secret="wrong")
        tenant = await client.post(
            "/token?tenant=other",
            data={"grant_type": "client_credentials", "client_id": "x", "client_secret": "y"},
        )
        secret = await _token(client, client_secret="wrong", scope="admin")
        scope = await _token(client, scope="read admin")

    assert (grant.status_code, grant.json()) == (400, {"error": "unsupported_grant_type"})
    assert (tenant.status_code, tenant.json()["error"]) == (401, "invalid_client")
    assert (secret.status_code, secret.json()) == (401, {"error": "invalid_client"})
    assert (scope.status_code, scope.json()) == (400, {"error": "invalid_scope"})


@pytest.mark.parametrize(("basic", "status"), [(True, 200), (False, 401)])
async def test_basic_credentials_count_only_where_the_vendor_takes_them(
    basic: bool, status: int
) -> None:
    pair = base64.b64encode(b"the-client:the-secret").decode()
    async with _client(_app(_Vendor(), basic=basic)) as client:
        answer = await client.post(
            "/token",
            data={"grant_type": "client_credentials"},
            headers={"Authorization": f"Basic {pair}"},
        )
    assert answer.status_code == status


async def test_a_request_without_a_live_bearer_token_is_refused_and_others_pass() -> None:
    state = _Vendor(token_seconds=-1)  # every token it issues has already expired
    async with _client(_app(state)) as client:
        expired = (await _token(client)).json()["access_token"]
        answers = [
            await client.get("/api/things", headers=headers)
            for headers in (
                {},
                {"Authorization": "Basic dGhlLWNsaWVudDp0aGUtc2VjcmV0"},
                {"Authorization": "Bearer not-a-token"},
                {"Authorization": f"Bearer {expired}"},
            )
        ]
        outside = await client.get("/teapot")
    assert [answer.status_code for answer in answers] == [401, 401, 401, 401]
    assert outside.status_code == 418, "paths outside the prefix need no token"


def test_tokens_expire_and_are_revoked_all_at_once() -> None:
    tokens = Tokens()
    live, dead = tokens.issue(60), tokens.issue(-1)
    assert (tokens.valid(live), tokens.valid(dead), tokens.valid("unknown")) == (True, False, False)
    tokens.clear()
    assert not tokens.valid(live)
    assert len(tokens) == 0


async def test_a_vendor_error_is_answered_with_its_status_body_and_headers() -> None:
    state = _Vendor()
    async with _client(_app(state)) as client:
        refused = await client.get("/teapot")
        state.faults.credentials_expired = True
        expired = await client.get("/teapot")
        state.faults.clear()
        state.faults.malformed = 1
        malformed = await client.get("/teapot")
    assert (refused.status_code, refused.json()) == (418, {"problem": "short and stout"})
    assert refused.headers["X-Why"] == "tea"
    assert (expired.status_code, expired.json()) == (401, {"error": "expired"})
    assert malformed.status_code == 200
    assert malformed.headers["content-type"] == "application/json"
    with pytest.raises(json.JSONDecodeError):
        malformed.json()


def test_a_cursor_reads_on_only_in_the_list_that_issued_it() -> None:
    book = CursorBook()
    first, second = book.issue("/v2/queries/health", 100), book.issue("/v2/queries/health", 200)
    assert first != second
    assert book.offset(first, "/v2/queries/health") == 100
    assert book.offset(second, "/v2/queries/health") == 200
    assert book.offset(first, "/v2/queries/antivirus") is None
    assert book.offset("never-issued", "/v2/queries/health") is None


def test_pages_slice_as_documented() -> None:
    rows = list(range(1, 8))
    assert numbered_page(rows, 1, 3) == [1, 2, 3]
    assert numbered_page(rows, 3, 3) == [7]
    assert numbered_page(rows, 4, 3) == []
    assert window(rows, 5, 10) == [6, 7]
    assert (page_count(7, 3), page_count(6, 3), page_count(0, 3)) == (3, 2, 1)
    assert page_url("http://h/list", {"page": 2, "q": "a b"}) == "http://h/list?page=2&q=a+b"


def test_without_a_running_loop_nothing_is_delivered() -> None:
    state = _Vendor()
    deliver_later(state, "http://127.0.0.1:9/hook", b"{}", {})
    assert state.deliveries == []


async def test_a_delivery_posts_the_body_and_headers_in_the_background() -> None:
    received: list[tuple[bytes, str]] = []

    async def receiver(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = dict(scope["headers"])
        received.append((body, headers.get(b"x-signature", b"").decode()))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    state = _Vendor()
    async with serve_app(receiver) as url:
        deliver_later(state, f"{url}/hook", b'{"n": 1}', {"X-Signature": "sha1=abc"})
        await asyncio.gather(*state.deliveries)
        deliver_later(state, f"{url}/hook", b'{"n": 2}', {})
        assert len(state.deliveries) == 1, "finished deliveries are dropped"
        await asyncio.gather(*state.deliveries)
    assert received == [(b'{"n": 1}', "sha1=abc"), (b'{"n": 2}', "")]


@pytest.mark.parametrize("vendor", SANDBOXES, ids=lambda vendor: vendor.key)
async def test_every_vendor_serves_its_app_behind_the_fault_switches(vendor: Any) -> None:
    state = vendor.seeded(build_world(tickets_per_company=1))
    state.base_url = vendor.base_url_for("http://vendor")
    state.faults.server_errors = 1
    async with _client(vendor.create_app(state)) as client:
        answer = await client.get("/anything")
    assert answer.status_code == 500
    assert VENDORS[vendor.key] == vendor.label
    assert set(state.credentials) and state.company_ids
