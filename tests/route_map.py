"""What each route of the app reads, found rather than listed: the routes from Falcon's router,
query names, path ids and forms from a crawl of the signed-in hub, bodies from the OpenAPI
document. The route fuzz (``test_route_fuzz.py``) sends hostile values to what this finds."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urljoin, urlsplit
from uuid import uuid4

import falcon.asgi
import httpx
from attrs import define, field, frozen

from vectis.entrypoints.http.api.resources import OPENAPI
from vectis.entrypoints.http.security import CSRF_FIELD

API_PREFIX = "/api/v1"
FIELD = re.compile(r"{(\w+)(?::(\w+)[^}]*)?}")
"""A path parameter in a route template: its name and converter."""


@frozen
class Route:
    template: str
    method: str
    resource: Any

    @property
    def names(self) -> list[str]:
        return [name for name, _ in FIELD.findall(self.template)]

    def url(self, values: dict[str, str]) -> str:
        return FIELD.sub(lambda match: values[match.group(1)], self.template)


@frozen
class Form:
    route: Route
    action: str
    source: str
    multipart: bool
    fields: tuple[tuple[str, str], ...]
    files: tuple[str, ...] = ()


@define
class Harvest:
    """What the crawl learnt: sample path values, query names per route, forms."""

    samples: dict[str, str] = field(factory=dict)
    params: dict[Route, dict[str, str]] = field(factory=dict)
    urls: dict[Route, str] = field(factory=dict)
    query: dict[Route, set[str]] = field(factory=lambda: defaultdict(set))
    forms: dict[tuple[Any, ...], Form] = field(factory=dict)

    def url_of(self, route: Route, **changed: str) -> str:
        """The route filled with the ids the crawl saw for it (or for the same names); an id
        no page showed is a fresh UUID where the route takes one."""
        values = {**self.samples, **self.params.get(route, {}), **changed}
        for name, converter in FIELD.findall(route.template):
            if name not in values and converter == "uuid":
                values[name] = str(uuid4())
        missing = [name for name, _ in FIELD.findall(route.template) if name not in values]
        assert not missing, f"no sample value for {missing} in {route.template}: seed one"
        return route.url(values)


def routes_of(app: falcon.asgi.App[Any, Any]) -> Iterator[Route]:
    """Every (template, method) a resource implements, walked from Falcon's compiled router."""
    nodes = list(app._router._roots)
    while nodes:
        node = nodes.pop()
        nodes.extend(node.children)
        if node.resource is None or not node.method_map or node.uri_template is None:
            continue
        for method, responder in node.method_map.items():
            if getattr(responder, "__self__", None) is node.resource and method != "OPTIONS":
                yield Route(node.uri_template, method, node.resource)


def is_hub(route: Route) -> bool:
    return getattr(route.resource, "auth", "public") == "session" or route.template == "/login"


# The hub ---------------------------------------------------------------------------------


async def crawl(
    client: httpx.AsyncClient,
    app: falcon.asgi.App[Any, Any],
    routes: list[Route],
    submit: Callable[[Form], Awaitable[httpx.Response]],
) -> Harvest:
    """Follow links, GET forms and redirects through the signed-in hub from ``/``; ``submit``
    each POST form once with its rendered values, so pages reached only after an action (a
    write-back's) are found too. Sign-out is never submitted."""
    by_method = {(route.template, route.method): route for route in routes}
    harvest = Harvest()
    seen: set[tuple[str, frozenset[str]]] = set()
    queue = ["/", "/login"]
    submitted: set[tuple[Any, ...]] = set()
    while queue:
        url = queue.pop(0)
        route, params = _match(app, by_method, url, "GET")
        if route is None:
            continue
        query = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
        signature = (route.template, frozenset(query))
        if signature in seen or len(seen) > 120:
            continue
        seen.add(signature)
        harvest.samples.update(params)
        harvest.params.setdefault(route, params)
        harvest.urls.setdefault(route, urlsplit(url).path)
        harvest.query[route].update(query)
        response = await client.get(url)
        location = response.headers.get("location")
        if location:
            queue.append(location)
        if "text/html" not in response.headers.get("content-type", ""):
            continue
        page = Page.parse(response.text)
        queue.extend(urljoin(url, link) for link in page.links if _local(link))
        for form in page.forms:
            action = urljoin(url, form["action"] or url)
            if not _local(action):
                continue
            if form["method"] == "get":
                queue.append(f"{urlsplit(action).path}?{urlencode(form['fields'])}")
                continue
            target, values = _match(app, by_method, action, "POST")
            if target is None:
                continue
            harvest.samples.update(values)
            names = tuple(sorted({name for name, _ in form["fields"]}))
            button = dict(form["fields"]).get("action", "")
            key = (target.template, names, button, form["multipart"])
            if key in harvest.forms:
                continue
            harvest.forms[key] = Form(
                route=target,
                action=urlsplit(action).path,
                source=url,
                multipart=form["multipart"],
                fields=tuple(form["fields"]),
                files=tuple(form["files"]),
            )
            harvest.params.setdefault(target, values)
            harvest.urls.setdefault(target, urlsplit(action).path)
            if key not in submitted and target.template != "/logout":
                submitted.add(key)
                done = await submit(harvest.forms[key])
                if done.headers.get("location"):
                    queue.append(done.headers["location"])
    return harvest


class Page(HTMLParser):
    """The links (``a``, ``link``, ``img``) and forms of one page, each form's fields with the
    values a browser would send."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.forms: list[dict[str, Any]] = []
        self._select: str | None = None

    @classmethod
    def parse(cls, html: str) -> Page:
        page = cls()
        page.feed(html)
        return page

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {name: value or "" for name, value in attrs}
        form = self.forms[-1] if self.forms else None
        if tag == "option" and self._select and form is not None:
            form["fields"].append((self._select, attr.get("value", "")))
            self._select = None
        elif tag in ("a", "link") and attr.get("href"):
            self.links.append(attr["href"])
        elif tag == "img" and attr.get("src"):
            self.links.append(attr["src"])
        elif tag == "form":
            self.forms.append(
                {
                    "method": attr.get("method", "get").lower(),
                    "action": attr.get("action", ""),
                    "multipart": attr.get("enctype") == "multipart/form-data",
                    "fields": [],
                    "files": [],
                }
            )
        elif form is None or "name" not in attr:
            return
        elif tag == "input" and attr.get("type") == "file":
            form["files"].append(attr["name"])
        elif tag == "input" and attr.get("type") in ("checkbox", "radio"):
            if "checked" in attr or attr.get("type") == "checkbox":
                form["fields"].append((attr["name"], attr.get("value") or "on"))
        elif tag in ("input", "button"):
            form["fields"].append((attr["name"], attr.get("value", "")))
        elif tag == "textarea":
            form["fields"].append((attr["name"], ""))
        elif tag == "select":
            self._select = attr["name"]

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def _match(
    app: falcon.asgi.App[Any, Any], by_method: dict[tuple[str, str], Route], url: str, method: str
) -> tuple[Route | None, dict[str, str]]:
    path = urlsplit(url).path.rstrip("/") or "/"
    found = app._router.find(path)
    if found is None:
        return None, {}
    _, _, params, template = found
    return by_method.get((str(template), method)), {k: str(v) for k, v in params.items()}


def _local(url: str) -> bool:
    parts = urlsplit(url)
    return not parts.scheme and not parts.netloc and not url.startswith(("#", "/static"))


def encode_form(
    form: Form, pairs: list[tuple[str, str]], raw: dict[str, bytes] | None = None
) -> tuple[bytes, str]:
    """The body and content type a browser would post for ``pairs``; ``raw`` values are sent
    as the bytes given (a lone surrogate as its invalid UTF-8, say)."""
    encoded = {name: value.encode() for name, value in pairs}
    encoded.update(raw or {})
    order = [name for name, _ in pairs] + [name for name in raw or {} if name not in dict(pairs)]
    if form.multipart:
        boundary = "fuzzboundary"
        chunks = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + encoded[name]
            + b"\r\n"
            for name in order
        ]
        chunks += [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="logo.png"\r\nContent-Type: image/png\r\n\r\n'.encode()
            + encoded.get(name, b"\x89PNG\r\n\x1a\nnot really")
            + b"\r\n"
            for name in form.files
        ]
        body = b"".join(chunks) + f"--{boundary}--\r\n".encode()
        content_type = f"multipart/form-data; boundary={boundary}"
    else:
        body = "&".join(f"{quote(name)}={quote_bytes(encoded[name])}" for name in order).encode()
        content_type = "application/x-www-form-urlencoded"
    return body, content_type


def csrf_of(html: str) -> str:
    """The CSRF token a page's first form carries ('' when none does)."""
    tokens = [
        value
        for form in Page.parse(html).forms
        for name, value in form["fields"]
        if name == CSRF_FIELD
    ]
    return tokens[0] if tokens else ""


def quote_bytes(value: bytes) -> str:
    return quote(value, safe="")


# The API ---------------------------------------------------------------------------------


def strip_converters(template: str) -> str:
    """A route template as the OpenAPI document writes it (``{id}``, not ``{id:uuid}``)."""
    return str(FIELD.sub(lambda match: "{" + match.group(1) + "}", template))


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        schema = OPENAPI["components"]["schemas"][name]
    return schema


def bodies(schema: dict[str, Any], samples: dict[str, str], name: str = "") -> list[Any]:
    """A valid-looking body per ``oneOf`` variant, every property present."""
    schema = _resolve(schema)
    if "oneOf" in schema:
        return [body for option in schema["oneOf"] for body in bodies(option, samples, name)]
    if "const" in schema:
        return [schema["const"]]
    if "enum" in schema:
        return [schema["enum"][0]]
    kinds = schema.get("type", "string")
    kind = next(k for k in (kinds if isinstance(kinds, list) else [kinds]) if k != "null")
    if kind == "object":
        shaped: list[dict[str, Any]] = [{}]
        for prop, sub in schema.get("properties", {}).items():
            options = bodies(sub, samples, prop)
            shaped = [{**body, prop: option} for body in shaped for option in options]
        return shaped
    if kind == "boolean":
        return [True]
    if kind == "integer":
        return [1]
    return [samples.get(name, "fuzz")]


def leaves(body: Any, where: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield where
    if isinstance(body, dict):
        for key, value in body.items():
            yield from leaves(value, (*where, key))


def replaced(body: Any, where: tuple[str, ...], value: Any) -> Any:
    if not where:
        return value
    return {**body, where[0]: replaced(body[where[0]], where[1:], value)}
