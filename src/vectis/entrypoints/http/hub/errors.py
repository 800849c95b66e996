"""The hub's one error page, branded for whoever asked: 400, 403, 404 and 500 alike, for an
unknown address too (where no resource ran, so nobody has looked at the session yet)."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

import falcon.asgi

from vectis.application.services import Services
from vectis.domain.errors import VectisError
from vectis.entrypoints.http.hub.forms import local_path
from vectis.entrypoints.http.hub.rendering import error_page
from vectis.entrypoints.http.security import SESSION_COOKIE, CsrfTokens

logger = logging.getLogger(__name__)


class BrandedErrorPages:
    """Renders the error page with the operator's navigation and the MSP's branding when the
    request carries a live session; the plain page otherwise."""

    def __init__(self, services: Services, csrf: CsrfTokens) -> None:
        self._services = services
        self._csrf = csrf

    async def __call__(
        self, req: falcon.asgi.Request, *, status: int, title: str, detail: str
    ) -> str:
        await self._know_who(req)
        return error_page(req, status=status, title=title, detail=detail, back=_came_from(req))

    async def _know_who(self, req: falcon.asgi.Request) -> None:
        context: Any = req.context
        try:
            if getattr(context, "principal", None) is None:
                secret = req.get_cookie_values(SESSION_COOKIE)
                if not secret:
                    return
                principal = await self._services.identity.authenticate_session(secret[0])
                context.principal = principal
                context.csrf_token = self._csrf.for_binding(f"session:{principal.session_id}")
            if getattr(context, "tenant", None) is None:
                context.tenant = await self._services.tenancy.get_tenant(context.principal)
        except VectisError as error:
            # The page about the first error must not fail on a second: it shows unbranded.
            logger.info("error page without branding: %s", error)


def _came_from(req: falcon.asgi.Request) -> str | None:
    """The page of this site the tech came from (its ``Referer``), when it is another one."""
    referer = urlsplit(req.get_header("Referer") or "")
    if referer.netloc != req.netloc or not referer.path or referer.path == req.path:
        return None
    target = referer.path + (f"?{referer.query}" if referer.query else "")
    back = local_path(target, default="")
    return back or None
