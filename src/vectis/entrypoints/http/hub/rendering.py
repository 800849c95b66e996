"""Jinja2 with autoescaping: vendor data containing markup always renders inert."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode, urlsplit
from uuid import UUID
from zoneinfo import ZoneInfo

import falcon
import falcon.asgi
from jinja2 import Environment, PackageLoader, select_autoescape
from markdown_it import MarkdownIt
from markupsafe import Markup, escape

from vectis.domain.events import Event
from vectis.domain.records import SlaState, Ticket
from vectis.entrypoints.http.hub.submissions import new_submission_key

_environment = Environment(
    loader=PackageLoader("vectis.entrypoints.http.hub", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
# CommonMark with raw HTML off: markup in a note is shown as text, never run. Images are off
# too (the CSP would block remote ones anyway), and links are limited to web and mail.
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).disable("image")
_LINK_SCHEMES = frozenset({"http", "https", "mailto", ""})


def _web_or_mail_link(url: str) -> bool:
    return urlsplit(url.strip()).scheme.lower() in _LINK_SCHEMES


_markdown.validateLink = _web_or_mail_link  # type: ignore[method-assign]


def _when(value: datetime | None, zone: str = "UTC") -> str:
    if value is None:
        return "—"
    return value.astimezone(ZoneInfo(zone)).strftime("%d %b %Y %H:%M")


def _ago(value: datetime, now: datetime) -> str:
    seconds = int((now - value).total_seconds())
    future = seconds < 0
    seconds = abs(seconds)
    for size, unit in ((86_400 * 365, "y"), (86_400 * 30, "mo"), (86_400, "d"), (3_600, "h")):
        if seconds >= size:
            amount = f"{seconds // size} {unit}"
            break
    else:
        amount = f"{seconds // 60} min" if seconds >= 60 else "moments"
    if amount == "moments":
        return "just now"
    return f"in {amount}" if future else f"{amount} ago"


def _moment(value: datetime | None, zone: str = "UTC") -> Markup:
    """A time shown relative ("3 h ago") with the absolute local time beside it on hover and
    for assistive technology; machine-readable in ``datetime``."""
    if value is None:
        return Markup("—")
    absolute = _when(value, zone)
    relative = _ago(value, datetime.now(UTC))
    return Markup('<time datetime="{}" title="{}">{}</time>').format(
        value.isoformat(), absolute, relative
    )


def _sla(ticket: Ticket, zone: str = "UTC") -> Markup:
    """Where a ticket stands against its SLA: breached, met, or when the next target is due."""
    sla = ticket.sla
    state = ticket.sla_state(datetime.now(UTC))
    if sla is None or state is None:
        return Markup("—")
    if state == SlaState.BREACHED:
        return Markup('<span class="badge warn">Breached</span>')
    if state == SlaState.MET:
        return Markup('<span class="badge">Met</span>')
    due = sla.due()
    return Markup("due {}").format(_moment(due, zone)) if due else Markup("on track")


def _safe_url(value: str | None) -> str:
    """A vendor's deep link, only when it is a web address (never ``javascript:``)."""
    if value and urlsplit(value.strip()).scheme.lower() in {"http", "https"}:
        return value.strip()
    return ""


def _markdown_html(text: str) -> Markup:
    return Markup(_markdown.render(text))  # noqa: S704 (raw HTML is disabled above)


def _plain_html(text: str) -> Markup:
    return Markup("<p>{}</p>").format(escape(text))


def _with_params(params: Mapping[str, Any], **changes: Any) -> str:
    """The current page's query string with some parameters changed (``None`` drops one);
    a changed filter or sort always starts again from the first page."""
    merged = {key: value for key, value in params.items() if key != "after"}
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    pairs = [
        (key, item)
        for key, value in merged.items()
        for item in (value if isinstance(value, list | tuple) else [value])
    ]
    return "?" + urlencode(pairs)


def _local_time(value: datetime, zone: str = "UTC") -> str:
    return value.astimezone(ZoneInfo(zone)).strftime("%H:%M")


def _record_link(event: Event, customer_id: UUID) -> str:
    """Where a timeline entry's record lives in the hub ('' when it has no page)."""
    subject = event.subject
    if subject is None:
        return ""
    base = f"/customers/{customer_id}"
    if subject.type == "ticket" and event.integration_id:
        return f"/tickets/{event.integration_id}/{quote(subject.id, safe='')}"
    if subject.type == "alert":
        return f"{base}/alerts?state=all#alert-{quote(subject.id, safe='')}"
    if subject.type == "device":
        return f"{base}/devices"
    if subject.type == "note":
        return f"{base}/notes/{quote(subject.id, safe='')}"
    return ""


_environment.globals["with_params"] = _with_params
_environment.globals["submission_key"] = new_submission_key
_environment.filters["local_time"] = _local_time
_environment.filters["record_link"] = _record_link
_environment.filters["pair"] = lambda value: (value, value)
_environment.filters["capitalize_label"] = lambda pair: (pair[0], str(pair[1]).capitalize())
_environment.filters["when"] = _when
_environment.filters["moment"] = _moment
_environment.filters["safe_url"] = _safe_url
_environment.filters["sla"] = _sla
_environment.filters["markdown"] = _markdown_html
_environment.filters["plain"] = _plain_html


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


def error_page(
    req: falcon.asgi.Request, *, status: int, title: str, detail: str, back: str | None = None
) -> str:
    return render(
        "error.html",
        status=status,
        title=title,
        detail=detail,
        back=back,
        principal=getattr(req.context, "principal", None),
        tenant=getattr(req.context, "tenant", None),
        csrf_token=getattr(req.context, "csrf_token", ""),
    )
