"""An HTTP client speaking to the ASGI app in-process, over https so Secure cookies flow."""

from __future__ import annotations

import re
from typing import Any

import falcon.asgi
import httpx

from vectis.adapters.security.keys import derive_key
from vectis.application.services import Services
from vectis.entrypoints.http.app import HttpConfig, create_app

_CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def hub_app(services: Services, secret_key: str) -> falcon.asgi.App[Any, Any]:
    """The ASGI app as the server builds it, keyed from ``secret_key``."""
    return create_app(
        services,
        HttpConfig(
            csrf_key=derive_key(secret_key, "csrf"),
            cursor_key=derive_key(secret_key, "page-cursor"),
        ),
    )


def hub_client(services: Services, secret_key: str) -> httpx.AsyncClient:
    return asgi_client(hub_app(services, secret_key))


def asgi_client(app: falcon.asgi.App[Any, Any]) -> httpx.AsyncClient:
    """A client for ``app`` in-process, from a fixed documentation address."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=("192.0.2.10", 50000)),
        base_url="https://vectis.test",
    )


def csrf_token(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1)


async def sign_in(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    form = await client.get("/login")
    return await client.post(
        "/login",
        data={
            "email": email,
            "password": password,
            "csrf_token": csrf_token(form.text),
            "next": "/customers",
        },
    )
