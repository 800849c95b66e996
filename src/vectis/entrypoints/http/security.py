"""Who is calling: hub sessions (cookie + CSRF token) and API bearer tokens; security headers.

Each resource declares ``auth``: ``"public"``, ``"session"`` (the hub) or ``"token"`` (the API).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any
from urllib.parse import quote

import falcon
import falcon.asgi

from vectis.application.errors import AuthenticationFailed, InvalidToken, PermissionDenied
from vectis.application.identity import IdentityService

SESSION_COOKIE = "vectis_session"
LOGIN_COOKIE = "vectis_login"
CSRF_FIELD = "csrf_token"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


class CsrfTokens:
    """Per-session CSRF tokens: HMAC of the session id, so nothing extra is stored."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def for_binding(self, binding: str) -> str:
        return hmac.new(self._key, binding.encode(), hashlib.sha256).hexdigest()

    def check(self, binding: str, presented: str | None) -> None:
        if not presented or not hmac.compare_digest(self.for_binding(binding), presented):
            raise PermissionDenied(
                "The form's security token is missing or out of date; reload the page and try again"
            )


class SignInRequired(Exception):
    """A hub page needs a session; the handler redirects to the sign-in page."""


class AuthMiddleware:
    def __init__(self, identity: IdentityService, csrf: CsrfTokens) -> None:
        self._identity = identity
        self._csrf = csrf

    async def process_resource(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, resource: Any, params: Any
    ) -> None:
        mode = getattr(resource, "auth", "public")
        req.context.principal = None
        if mode == "token":
            req.context.principal = await self._identity.authenticate_token(_bearer(req))
        elif mode == "session":
            secret = req.get_cookie_values(SESSION_COOKIE)
            if not secret:
                raise SignInRequired
            try:
                req.context.principal = await self._identity.authenticate_session(secret[0])
            except AuthenticationFailed:
                raise SignInRequired from None
            req.context.session_secret = secret[0]
            req.context.csrf_token = self._csrf.for_binding(
                f"session:{req.context.principal.session_id}"
            )
            if req.method in UNSAFE:
                self._csrf.check(
                    f"session:{req.context.principal.session_id}", await form_field(req, CSRF_FIELD)
                )


async def form_field(req: falcon.asgi.Request, name: str) -> str | None:
    """One field of a posted form; ``None`` when the body is absent or not a form.

    A multipart form (a file upload) must carry the field first: it is read off the stream
    here, and the rest of the parts are left in ``req.context.parts`` for the resource."""
    if (req.content_type or "").startswith("multipart/form-data"):
        return await _first_part(req, name)
    try:
        form = await req.get_media(default_when_empty={})
    except (falcon.MediaMalformedError, falcon.HTTPUnsupportedMediaType):
        return None
    value = form.get(name) if isinstance(form, dict) else None
    return value if isinstance(value, str) else None


async def _first_part(req: falcon.asgi.Request, name: str) -> str | None:
    try:
        form = await req.get_media()
        parts = form.__aiter__()
        first = await parts.__anext__()
        if first.name != name:
            return None
        value = await first.get_text()
    except (StopAsyncIteration, falcon.MediaMalformedError, falcon.HTTPError):
        return None
    req.context.parts = parts
    return value if isinstance(value, str) else None


def login_csrf(req: falcon.asgi.Request, resp: falcon.asgi.Response, csrf: CsrfTokens) -> str:
    """A CSRF token for the sign-in form, bound to a short-lived pre-session cookie."""
    values = req.get_cookie_values(LOGIN_COOKIE)
    nonce = values[0] if values else secrets.token_urlsafe(24)
    if not values:
        resp.set_cookie(
            LOGIN_COOKIE,
            nonce,
            max_age=3600,
            path="/",
            secure=True,
            http_only=True,
            same_site="Lax",
        )
    return csrf.for_binding(f"login:{nonce}")


def check_login_csrf(req: falcon.asgi.Request, csrf: CsrfTokens, presented: str | None) -> None:
    values = req.get_cookie_values(LOGIN_COOKIE)
    if not values:
        raise PermissionDenied(
            "Your browser did not keep the sign-in form's cookie; reload and try again"
        )
    csrf.check(f"login:{values[0]}", presented)


class SecurityHeaders:
    async def process_response(
        self,
        req: falcon.asgi.Request,
        resp: falcon.asgi.Response,
        resource: Any,
        req_succeeded: bool,
    ) -> None:
        resp.set_header("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        resp.set_header("X-Content-Type-Options", "nosniff")
        resp.set_header("Referrer-Policy", "same-origin")
        resp.set_header("X-Frame-Options", "DENY")
        if resp.content_type and resp.content_type.startswith("text/html"):
            resp.set_header("Cache-Control", "no-store")


async def redirect_to_sign_in(
    req: falcon.asgi.Request, resp: falcon.asgi.Response, error: SignInRequired, params: Any
) -> None:
    resp.unset_cookie(SESSION_COOKIE, path="/")
    target = req.relative_uri if req.method == "GET" else "/"
    resp.status = falcon.HTTP_303
    resp.location = "/login?next=" + quote(target, safe="")


def _bearer(req: falcon.asgi.Request) -> str:
    header = req.get_header("Authorization") or ""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken("Send a personal access token as 'Authorization: Bearer vectis_pat_…'")
    return token.strip()
