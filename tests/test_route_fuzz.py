"""Every hub and API route, sent hostile input: no answer is a 500 and nothing logs an error.

The routes come from the app's own router (every node of ``app._router`` with a responder the
resource implements), so a new route is fuzzed without editing this file. What each route reads
is found, not listed:

- hub pages: a signed-in crawl from ``/`` follows every link, GET form and redirect, and submits
  each POST form once; a GET route's query parameters are the names in its GET forms and in the
  links and redirects that lead to it, a POST route's fields those of its forms (hidden fields,
  selects and buttons keep their rendered value while one field at a time is made hostile);
- API routes: the parameters and request body properties (every ``oneOf`` variant) of the
  OpenAPI document; an API route missing from the document fails the test;
- path parameters: each route is called with the real ids the crawl saw, then with each
  hostile path segment in their place;
- the webhook receiver (which reads raw bytes and headers): hostile bodies and header values.

Each field gets every cheap hostile value and one field in four the 1 MB one, and each body
route the whole-body values (wrong shapes, deep nesting, 2 MB, wrong content types), so the run
stays around half a minute on one database. A 500 or an ERROR log fails it, listing each
(method, route, where, field, value) that caused one.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import falcon.asgi
import httpx
import pytest
from attrs import define, field, frozen

from tests.conftest import TEST_SECRET_KEY
from tests.factories import PASSWORD, seed_synced_customer
from tests.http_client import asgi_client, hub_app, sign_in
from tests.route_map import (
    API_PREFIX,
    Form,
    Harvest,
    Route,
    bodies,
    crawl,
    csrf_of,
    encode_form,
    is_hub,
    leaves,
    quote_bytes,
    replaced,
    routes_of,
    strip_converters,
)
from vectis.application.services import Services
from vectis.entrypoints.http.api.resources import OPENAPI
from vectis.entrypoints.http.security import CSRF_FIELD
from vectis_sandbox.server import Sandbox, SandboxHost
from vectis_sandbox.world import build_world

MEGABYTE = 1_048_576


@frozen
class Hostile:
    label: str
    text: str
    costly: bool = False


HOSTILE_TEXT = (
    Hostile("nul", "a\x00b"),
    Hostile("surrogate", "a\ud800b"),
    Hostile("negative", "-1"),
    Hostile("huge number", "99999999999999999999"),
    Hostile("3000 chars", "ü" * 3000),
    Hostile("control chars", "/\t/evil.example/\r\n"),
    Hostile("scheme", "javascript:alert(1)"),
    Hostile("1 MB", "x" * MEGABYTE, costly=True),
)
"""For query parameters, form fields and path segments (all text on the wire). In a URL the
1 MB value is cut to 60,000 characters, the most an HTTP client sends in one (servers refuse
longer request lines before the app sees them)."""
URL_MAX = 60_000

HOSTILE_JSON: tuple[tuple[str, Any], ...] = (
    ("nul", "a\x00b"),
    ("surrogate", "a\ud800b"),
    ("3000 chars", "ü" * 3000),
    ("negative", -1),
    ("huge number", 10**30),
    ("float", 1.5e308),
    ("null", None),
    ("bool", True),
    ("number", 42),
    ("string", "42"),
    ("array", ["a", 1]),
    ("object", {"a": 1}),
    ("deep", json.loads("[" * 40 + "]" * 40)),
)
HOSTILE_BODIES: tuple[tuple[str, bytes, str], ...] = (
    ("array", b"[]", "application/json"),
    ("string", b'"body"', "application/json"),
    ("number", b"42", "application/json"),
    ("null", b"null", "application/json"),
    ("invalid", b'{"a": ', "application/json"),
    ("not utf-8", b'{"a": "\xff"}', "application/json"),
    ("nan", b'{"a": NaN}', "application/json"),
    ("deep 100", b"[" * 100 + b"]" * 100, "application/json"),
    ("deep 100000", b"[" * 100_000 + b"]" * 100_000, "application/json"),
    ("huge int", b'{"a": ' + b"9" * 5000 + b"}", "application/json"),
    ("nul key", b'{"\\u0000": 1}', "application/json"),
    ("2 MB", b'{"a": "' + b"x" * (2 * MEGABYTE) + b'"}', "application/json"),
    ("text/plain", b"hello", "text/plain"),
    ("form", b"a=%00", "application/x-www-form-urlencoded"),
    ("multipart garbage", b"--x\r\nnope", "multipart/form-data; boundary=x"),
)
HOSTILE_HEADERS: tuple[tuple[str, bytes], ...] = (
    ("nul", b"a\x00b"),
    ("latin-1", b"\xed\xa0\x80"),
    ("64 KB", b"x" * 65_536),
)


@define
class Fuzzer:
    app: falcon.asgi.App[Any, Any]
    client: httpx.AsyncClient
    email: str
    token: str
    failures: dict[tuple[str, ...], int] = field(factory=dict)
    tokens: dict[str, str] = field(factory=dict)
    sent: int = 0

    async def send(
        self,
        key: tuple[str, ...],
        method: str,
        url: str,
        *,
        body: bytes | None = None,
        content_type: str | None = None,
        headers: dict[str, Any] | None = None,
        api: bool = False,
    ) -> httpx.Response:
        """One request; a 500 is recorded under ``key`` (route, where, field, value)."""
        all_headers: dict[str, Any] = dict(headers or {})
        if content_type:
            all_headers["Content-Type"] = content_type
        if api and "Authorization" not in all_headers:
            all_headers["Authorization"] = f"Bearer {self.token}"
        self.sent += 1
        response = await self.client.request(method, url, content=body, headers=all_headers)
        if response.status_code == 500:  # 502 and 503 name a vendor's or the database's state
            self.failures[key] = response.status_code
        signed_out = response.headers.get("location", "").startswith("/login")
        if signed_out and "Cookie" not in all_headers:
            await sign_in(self.client, self.email, PASSWORD)  # a fuzzed sign-out: sign in again
            self.tokens.clear()
        return response


@pytest.fixture
def sandbox(sandbox_servers: SandboxHost) -> Iterator[Sandbox]:
    # Enough tickets per company that the tickets tab has a second page (a cursor to fuzz).
    world = build_world(tickets_per_company=55)
    with sandbox_servers.seeded(world, vendors=("halopsa", "ninjaone")) as sandbox:
        yield sandbox


async def test_no_route_answers_hostile_input_with_a_server_error(
    services: Services, sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    seeded = await seed_synced_customer(services, sandbox)
    owner = seeded.world.owner
    await services.timeline.add_note(seeded.world.principal, seeded.customer_id, "Door code")
    issued = await services.identity.issue_token(owner.email, name="fuzz")
    app = hub_app(services, TEST_SECRET_KEY)
    routes = list(routes_of(app))
    caplog.set_level(logging.ERROR)
    async with asgi_client(app) as client:
        fuzzer = Fuzzer(app=app, client=client, email=owner.email, token=issued.secret)
        await sign_in(client, owner.email, PASSWORD)
        harvest = await crawl(
            client, app, routes, lambda form: _submit(fuzzer, form, list(form.fields))
        )
        await fuzz_api(fuzzer, harvest, routes)
        await fuzz_paths(fuzzer, harvest, routes)
        await fuzz_webhooks(fuzzer, harvest, routes)
        await fuzz_hub(fuzzer, harvest, routes)  # after the API: its sign-in fuzz churns sessions
        await fuzz_without_credentials(fuzzer, harvest, routes)

    errors = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
    report = "\n".join(" | ".join(key) + f" → {status}" for key, status in fuzzer.failures.items())
    assert not fuzzer.failures, f"{len(fuzzer.failures)} of {fuzzer.sent} requests:\n{report}"
    assert not errors, errors


async def _submit(
    fuzzer: Fuzzer,
    form: Form,
    pairs: list[tuple[str, str]],
    *,
    key: tuple[str, ...] = (),
    raw: dict[str, bytes] | None = None,
) -> httpx.Response:
    """Post a form with the CSRF token its page carries now; on a 403 (the session or the
    sign-in cookie changed) fetch a fresh token and post once more."""
    key = key or (form.route.method, form.route.template, "form")
    for attempt in range(2):
        if attempt or form.source not in fuzzer.tokens:
            fuzzer.tokens[form.source] = csrf_of((await fuzzer.client.get(form.source)).text)
        token = fuzzer.tokens[form.source]
        sent = [(name, token if name == CSRF_FIELD else value) for name, value in pairs]
        body, content_type = encode_form(form, sent, raw)
        response = await fuzzer.send(key, "POST", form.action, body=body, content_type=content_type)
        if response.status_code != 403:
            break
    return response


def _wire(text: str) -> bytes:
    """Text as it can reach the server: a lone surrogate as its (invalid) UTF-8 bytes."""
    return text.encode("utf-8", "surrogatepass")


def _in_url(value: Hostile) -> str:
    return quote_bytes(_wire(value.text[:URL_MAX]))


def _samples(hostile: tuple[Hostile, ...], index: int) -> list[Hostile]:
    """Every cheap value, and the costly ones for one field in four."""
    return [value for value in hostile if not value.costly or index % 4 == 0]


# Hub ----------------------------------------------------------------------------------------


async def fuzz_hub(fuzzer: Fuzzer, harvest: Harvest, routes: list[Route]) -> None:
    """Each query name a hub page was reached with, each field of each form, each whole body."""
    index = 0
    for route in routes:
        if route.method != "GET" or not is_hub(route) or route not in harvest.urls:
            continue
        path = harvest.urls[route]
        for name in sorted(harvest.query[route]):
            index += 1
            for value in _samples(HOSTILE_TEXT, index):
                query = f"{quote(name)}={_in_url(value)}"
                await fuzzer.send(
                    (route.method, route.template, "query", name, value.label),
                    "GET",
                    f"{path}?{query}",
                )
            await fuzzer.send(
                (route.method, route.template, "query", name, "repeated"),
                "GET",
                f"{path}?{quote(name)}=a&{quote(name)}=b",
            )
    session_forms_last = sorted(
        harvest.forms.values(), key=lambda form: form.route.template in ("/login", "/logout")
    )
    for form in session_forms_last:
        base = list(form.fields)
        for name in sorted({name for name, _ in base if name != CSRF_FIELD} | set(form.files)):
            index += 1
            for value in _samples(HOSTILE_TEXT, index):
                others = [(n, v) for n, v in base if n != name]
                key = (form.route.method, form.route.template, "form", name, value.label)
                await _submit(fuzzer, form, others, key=key, raw={name: _wire(value.text)})
            key = (form.route.method, form.route.template, "form", name, "repeated")
            await _submit(fuzzer, form, [*base, (name, "a"), (name, "b")], key=key)
        for label, body, content_type in HOSTILE_BODIES:
            await fuzzer.send(
                (form.route.method, form.route.template, "body", label),
                "POST",
                form.action,
                body=body,
                content_type=content_type,
            )


# API ----------------------------------------------------------------------------------------


async def fuzz_api(fuzzer: Fuzzer, harvest: Harvest, routes: list[Route]) -> None:
    """Each query parameter and each body property (nested ones too) the document declares."""
    paths = OPENAPI["paths"]
    index = 0
    for route in routes:
        if not route.template.startswith(API_PREFIX):
            continue
        spec = strip_converters(route.template[len(API_PREFIX) :])
        operation = paths.get(spec, {}).get(route.method.lower())
        assert operation is not None, f"{route.method} {route.template} is not in the OpenAPI doc"
        url = harvest.url_of(route)
        for parameter in operation.get("parameters", []):
            if parameter["in"] != "query":
                continue
            index += 1
            name = parameter["name"]
            for value in _samples(HOSTILE_TEXT, index):
                query = f"{quote(name)}={_in_url(value)}"
                key = (route.method, route.template, "query", name, value.label)
                await fuzzer.send(key, route.method, f"{url}?{query}", api=True)
        content = operation.get("requestBody", {}).get("content", {})
        if "application/json" not in content:
            continue
        schema = content["application/json"]["schema"]
        fuzzed: set[tuple[str, ...]] = set()
        for base in bodies(schema, harvest.samples):
            for where in leaves(base):
                if where in fuzzed:  # a field every variant shares is fuzzed once
                    continue
                fuzzed.add(where)
                for label, value in HOSTILE_JSON:
                    body = replaced(base, where, value)
                    key = (route.method, route.template, "json", ".".join(where), label)
                    await fuzzer.send(
                        key,
                        route.method,
                        url,
                        body=_json(body),
                        content_type="application/json",
                        api=True,
                    )
        for label, raw, content_type in HOSTILE_BODIES:
            await fuzzer.send(
                (route.method, route.template, "body", label),
                route.method,
                url,
                body=raw,
                content_type=content_type,
                api=True,
            )


def _json(value: Any) -> bytes:
    return json.dumps(value).encode("utf-8", "surrogatepass")


# Paths, webhooks, no credentials -------------------------------------------------------------


async def fuzz_paths(fuzzer: Fuzzer, harvest: Harvest, routes: list[Route]) -> None:
    """Each path parameter in turn replaced by a hostile segment (and ids that exist nowhere)."""
    segments = [*HOSTILE_TEXT, Hostile("unknown uuid", "00000000-0000-4000-8000-000000000000")]
    index = 0
    for route in routes:
        for name in route.names:
            index += 1
            for value in _samples(tuple(segments), index):
                key = (route.method, route.template, "path", name, value.label)
                body = b"{}" if route.method in ("POST", "PUT") else None
                await fuzzer.send(
                    key,
                    route.method,
                    harvest.url_of(route, **{name: _in_url(value)}),
                    body=body,
                    content_type="application/json" if body else None,
                    api=route.template.startswith(API_PREFIX),
                )


async def fuzz_webhooks(fuzzer: Fuzzer, harvest: Harvest, routes: list[Route]) -> None:
    """The receiver reads raw bytes and its vendors' headers: hostile ones of each."""
    receivers = [route for route in routes if route.template.startswith("/webhooks/")]
    for route in receivers:
        url = harvest.url_of(route)
        for label, body, content_type in HOSTILE_BODIES:
            await fuzzer.send(
                (route.method, route.template, "body", label),
                route.method,
                url,
                body=body,
                content_type=content_type,
            )
        for label, value in HOSTILE_JSON:
            key = (route.method, route.template, "json", "field", label)
            await fuzzer.send(
                key,
                route.method,
                url,
                body=_json({"activityId": value}),
                content_type="application/json",
            )
        for label, raw in HOSTILE_HEADERS:
            for header in ("X-Vectis-Webhook-Secret", "Authorization", "X-Hook-Signature"):
                key = (route.method, route.template, "header", header, label)
                await fuzzer.send(
                    key,
                    route.method,
                    url,
                    body=b"{}",
                    content_type="application/json",
                    headers={header: raw},
                )


async def fuzz_without_credentials(fuzzer: Fuzzer, harvest: Harvest, routes: list[Route]) -> None:
    """No session and no token: hostile headers in their place, and hostile queries."""
    async with asgi_client(fuzzer.app) as anonymous:
        for route in routes:
            url = harvest.url_of(route)
            attempts = [
                (("header", header, label), url, {header.encode(): raw})
                for label, raw in HOSTILE_HEADERS
                for header in ("Authorization", "Cookie")
            ]
            attempts.append((("query", "q, after", "nul"), f"{url}?q=%00&after=%00", {b"X": b"1"}))
            for where, target, headers in attempts:
                response = await anonymous.request(route.method, target, headers=headers)
                fuzzer.sent += 1
                if response.status_code == 500:
                    key = (route.method, route.template, "anonymous", *where)
                    fuzzer.failures[key] = response.status_code
