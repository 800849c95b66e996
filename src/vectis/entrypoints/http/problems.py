"""Errors mapped once: RFC 9457 problem details for machines, a friendly page for people."""

from __future__ import annotations

import logging
from typing import Any

import falcon
import falcon.asgi

from vectis.application.errors import (
    AuthenticationFailed,
    ConfigurationError,
    Conflict,
    InvalidToken,
    LoginThrottled,
    NotFound,
    PermissionDenied,
    ServiceUnavailable,
    WebhookRejected,
)
from vectis.domain.errors import DomainError, VectisError, VendorError

logger = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"

_STATUS: list[tuple[type[VectisError], int, str]] = [
    (LoginThrottled, 429, "Too many attempts"),
    (InvalidToken, 401, "Invalid access token"),
    (AuthenticationFailed, 401, "Not signed in"),
    (PermissionDenied, 403, "Forbidden"),
    (NotFound, 404, "Not found"),
    (Conflict, 409, "Conflict"),
    (ServiceUnavailable, 503, "Service unavailable"),
    (ConfigurationError, 500, "Server misconfigured"),
    (VendorError, 502, "Vendor error"),
    (DomainError, 400, "Invalid request"),
]


def wants_html(req: falcon.Request) -> bool:
    """The hub speaks HTML; the API, webhooks and health endpoints speak JSON."""
    return not req.path.startswith(("/api/", "/webhooks/", "/healthz", "/readyz"))


def status_of(error: VectisError) -> tuple[int, str]:
    if isinstance(error, WebhookRejected):
        return (400, "Malformed delivery") if error.malformed else (401, "Delivery rejected")
    for kind, status, title in _STATUS:
        if isinstance(error, kind):
            return status, title
    return 400, "Request failed"


def problem(resp: falcon.asgi.Response, status: int, title: str, detail: str, **extra: Any) -> None:
    resp.status = status
    resp.content_type = PROBLEM_JSON
    resp.media = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        **extra,
    }


_IN_WORDS = {
    404: "There is nothing at this address: the link may be mistyped, or what it showed is gone.",
    405: "This address does not take that kind of request.",
}
"""What a routing error means, in words, when nothing more particular was said."""


def install(app: falcon.asgi.App[Any, Any], render_error: Any) -> None:
    """Register the handlers: Vectis errors, Falcon's HTTP errors and anything unexpected."""
    app.resp_options.media_handlers[PROBLEM_JSON] = falcon.media.JSONHandler()

    async def handle_vectis(
        req: falcon.asgi.Request, resp: falcon.asgi.Response, error: VectisError, params: Any
    ) -> None:
        status, title = status_of(error)
        if isinstance(error, LoginThrottled):
            resp.set_header("Retry-After", str(max(1, int(error.retry_after.total_seconds()))))
        if isinstance(error, InvalidToken):
            resp.set_header("WWW-Authenticate", 'Bearer error="invalid_token"')
        await _respond(req, resp, status, title, str(error), render_error)

    async def handle_http(
        req: falcon.asgi.Request, resp: falcon.asgi.Response, error: falcon.HTTPError, params: Any
    ) -> None:
        for name, value in dict(error.headers or {}).items():
            resp.set_header(name, value)
        status = error.status_code
        title = error.title or "Error"
        if title[:3].isdigit():
            title = title.partition(" ")[2]  # Falcon's default title is the status line
        detail = error.description or _IN_WORDS.get(status, title)
        await _respond(req, resp, status, title, detail, render_error)

    async def handle_unexpected(
        req: falcon.asgi.Request, resp: falcon.asgi.Response, error: Exception, params: Any
    ) -> None:
        logger.exception("unhandled error on %s %s", req.method, req.path)
        await _respond(
            req,
            resp,
            500,
            "Internal error",
            "Something went wrong on our side; it has been logged.",
            render_error,
        )

    app.add_error_handler(Exception, handle_unexpected)
    app.add_error_handler(falcon.HTTPError, handle_http)
    app.add_error_handler(VectisError, handle_vectis)


async def _respond(
    req: falcon.asgi.Request,
    resp: falcon.asgi.Response,
    status: int,
    title: str,
    detail: str,
    render_error: Any,
) -> None:
    if wants_html(req):
        resp.status = status
        resp.content_type = falcon.MEDIA_HTML
        resp.text = await render_error(req, status=status, title=title, detail=detail)
    else:
        problem(resp, status, title, detail)
