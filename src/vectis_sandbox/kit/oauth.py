"""OAuth2 client credentials as a vendor serves them: a token endpoint and a bearer check.

The endpoint takes the RFC 6749 form POST (``grant_type=client_credentials``, the client's id
and secret in the form or, where the vendor documents it, in HTTP Basic) and issues bearer
tokens that expire. Each vendor keeps its documented differences as hooks: a check of its own
(HaloPSA's ``?tenant=``), which scopes it grants (NinjaOne's) and its error bodies.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
import time
from collections.abc import Callable
from typing import Protocol
from urllib.parse import parse_qsl

import falcon.asgi
from attrs import define, field

from vectis_sandbox.kit.errors import VendorError

Refuse = Callable[[int, str], VendorError]
"""Builds the vendor's refusal for an HTTP status and an RFC 6749 error code."""


@define
class Tokens:
    """The bearer tokens a vendor has issued, each with the moment it expires."""

    _expiry: dict[str, float] = field(factory=dict)

    def issue(self, seconds: float) -> str:
        token = secrets.token_urlsafe(32)
        self._expiry[token] = time.monotonic() + seconds
        return token

    def valid(self, token: str) -> bool:
        expires = self._expiry.get(token)
        return expires is not None and expires >= time.monotonic()

    def clear(self) -> None:
        """Forget every token issued, as a vendor does after a restart or a key rotation."""
        self._expiry.clear()

    def __len__(self) -> int:
        return len(self._expiry)


class OAuthClient(Protocol):
    """The part of a vendor's state the token endpoint reads: the one API client it knows."""

    @property
    def client_id(self) -> str: ...
    @property
    def client_secret(self) -> str: ...
    @property
    def tokens(self) -> Tokens: ...
    @property
    def token_seconds(self) -> float: ...


def oauth_error(status: int, code: str, description: str | None = None) -> VendorError:
    """An RFC 6749 error body: ``{"error": code, "error_description": ...}``."""
    body = {"error": code}
    if description is not None:
        body["error_description"] = description
    return VendorError(status, body)


class TokenEndpoint:
    """``POST`` of the client credentials grant: a bearer token, or the vendor's refusal.

    Refusals, in order: a grant other than ``client_credentials`` (400
    ``unsupported_grant_type``), the vendor's own ``check``, unknown credentials (401
    ``invalid_client``), then whatever ``scope`` raises for the scope asked for.
    """

    def __init__(
        self,
        client: OAuthClient,
        *,
        refuse: Refuse,
        basic: bool,
        scope: Callable[[str | None], str],
        check: Callable[[falcon.asgi.Request], None] = lambda req: None,
    ) -> None:
        self._client, self._refuse, self._basic = client, refuse, basic
        self._scope, self._check = scope, check

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        client = self._client
        form = dict(parse_qsl((await req.stream.read()).decode()))
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        scheme, _, encoded = (req.get_header("Authorization") or "").partition(" ")
        if self._basic and scheme.lower() == "basic":
            client_id, secret = _basic(encoded)
        if form.get("grant_type") != "client_credentials":
            raise self._refuse(400, "unsupported_grant_type")
        self._check(req)
        if not (
            hmac.compare_digest(client_id.encode(), client.client_id.encode())
            and hmac.compare_digest(secret.encode(), client.client_secret.encode())
        ):
            raise self._refuse(401, "invalid_client")
        scope = self._scope(form.get("scope"))
        resp.media = {
            "access_token": client.tokens.issue(client.token_seconds),
            "token_type": "Bearer",
            "expires_in": int(client.token_seconds),
            "scope": scope,
        }


class BearerCheck:
    """Middleware: a request under ``prefix`` needs ``Authorization: Bearer`` and a live token."""

    def __init__(
        self, client: OAuthClient, *, prefix: str, refuse: Callable[[], VendorError]
    ) -> None:
        self._client, self._prefix, self._refuse = client, prefix.rstrip("/") + "/", refuse

    async def process_request(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        if not req.path.startswith(self._prefix):
            return
        scheme, _, token = (req.get_header("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not self._client.tokens.valid(token):
            raise self._refuse()


def _basic(encoded: str) -> tuple[str, str]:
    try:
        user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return "", ""  # unreadable: refused as unknown credentials
    return user, password
