"""Reading hub forms safely."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote, urlsplit

import falcon
import falcon.asgi

MAX_LOCAL_PATH_LENGTH = 2_000
_AMBIGUOUS = re.compile(r"[\x00-\x1f\x7f-\x9f\\]")
"""Control characters and backslashes: what browsers drop from a URL or read as a slash."""


async def form_fields(req: falcon.asgi.Request) -> dict[str, str]:
    media: Any = await req.get_media(default_when_empty={})
    if not isinstance(media, dict):
        raise falcon.HTTPBadRequest(title="Bad form", description="Send the form as a form.")
    return {key: value if isinstance(value, str) else "" for key, value in media.items()}


def local_path(candidate: str | None, default: str = "/customers") -> str:
    """A ``next`` or ``back`` target only when it is a path on this site, else ``default``.

    Browsers drop tabs and newlines from a URL and read a backslash as a slash, so
    ``/%09/evil.example/`` or ``/%5Cevil.example`` would lead off-site: a control character or
    backslash (as it is or percent-encoded), a scheme, a host or a leading ``//`` is refused."""
    if not candidate or len(candidate) > MAX_LOCAL_PATH_LENGTH:
        return default
    for form in (candidate, unquote(candidate)):
        if not form.startswith("/") or form.startswith("//") or _AMBIGUOUS.search(form):
            return default
    parts = urlsplit(candidate)
    if parts.scheme or parts.netloc:
        return default
    return candidate
