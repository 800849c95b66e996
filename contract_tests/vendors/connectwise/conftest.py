"""The ``vendor`` fixture: ConnectWise reached by replayed recordings, the sandbox, or a live tenant.

Live mode runs only when CONNECTWISE_BASE_URL, CONNECTWISE_COMPANY_ID, CONNECTWISE_PUBLIC_KEY,
CONNECTWISE_PRIVATE_KEY and CONNECTWISE_CLIENT_ID are set; it only reads unless
CONNECTWISE_LIVE_WRITES=1 (see test_connectwise.py).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from attrs import define

from contract_tests.replay import Replay
from contract_tests.vendors.connectwise.expected import Expected, replayed, sandboxed
from vectis.adapters.vendors.connectwise.client import ConnectWiseAccount, ConnectWiseOptions
from vectis.adapters.vendors.connectwise.gateway import ConnectWiseSync, ConnectWiseTicketing
from vectis_sandbox.connectwise import ConnectWiseState, base_url_for, create_app, seeded
from vectis_sandbox.server import serve_app
from vectis_sandbox.world import World, build_world

RECORDINGS = Path(__file__).parent / "recordings"
CLOUD = "https://api-na.myconnectwise.net/v4_6_release"
REPLAY_NOW = datetime(2026, 11, 27, 10, 30, tzinfo=UTC)
REPLAYED = (
    "system_info",
    "references",
    "companies",
    "sites",
    "contacts",
    "tickets",
    "notes",
    "agreements",
    "configurations",
    "create_ticket",
    "update_ticket",
    "add_note",
    "add_note_ticket_missing",
    "register_callback",
)
LIVE_VARIABLES = (
    "CONNECTWISE_BASE_URL",
    "CONNECTWISE_COMPANY_ID",
    "CONNECTWISE_PUBLIC_KEY",
    "CONNECTWISE_PRIVATE_KEY",
    "CONNECTWISE_CLIENT_ID",
)


def recording(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((RECORDINGS / f"{name}.json").read_text())
    return loaded


def interactions(*names: str) -> list[dict[str, Any]]:
    return [step for name in names for step in recording(name)["interactions"]]


def replay_account(base_url: str = CLOUD) -> ConnectWiseAccount:
    return ConnectWiseAccount(
        base_url=base_url,
        company_id="harborpoint",
        public_key="pub",
        private_key="priv",
        client_id="0b6d7b8a-4a4e-4f1e-9f5a-7c1f0a1b2c3d",
    )


@define
class Vendor:
    """One way of reaching ConnectWise, and what the test should find there."""

    mode: str
    http: httpx.AsyncClient
    account: ConnectWiseAccount
    sent: list[httpx.Request]
    expected: Expected | None = None
    state: ConnectWiseState | None = None
    world: World | None = None
    page_size: int = 1000
    now: datetime | None = None

    def sync(self) -> ConnectWiseSync:
        return ConnectWiseSync(
            self.http, self.account, options=ConnectWiseOptions(page_size=self.page_size)
        )

    def ticketing(self) -> ConnectWiseTicketing:
        now = self.now
        if now is None:
            return ConnectWiseTicketing(self.http, self.account)
        return ConnectWiseTicketing(self.http, self.account, clock=_StoppedClock(now))

    def requests(self, method: str = "GET", path_contains: str = "") -> list[httpx.Request]:
        return [r for r in self.sent if r.method == method and path_contains in r.url.path]

    def may_write(self) -> None:
        if self.mode == "live" and os.environ.get("CONNECTWISE_LIVE_WRITES") != "1":
            pytest.skip("live writes need CONNECTWISE_LIVE_WRITES=1")


@pytest.fixture(params=["replay", "sandbox", "live"])
async def vendor(request: pytest.FixtureRequest) -> AsyncIterator[Vendor]:
    if request.param == "replay":
        replay = Replay(interactions(*REPLAYED))
        async with httpx.AsyncClient(transport=replay.transport()) as http:
            yield Vendor(
                mode="replay",
                http=http,
                account=replay_account(),
                sent=replay.sent,
                expected=replayed(),
                now=REPLAY_NOW,
            )
        return
    sent: list[httpx.Request] = []

    async def remember(sending: httpx.Request) -> None:
        sent.append(sending)

    if request.param == "live":
        missing = [name for name in LIVE_VARIABLES if not os.environ.get(name)]
        if missing:
            pytest.skip(f"live ConnectWise needs {', '.join(missing)}")
        account = ConnectWiseAccount(
            base_url=os.environ["CONNECTWISE_BASE_URL"].rstrip("/"),
            company_id=os.environ["CONNECTWISE_COMPANY_ID"],
            public_key=os.environ["CONNECTWISE_PUBLIC_KEY"],
            private_key=os.environ["CONNECTWISE_PRIVATE_KEY"],
            client_id=os.environ["CONNECTWISE_CLIENT_ID"],
        )
        async with httpx.AsyncClient(timeout=30, event_hooks={"request": [remember]}) as http:
            yield Vendor(mode="live", http=http, account=account, sent=sent)
        return
    async with (
        running_sandbox() as (state, world),
        httpx.AsyncClient(event_hooks={"request": [remember]}) as http,
    ):
        yield Vendor(
            mode="sandbox",
            http=http,
            account=ConnectWiseAccount(base_url=state.base_url, **state.credentials),
            sent=sent,
            expected=sandboxed(state, world),
            state=state,
            world=world,
            page_size=100,
        )


@contextlib.asynccontextmanager
async def running_sandbox() -> AsyncIterator[tuple[ConnectWiseState, World]]:
    """The ConnectWise sandbox serving the demo world on a loopback port."""
    world = build_world()
    state = seeded(world)
    async with serve_app(create_app(state)) as url:
        state.base_url = base_url_for(url)
        try:
            yield state, world
        finally:
            for delivery in state.deliveries:
                delivery.cancel()


@define
class _StoppedClock:
    at: datetime

    def now(self) -> datetime:
        return self.at
