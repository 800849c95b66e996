"""The MSP's branding: colour and logo set by the owner (hub form or CLI), served to its own
operators only, audited; anything but a PNG, JPEG or WebP image is refused."""

from __future__ import annotations

import struct
import zlib
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.conftest import TEST_SECRET_KEY
from tests.factories import PASSWORD, add_operator, make_tenant
from tests.http_client import csrf_token, hub_client, sign_in
from vectis.application.services import Services
from vectis.domain.tenancy import Role


def tiny_png() -> bytes:
    """A valid 1x1 PNG, built here rather than shipped as a binary fixture."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x0a\x7d\x5a")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


@pytest.fixture
def services(fake_services: Services) -> Services:
    """The in-memory unit of work (tests/fakes.py); tests of what PostgreSQL does take
    ``real_services`` and ``real_client``."""
    return fake_services


@pytest.fixture
async def client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    async with hub_client(services, TEST_SECRET_KEY) as client:
        yield client


async def _post_branding(
    client: httpx.AsyncClient, token: str | None, *, accent: str, logo: tuple[str, bytes, str]
) -> httpx.Response:
    # The CSRF token must come first in a multipart body: httpx sends data fields in order,
    # before files.
    data = {"csrf_token": token, "accent": accent} if token else {"accent": accent}
    return await client.post("/settings", data=data, files={"logo": logo})


async def test_the_owner_brands_the_hub_and_every_page_shows_it(
    real_services: Services, real_client: httpx.AsyncClient
) -> None:
    world = await make_tenant(real_services)
    await sign_in(real_client, world.owner.email, PASSWORD)
    token = csrf_token((await real_client.get("/settings")).text)

    saved = await _post_branding(
        real_client, token, accent="#0A7D5A", logo=("logo.png", tiny_png(), "image/png")
    )

    assert saved.status_code == 303
    page = await real_client.get("/customers")
    assert '<img src="/branding/logo"' in page.text
    assert 'href="/branding/theme.css?v=0a7d5a"' in page.text
    theme = await real_client.get("/branding/theme.css")
    assert theme.text.strip() == ":root { --accent: #0a7d5a }"
    logo = await real_client.get("/branding/logo")
    assert logo.headers["content-type"] == "image/png" and logo.content == tiny_png()
    audit = await real_services.audit.recent(world.principal, limit=5)
    assert audit[0].entry.action == "tenant.branding"


@pytest.mark.parametrize(
    ("name", "content", "media_type"),
    [
        (
            "logo.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "image/svg+xml",
        ),
        ("logo.png", b"<html><script>alert(1)</script></html>", "image/png"),
        ("big.png", b"\x89PNG\r\n\x1a\n" + b"0" * 300_000, "image/png"),
    ],
)
async def test_anything_but_a_small_raster_image_is_refused(
    services: Services, client: httpx.AsyncClient, name: str, content: bytes, media_type: str
) -> None:
    world = await make_tenant(services)
    await sign_in(client, world.owner.email, PASSWORD)
    token = csrf_token((await client.get("/settings")).text)

    refused = await _post_branding(
        client, token, accent="#0a7d5a", logo=(name, content, media_type)
    )

    assert refused.status_code == 400
    tenant = await services.tenancy.get_tenant(world.principal)
    assert not tenant.has_logo and tenant.accent_color is None


async def test_only_the_owner_may_brand_and_only_with_the_forms_token(
    services: Services, client: httpx.AsyncClient
) -> None:
    world = await make_tenant(services)
    tech = await add_operator(services, world, "tess", Role.TECH)
    await sign_in(client, world.owner.email, PASSWORD)
    forged = await _post_branding(
        client, None, accent="#ff0000", logo=("logo.png", tiny_png(), "image/png")
    )
    await client.post(
        "/logout", data={"csrf_token": csrf_token((await client.get("/settings")).text)}
    )
    await sign_in(client, tech.email, PASSWORD)
    page = await client.get("/settings")
    refused = await _post_branding(
        client, csrf_token(page.text), accent="#ff0000", logo=("logo.png", tiny_png(), "image/png")
    )

    assert forged.status_code == 403
    assert "Only the tenant's owner" in page.text
    assert refused.status_code == 403
    tenant = await services.tenancy.get_tenant(world.principal)
    assert tenant.accent_color is None and not tenant.has_logo


async def test_a_tenant_without_a_logo_serves_none(
    real_services: Services, real_client: httpx.AsyncClient
) -> None:
    world = await make_tenant(real_services)
    await sign_in(real_client, world.owner.email, PASSWORD)
    assert (await real_client.get("/branding/logo")).status_code == 404
    assert (await real_client.get("/branding/theme.css")).text == ""
