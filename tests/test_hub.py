"""The hub over HTTP: sign-in with CSRF and throttling, sessions, pages, friendly errors."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import TEST_SECRET_KEY
from tests.factories import PASSWORD, make_tenant
from tests.http_client import csrf_token, hub_client, sign_in
from vectis.application.services import Services


@pytest.fixture
def services(fake_services: Services) -> Services:
    """The in-memory unit of work (tests/fakes.py); tests of what PostgreSQL does take
    ``real_services`` and ``real_client``."""
    return fake_services


@pytest.fixture
async def client(services: Services) -> httpx.AsyncClient:
    async with hub_client(services, TEST_SECRET_KEY) as client:
        yield client  # type: ignore[misc]


async def test_the_login_form_uses_the_fields_password_managers_expect(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/login")
    assert page.status_code == 200
    assert 'name="email"' in page.text and 'autocomplete="username"' in page.text
    assert 'name="password"' in page.text and 'autocomplete="current-password"' in page.text


async def test_signing_in_sets_a_secure_http_only_same_site_session_cookie(
    real_services: Services, real_client: httpx.AsyncClient
) -> None:
    world = await make_tenant(real_services)

    response = await sign_in(real_client, world.owner.email, PASSWORD)

    assert response.status_code == 303
    assert response.headers["location"] == "/customers"
    cookie = next(
        value
        for value in response.headers.get_list("set-cookie")
        if value.startswith("vectis_session=")
    )
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    customers = await real_client.get("/customers")
    assert customers.status_code == 200
    assert "Acme" in customers.text


async def test_a_sign_in_without_its_csrf_token_is_refused(
    services: Services, client: httpx.AsyncClient
) -> None:
    world = await make_tenant(services)
    await client.get("/login")

    missing = await client.post("/login", data={"email": world.owner.email, "password": PASSWORD})
    forged = await client.post(
        "/login", data={"email": world.owner.email, "password": PASSWORD, "csrf_token": "0" * 64}
    )

    assert missing.status_code == forged.status_code == 403
    assert "security token" in missing.text
    assert "vectis_session" not in str(missing.headers) + str(forged.headers)


async def test_a_form_posted_without_its_csrf_token_changes_nothing(
    real_services: Services, real_client: httpx.AsyncClient
) -> None:
    world = await make_tenant(real_services)
    await sign_in(real_client, world.owner.email, PASSWORD)

    refused = await real_client.post("/logout", data={})

    assert refused.status_code == 403
    assert (await real_client.get("/customers")).status_code == 200, "still signed in"


async def test_signing_out_ends_the_session(services: Services, client: httpx.AsyncClient) -> None:
    world = await make_tenant(services)
    await sign_in(client, world.owner.email, PASSWORD)
    page = await client.get("/customers")
    old_cookie = client.cookies.get("vectis_session")

    response = await client.post("/logout", data={"csrf_token": csrf_token(page.text)})

    assert response.status_code == 303 and response.headers["location"] == "/login"
    client.cookies.set("vectis_session", old_cookie or "", domain="vectis.test")
    after = await client.get("/customers")
    assert after.status_code == 303
    assert after.headers["location"].startswith("/login")


async def test_a_wrong_password_shows_the_form_again_and_repeated_failures_are_throttled(
    real_services: Services, real_client: httpx.AsyncClient
) -> None:
    world = await make_tenant(real_services)
    statuses = [
        (await sign_in(real_client, world.owner.email, "wrong")).status_code for _ in range(6)
    ]

    assert statuses[:5] == [401] * 5
    assert statuses[5] == 429
    throttled = await sign_in(real_client, world.owner.email, PASSWORD)
    assert throttled.status_code == 429
    assert "try again in" in throttled.text
    assert int(throttled.headers["retry-after"]) > 0


async def test_pages_need_a_session_and_remember_where_you_were_going(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/audit?x=1")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Faudit%3Fx%3D1"


async def test_the_sign_in_form_never_redirects_off_site(
    services: Services, client: httpx.AsyncClient
) -> None:
    world = await make_tenant(services)
    form = await client.get("/login")
    response = await client.post(
        "/login",
        data={
            "email": world.owner.email,
            "password": PASSWORD,
            "csrf_token": csrf_token(form.text),
            "next": "//evil.example/phish",
        },
    )
    assert response.headers["location"] == "/customers"


async def test_vendor_or_user_markup_renders_inert(
    real_services: Services, real_client: httpx.AsyncClient
) -> None:
    world = await make_tenant(real_services, customers=("<script>alert(1)</script> Corp",))
    await sign_in(real_client, world.owner.email, PASSWORD)

    page = await real_client.get("/customers")

    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Corp" in page.text


async def test_pages_carry_a_strict_content_security_policy(client: httpx.AsyncClient) -> None:
    page = await client.get("/login")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert page.headers["x-frame-options"] == "DENY"


async def test_an_unknown_page_gets_a_friendly_html_404(client: httpx.AsyncClient) -> None:
    page = await client.get("/no-such-page")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "Not Found" in page.text and "Traceback" not in page.text


async def test_an_unknown_page_for_a_signed_in_tech_is_branded_with_a_way_back(
    real_services: Services, real_client: httpx.AsyncClient
) -> None:
    world = await make_tenant(real_services, "Harbor Point IT")
    await sign_in(real_client, world.owner.email, PASSWORD)
    came_from = f"{real_client.base_url}/customers?q=acme"

    page = await real_client.get("/customers/no-such-page/x", headers={"Referer": came_from})
    offsite = await real_client.get(
        "/no-such-page", headers={"Referer": "https://evil.example/customers"}
    )
    api = await real_client.get("/api/v1/no-such-thing")

    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "Harbor Point IT" in page.text, "the MSP's brand, not a bare page"
    assert 'href="/customers"' in page.text, "the navigation"
    assert 'name="csrf_token" value="' in page.text, "a sign-out form that works"
    assert 'href="/customers?q=acme">Back to the page you were on' in page.text
    assert "Back to the page you were on" not in offsite.text
    assert api.status_code == 404 and api.headers["content-type"] == "application/problem+json"


async def test_the_audit_page_lists_the_tenants_entries(
    real_services: Services, real_client: httpx.AsyncClient
) -> None:
    world = await make_tenant(real_services)
    other = await make_tenant(real_services, "Other IT", customers=("Secret Customer",))
    await sign_in(real_client, world.owner.email, PASSWORD)

    page = await real_client.get("/audit")

    assert page.status_code == 200
    assert "session.sign_in" in page.text and "customer.create" in page.text
    assert other.owner.email not in page.text


async def test_health_endpoints(real_client: httpx.AsyncClient) -> None:
    assert (await real_client.get("/healthz")).json() == {"status": "ok"}
    ready = await real_client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["migrations_current"] is True
