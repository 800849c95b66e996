"""Reading hub forms safely."""

from __future__ import annotations

from typing import Any

import falcon
import falcon.asgi


async def form_fields(req: falcon.asgi.Request) -> dict[str, str]:
    media: Any = await req.get_media(default_when_empty={})
    if not isinstance(media, dict):
        raise falcon.HTTPBadRequest(title="Bad form", description="Send the form as a form.")
    return {key: value if isinstance(value, str) else "" for key, value in media.items()}


def local_path(candidate: str | None) -> str:
    """Only same-site paths, so a ``next``/``back`` link cannot become an open redirect."""
    if candidate and candidate.startswith("/") and not candidate.startswith(("//", "/\\")):
        return candidate
    return "/customers"
