"""Replaying recorded vendor interactions in-process, checking each request against its record.

A recording is ``{"request": {...}, "response": {...}}``:

- ``request.method`` and ``request.path`` (``{placeholders}`` filled from ``values``) select it;
- ``request.headers`` lists headers that must be present, ``request.header_values`` ones that
  must have exactly that value; ``request.query`` maps parameters to their exact values;
  ``request.json`` is the exact JSON body and ``request.form`` the exact form fields;
- ``response`` gives ``status``, optional ``headers`` and ``json`` (or ``text``).

Several recordings may share a method and path; ``request.query`` then tells them apart, and a
recording with ``"once": true`` answers only once (pagination, then an empty page).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx


def load(directory: Path, name: str) -> Any:
    return json.loads((directory / f"{name}.json").read_text())


class Replay:
    """An ``httpx.MockTransport`` handler serving recordings; ``sent`` keeps every request."""

    def __init__(
        self, interactions: list[dict[str, Any]], values: Mapping[str, str] | None = None
    ) -> None:
        self._interactions = list(interactions)
        self._values = dict(values or {})
        self._used: set[int] = set()
        self.sent: list[httpx.Request] = []

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        for index, interaction in enumerate(self._interactions):
            expected = interaction["request"]
            if index in self._used or request.method != expected["method"]:
                continue
            if request.url.path != self._fill(expected["path"]):
                continue
            query = {
                name: self._fill(str(value)) for name, value in expected.get("query", {}).items()
            }
            if any(request.url.params.get(name) != value for name, value in query.items()):
                continue
            for header in expected.get("headers", []):
                assert header in request.headers, f"{header} header missing on {request.url}"
            for header, value in expected.get("header_values", {}).items():
                assert request.headers.get(header) == self._fill(value), f"{header} differs"
            if "json" in expected:
                assert json.loads(request.content) == expected["json"], "request body differs"
            if "form" in expected:
                assert dict(parse_qsl(request.content.decode())) == expected["form"]
            if interaction.get("once"):
                self._used.add(index)
            answer = interaction["response"]
            headers = {name: self._fill(value) for name, value in answer.get("headers", {}).items()}
            if "json" in answer:
                return httpx.Response(answer["status"], json=answer["json"], headers=headers)
            return httpx.Response(answer["status"], text=answer.get("text", ""), headers=headers)
        raise AssertionError(f"no recording for {request.method} {request.url}")

    def _fill(self, template: str) -> str:
        for name, value in self._values.items():
            template = template.replace("{" + name + "}", value)
        return template
