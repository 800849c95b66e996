"""Autotask PSA contract tests: recordings, the loopback sandbox and a live tenant, one fixture.

Modes of the ``vendor`` fixture: ``replay`` serves ``recordings/*.json`` in-process and checks
each request against its recording; ``sandbox`` makes the same calls over HTTP to
``vectis_sandbox.autotask``; ``live`` runs only when these environment variables are set:

- ``AUTOTASK_USERNAME``: the API-only user's user name (an email address);
- ``AUTOTASK_SECRET``: that user's secret;
- ``AUTOTASK_INTEGRATION_CODE``: the API tracking identifier;
- ``AUTOTASK_BASE_URL`` (optional): the zone's REST URL; left empty, the zone is discovered.

Live mode only reads (the check and every stream); writes and webhooks run in the other modes.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from attrs import define, field

from contract_tests.replay import Replay
from vectis.adapters.vendors.autotask.client import (
    AutotaskAccount,
    AutotaskClient,
    AutotaskSettings,
)
from vectis.adapters.vendors.autotask.gateway import AutotaskSync, AutotaskTicketing
from vectis.domain.integration import Credentials
from vectis.domain.records import SyncBatch
from vectis_sandbox import autotask as sandbox
from vectis_sandbox.server import serve_app

RECORDINGS = Path(__file__).parent / "recordings"
ZONE = "https://webservices5.autotask.net/atservicesrest"
CREDENTIALS = {
    "username": "vectis-api@harborpoint.example",
    "secret": "s3cr3t-Value",
    "integration_code": "ABCDEFGHIJKLMNOPQRSTUVWXYZ0",
}
LIVE = ("AUTOTASK_USERNAME", "AUTOTASK_SECRET", "AUTOTASK_INTEGRATION_CODE")
INCREMENTAL = ("companies", "contacts", "devices", "tickets", "notes")


def recording(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((RECORDINGS / f"{name}.json").read_text())
    return loaded


class Script:
    """The recordings a test names, served in-process; ``replay.sent`` keeps the requests."""

    def __init__(self) -> None:
        self.replay = Replay([])

    def play(self, names: tuple[str, ...]) -> None:
        interactions = [step for name in names for step in recording(name)["interactions"]]
        self.replay = Replay(interactions, values=CREDENTIALS)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        return self.replay(request)


@define
class Vendor:
    """One way of reaching Autotask: recordings in-process, the sandbox, or a live tenant."""

    mode: str
    http: httpx.AsyncClient
    base_url: str
    credentials: dict[str, str] = field(repr=False)
    state: sandbox.AutotaskState | None = None
    script: Script | None = None

    def client(
        self, *recordings: str, credentials: dict[str, str] | None = None, **settings: Any
    ) -> AutotaskClient:
        if self.script is not None:
            self.script.play(recordings)
        account = AutotaskAccount.from_credentials(
            self.base_url, Credentials(values=credentials or self.credentials)
        )
        return AutotaskClient(self.http, account, AutotaskSettings(**settings))

    def sync(self, *recordings: str, **settings: Any) -> AutotaskSync:
        return AutotaskSync(self.client(*recordings, **settings), AutotaskSettings(**settings))

    def ticketing(self, *recordings: str) -> AutotaskTicketing:
        return AutotaskTicketing(self.client(*recordings), AutotaskSettings())

    @property
    def requests(self) -> list[str]:
        """``METHOD path`` of every request the vendor has seen so far."""
        if self.script is not None:
            return [f"{sent.method} {sent.url.path}" for sent in self.script.replay.sent]
        if self.state is not None:
            return [
                f"{method} {target.split('?')[0]}" for method, target in self.state.faults.requests
            ]
        return []

    def only(self, *modes: str) -> None:
        if self.mode not in modes:
            pytest.skip(f"not run against {self.mode}")


@contextlib.asynccontextmanager
async def running(state: sandbox.AutotaskState) -> AsyncIterator[sandbox.AutotaskState]:
    """Serve the sandbox on loopback for the length of a test."""
    async with serve_app(sandbox.create_app(state)) as url:
        state.base_url = sandbox.base_url_for(url)
        try:
            yield state
        finally:
            for delivery in state.deliveries:
                delivery.cancel()


async def read(source: AutotaskSync, stream: str, cursor: str | None = None) -> list[SyncBatch]:
    return [batch async for batch in source.read(stream, cursor)]


def records(batches: list[SyncBatch]) -> list[Any]:
    return [record for batch in batches for record in batch.records]


def rows(vendor: Vendor, entity: str) -> list[dict[str, Any]]:
    assert vendor.state is not None
    return list(vendor.state.table(entity).rows())
