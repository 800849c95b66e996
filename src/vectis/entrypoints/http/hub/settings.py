"""The MSP's own settings in the hub: brand colour and logo, time zone, sign-in locks."""

from __future__ import annotations

from typing import Any
from uuid import UUID
from zoneinfo import available_timezones

import falcon
import falcon.asgi

from vectis.application.services import Services
from vectis.application.tenancy import KEEP
from vectis.domain.errors import InvalidValue
from vectis.domain.tenancy import MAX_LOGO_BYTES, Permission
from vectis.entrypoints.http.hub.forms import form_fields
from vectis.entrypoints.http.hub.rendering import page

ZONES = sorted(
    zone
    for zone in available_timezones()
    if "/" in zone and not zone.startswith(("Etc/", "SystemV/"))
)


class BrandingSettings:
    auth = "session"

    def __init__(self, services: Services) -> None:
        self._services = services

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        principal = req.context.principal
        req.context.tenant = await self._services.tenancy.get_tenant(principal)
        can_manage = principal.can(Permission.MANAGE_TENANT)
        page(
            req,
            resp,
            "settings.html",
            can_manage=can_manage,
            sign_in_locks=(
                await self._services.sign_in_locks.list_locks(principal) if can_manage else []
            ),
            throttle=self._services.sign_in_locks.rules,
            saved=req.get_param("saved"),
            max_logo_kb=MAX_LOGO_BYTES // 1024,
            zones=ZONES,
            zone=principal.time_zone,
        )

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        """A multipart form: the CSRF token first (checked by the middleware), then
        ``accent``, ``logo`` (a file, optional) and ``remove_logo``."""
        fields: dict[str, str] = {}
        logo: bytes | object | None = KEEP
        parts: Any = getattr(req.context, "parts", None)
        if parts is None:
            raise InvalidValue("send the branding form as multipart/form-data")
        async for part in parts:
            if part.name == "logo" and part.filename:
                # Falcon caps a part's buffer; the size and type rules are the domain's.
                data = await part.get_data()
                logo = data if data else KEEP
            elif part.name in ("accent", "remove_logo"):
                fields[part.name] = (await part.get_text()) or ""
        if fields.get("remove_logo") == "on":
            logo = None
        await self._services.tenancy.set_branding(
            req.context.principal, accent=fields.get("accent", "").strip() or None, logo=logo
        )
        raise falcon.HTTPSeeOther("/settings?saved=1")


class TimeZoneSetting:
    """An operator's own time zone, which every time in the hub is shown in."""

    auth = "session"

    def __init__(self, services: Services) -> None:
        self._services = services

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        form = await form_fields(req)
        await self._services.tenancy.set_time_zone(req.context.principal, form.get("time_zone", ""))
        raise falcon.HTTPSeeOther("/settings?saved=time-zone")


class SignInLockClearing:
    """An owner lifts an operator's sign-in cool-down (the form on the Settings page)."""

    auth = "session"

    def __init__(self, services: Services) -> None:
        self._services = services

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        form = await form_fields(req)
        try:
            operator_id = UUID(form.get("operator_id", ""))
        except ValueError:
            raise InvalidValue("choose an operator whose sign-in lock to clear") from None
        await self._services.sign_in_locks.clear(req.context.principal, operator_id)
        raise falcon.HTTPSeeOther("/settings?saved=sign-in-lock")


class Logo:
    """The tenant's logo, as stored (PNG, JPEG or WebP only, checked on upload)."""

    auth = "session"

    def __init__(self, services: Services) -> None:
        self._services = services

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        image, media_type = await self._services.tenancy.logo(req.context.principal)
        resp.content_type = media_type
        resp.data = image
        resp.cache_control = ["private", "max-age=300"]


class Theme:
    """The tenant's accent colour as a style sheet (the CSP allows no inline styles)."""

    auth = "session"

    def __init__(self, services: Services) -> None:
        self._services = services

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        tenant = await self._services.tenancy.get_tenant(req.context.principal)
        resp.content_type = "text/css"
        # accent_color is validated as #rrggbb before it is stored.
        resp.text = f":root {{ --accent: {tenant.accent_color} }}\n" if tenant.accent_color else ""
        resp.cache_control = ["private", "max-age=300"]
