"""Record mode: with ``VECTIS_CONTRACT_RECORD=<directory>``, every live-mode test writes the HTTP
interactions it had with the vendor to ``<directory>/<test>.json``, in the format
``replay.Replay`` serves, with credentials and tokens redacted — so a live run against a real
account yields fresh recordings to review and check in."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest

from contract_tests.harness import contract_sandboxes  # noqa: F401  (a session fixture)

RECORD_DIRECTORY = os.environ.get("VECTIS_CONTRACT_RECORD")
SECRET_NAMES = re.compile(r"secret|password|token|key|authorization|signature", re.IGNORECASE)
REDACTED = "<redacted>"


@pytest.fixture(autouse=True)
def record_live_interactions(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    if not RECORD_DIRECTORY or "live" not in request.node.name:
        yield
        return
    interactions: list[dict[str, Any]] = []
    send = httpx.AsyncClient.send

    async def recording_send(
        client: httpx.AsyncClient, outgoing: httpx.Request, **options: Any
    ) -> httpx.Response:
        response = await send(client, outgoing, **options)
        await response.aread()
        interactions.append(interaction(outgoing, response))
        return response

    monkeypatch.setattr(httpx.AsyncClient, "send", recording_send)
    yield
    if interactions:
        directory = Path(RECORD_DIRECTORY)
        directory.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
        (directory / f"{name}.json").write_text(
            json.dumps({"interactions": interactions}, indent=2) + "\n"
        )


def interaction(outgoing: httpx.Request, response: httpx.Response) -> dict[str, Any]:
    recorded: dict[str, Any] = {
        "method": outgoing.method,
        "path": outgoing.url.path,
        "headers": sorted(outgoing.headers.keys()),
        "query": redact(dict(outgoing.url.params)),
    }
    content_type = outgoing.headers.get("content-type", "")
    if outgoing.content and "json" in content_type:
        recorded["json"] = redact(json.loads(outgoing.content))
    elif outgoing.content and "form" in content_type:
        recorded["form"] = redact(dict(parse_qsl(outgoing.content.decode())))
    answer: dict[str, Any] = {"status": response.status_code}
    try:
        answer["json"] = redact(response.json())
    except ValueError:
        answer["text"] = response.text[:2000]
    return {"request": recorded, "response": answer}


def redact(value: Any) -> Any:
    """Credentials, tokens and signing keys never reach a recording."""
    if isinstance(value, dict):
        return {
            key: REDACTED if SECRET_NAMES.search(str(key)) else redact(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [redact(item) for item in value]
    return value
