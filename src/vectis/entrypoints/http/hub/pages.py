"""Hub pages: sign-in and sign-out, the customer list and the audit log."""

from __future__ import annotations

import math

import falcon
import falcon.asgi

from vectis.application.errors import AuthenticationFailed, LoginThrottled
from vectis.application.services import Services
from vectis.entrypoints.http.hub.forms import form_fields, local_path
from vectis.entrypoints.http.hub.rendering import page
from vectis.entrypoints.http.security import (
    CSRF_FIELD,
    LOGIN_COOKIE,
    SESSION_COOKIE,
    CsrfTokens,
    check_login_csrf,
    login_csrf,
)


class Home:
    auth = "session"

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        raise falcon.HTTPSeeOther("/customers")


class SignIn:
    auth = "public"

    def __init__(self, services: Services, csrf: CsrfTokens) -> None:
        self._services = services
        self._csrf = csrf

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        self._form(req, resp, next_url=local_path(req.get_param("next")))

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        form = await form_fields(req)
        check_login_csrf(req, self._csrf, form.get(CSRF_FIELD))
        email, next_url = form.get("email", ""), local_path(form.get("next"))
        try:
            signed_in = await self._services.identity.sign_in(
                email, form.get("password", ""), address=req.context.client_address
            )
        except LoginThrottled as error:
            resp.status = falcon.HTTP_429
            wait = max(1, math.ceil(error.retry_after.total_seconds()))
            resp.set_header("Retry-After", str(wait))
            self._form(req, resp, next_url=next_url, email=email, error=str(error))
            return
        except AuthenticationFailed as error:
            resp.status = falcon.HTTP_401
            self._form(req, resp, next_url=next_url, email=email, error=str(error))
            return
        resp.set_cookie(
            SESSION_COOKIE,
            signed_in.secret,
            expires=signed_in.expires_at,
            path="/",
            secure=True,
            http_only=True,
            same_site="Lax",
        )
        resp.unset_cookie(LOGIN_COOKIE, path="/")
        raise falcon.HTTPSeeOther(next_url)

    def _form(
        self,
        req: falcon.asgi.Request,
        resp: falcon.asgi.Response,
        *,
        next_url: str,
        email: str = "",
        error: str | None = None,
    ) -> None:
        page(
            req,
            resp,
            "login.html",
            login_csrf=login_csrf(req, resp, self._csrf),
            next=next_url,
            email=email,
            error=error,
        )


class SignOut:
    auth = "session"

    def __init__(self, services: Services) -> None:
        self._services = services

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        await self._services.identity.sign_out(req.context.session_secret)
        resp.unset_cookie(SESSION_COOKIE, path="/")
        raise falcon.HTTPSeeOther("/login")


class Customers:
    auth = "session"

    def __init__(self, services: Services) -> None:
        self._services = services

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        search = (req.get_param("q") or "").strip()
        principal = req.context.principal
        req.context.tenant = await self._services.tenancy.get_tenant(principal)
        customers = await self._services.tenancy.list_customers(principal, search=search or None)
        health = await self._services.hub.health(principal, [c.id for c in customers])
        page(
            req,
            resp,
            "customers.html",
            customers=customers,
            health=health,
            search=search,
            zone=principal.time_zone,
        )


class AuditLog:
    auth = "session"

    def __init__(self, services: Services) -> None:
        self._services = services

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        principal = req.context.principal
        req.context.tenant = await self._services.tenancy.get_tenant(principal)
        records = await self._services.audit.recent(principal, limit=200)
        page(req, resp, "audit.html", records=records, zone=principal.time_zone)
