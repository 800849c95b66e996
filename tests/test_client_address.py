"""The client's address is the socket's peer unless a trusted proxy vouches for another."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.conftest import TEST_SECRET_KEY
from tests.factories import PASSWORD, World, make_tenant
from tests.http_client import asgi_client, csrf_token, hub_client
from vectis.adapters.security.keys import derive_key
from vectis.application.services import Services
from vectis.container import Runtime
from vectis.entrypoints.cli.commands import http_server_config
from vectis.entrypoints.http.app import HttpConfig, create_app
from vectis.entrypoints.http.client_address import client_address
from vectis.entrypoints.http.security import LOGIN_COOKIE
from vectis.settings import Settings
from vectis_sandbox.server import QuietServer

PROXIES = (ipaddress.ip_network("192.0.2.0/24"), ipaddress.ip_network("2001:db8::/32"))


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "trusted", "expected"),
    [
        ("198.51.100.7", "203.0.113.1", (), "198.51.100.7"),
        ("198.51.100.7", "203.0.113.1", PROXIES, "198.51.100.7"),
        ("192.0.2.1", "203.0.113.1", PROXIES, "203.0.113.1"),
        ("192.0.2.1", "6.6.6.6, 203.0.113.1", PROXIES, "203.0.113.1"),
        ("192.0.2.1", "203.0.113.1, 192.0.2.9", PROXIES, "203.0.113.1"),
        ("192.0.2.1", "192.0.2.8, 192.0.2.9", PROXIES, "192.0.2.8"),
        ("192.0.2.1", "nonsense, 192.0.2.9", PROXIES, "192.0.2.9"),
        ("192.0.2.1", "", PROXIES, "192.0.2.1"),
        ("2001:db8::1", "::ffff:203.0.113.1", PROXIES, "203.0.113.1"),
    ],
)
def test_x_forwarded_for_is_believed_only_from_trusted_proxies(
    peer: str, forwarded_for: str, trusted: tuple[object, ...], expected: str
) -> None:
    assert client_address(peer, forwarded_for, trusted) == expected  # type: ignore[arg-type]


def test_trusted_proxies_are_read_from_the_environment() -> None:
    settings = Settings.from_env({"VECTIS_TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.1"})
    assert settings.trusted_proxies == (
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("192.0.2.1/32"),
    )
    assert Settings.from_env({}).trusted_proxies == ()
    with pytest.raises(Exception, match="VECTIS_TRUSTED_PROXIES"):
        Settings.from_env({"VECTIS_TRUSTED_PROXIES": "10.0.0.0/8, proxy.example"})


async def test_a_client_cannot_dodge_the_throttle_or_the_audit_log_with_x_forwarded_for(
    services: Services,
) -> None:
    world = await make_tenant(services)
    async with hub_client(services, TEST_SECRET_KEY) as client:
        statuses = [
            (await _sign_in(client, world, "wrong", forwarded_for=f"6.6.6.{n}")).status_code
            for n in range(6)
        ]

    assert statuses == [401] * 5 + [429]
    assert await _audited_addresses(services, world) == ["192.0.2.10"] * 5


async def test_a_trusted_proxy_names_the_client(services: Services) -> None:
    world = await make_tenant(services)
    app = create_app(
        services,
        HttpConfig(
            csrf_key=derive_key(TEST_SECRET_KEY, "csrf"),
            cursor_key=derive_key(TEST_SECRET_KEY, "page-cursor"),
            trusted_proxies=PROXIES,
        ),
    )
    async with asgi_client(app) as client:
        await _sign_in(client, world, PASSWORD, forwarded_for="6.6.6.6, 198.51.100.23")

    assert await _audited_addresses(services, world) == ["198.51.100.23"]


async def test_the_server_gives_a_loopback_client_no_say_in_its_address(
    services: Services, runtime: Runtime
) -> None:
    world = await make_tenant(services)
    async with (
        _serving(runtime, services) as base_url,
        httpx.AsyncClient(base_url=base_url) as client,
    ):
        form = await client.get("/login")
        signed_in = await client.post(
            "/login",
            data={
                "email": world.owner.email,
                "password": PASSWORD,
                "csrf_token": csrf_token(form.text),
            },
            headers={
                # The login cookie is Secure, which httpx keeps from plain http.
                "Cookie": f"{LOGIN_COOKIE}={form.cookies[LOGIN_COOKIE]}",
                "X-Forwarded-For": "6.6.6.6",
            },
        )

    assert signed_in.status_code == 303
    assert await _audited_addresses(services, world) == ["127.0.0.1"]


async def _sign_in(
    client: httpx.AsyncClient, world: World, password: str, *, forwarded_for: str
) -> httpx.Response:
    form = await client.get("/login")
    return await client.post(
        "/login",
        data={
            "email": world.owner.email,
            "password": password,
            "csrf_token": csrf_token(form.text),
        },
        headers={"X-Forwarded-For": forwarded_for},
    )


async def _audited_addresses(services: Services, world: World) -> list[str]:
    records = await services.audit.recent(world.principal, limit=50)
    return [
        record.entry.payload["address"]
        for record in records
        if record.entry.action == "session.sign_in"
    ]


@contextlib.asynccontextmanager
async def _serving(runtime: Runtime, services: Services) -> AsyncIterator[str]:
    """The hub served as ``vectis serve`` serves it, on a free loopback port."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    host, port = listener.getsockname()
    server = QuietServer(http_server_config(runtime.http_app(services), host, port))
    task = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        while not server.started:
            assert not task.done(), "the server stopped before it started"
            await asyncio.sleep(0.01)
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        await task
        listener.close()
