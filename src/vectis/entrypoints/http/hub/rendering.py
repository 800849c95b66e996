"""Jinja2 with autoescaping: vendor data containing markup always renders inert."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import falcon
import falcon.asgi
from jinja2 import Environment, PackageLoader, select_autoescape

_environment = Environment(
    loader=PackageLoader("vectis.entrypoints.http.hub", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _when(value: datetime | None, zone: str = "UTC") -> str:
    if value is None:
        return "—"
    return value.astimezone(ZoneInfo(zone)).strftime("%d %b %Y %H:%M")


_environment.filters["when"] = _when


def render(template: str, **context: Any) -> str:
    return _environment.get_template(template).render(**context)


def page(
    req: falcon.asgi.Request, resp: falcon.asgi.Response, template: str, **context: Any
) -> None:
    """Render a hub page with what every page shows: the operator, tenant and CSRF token."""
    resp.content_type = falcon.MEDIA_HTML
    resp.text = render(
        template,
        principal=getattr(req.context, "principal", None),
        csrf_token=getattr(req.context, "csrf_token", ""),
        tenant=getattr(req.context, "tenant", None),
        **context,
    )


def error_page(req: falcon.asgi.Request, *, status: int, title: str, detail: str) -> str:
    return render(
        "error.html",
        status=status,
        title=title,
        detail=detail,
        principal=getattr(req.context, "principal", None),
        tenant=getattr(req.context, "tenant", None),
        csrf_token=getattr(req.context, "csrf_token", ""),
    )
