"""Runs the sandbox — every sandboxed vendor on its own loopback port — for as long as the demo
or a test needs it."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import Any

from attrs import define, field, frozen

from vectis_sandbox import autotask, connectwise, halopsa, ninjaone
from vectis_sandbox.kit.serving import QuietServer, serve_app
from vectis_sandbox.kit.state import SandboxState
from vectis_sandbox.kit.vendor import SandboxVendor
from vectis_sandbox.world import World, build_world

__all__ = [
    "SANDBOXES",
    "VENDORS",
    "QuietServer",
    "Sandbox",
    "SandboxAccountInfo",
    "SandboxHost",
    "running_sandbox",
    "sandbox_host",
    "serve_app",
]

SANDBOXES: tuple[SandboxVendor[Any], ...] = (
    connectwise.SANDBOX,
    autotask.SANDBOX,
    halopsa.SANDBOX,
    ninjaone.SANDBOX,
)
"""Every sandboxed vendor, in the order the demo lists them: the one list to add a vendor to."""
_BY_KEY: Mapping[str, SandboxVendor[Any]] = {vendor.key: vendor for vendor in SANDBOXES}
VENDORS: Mapping[str, str] = {vendor.key: vendor.label for vendor in SANDBOXES}
"""Vendor key → the account's name in the demo."""


@frozen(kw_only=True)
class SandboxAccountInfo:
    vendor: str
    name: str
    base_url: str
    credentials: Mapping[str, str] = field(repr=False)
    companies: Mapping[str, str] = field(factory=dict)
    """Vendor company id → company name."""


@define
class Sandbox:
    world: World
    states: dict[str, Any]
    """Vendor key → its state (a ``SandboxState``; ``Any`` so tests reach vendor fields)."""
    accounts: list[SandboxAccountInfo]

    @property
    def connectwise(self) -> Any:
        return self.states["connectwise"]

    def state(self, vendor: str) -> Any:
        return self.states[vendor]


class _Mount:
    """An ASGI app whose inner app is swapped when the vendor is seeded afresh: one server, many
    states. Until a state is mounted (or for a vendor left out), every request is a 404."""

    def __init__(self) -> None:
        self.app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self.app is not None:
            await self.app(scope, receive, send)
        elif scope["type"] == "http":
            await send({"type": "http.response.start", "status": 404, "headers": []})
            await send({"type": "http.response.body", "body": b""})


class SandboxHost:
    """The sandboxed vendors' servers, kept up while each use seeds fresh states behind them.

    Starting the servers is the slow part of a sandbox; ``seed`` is cheap. A test suite keeps one
    host and seeds each test its own untouched vendors, so tests share servers and nothing else.
    """

    def __init__(self, urls: Mapping[str, str], mounts: Mapping[str, _Mount]) -> None:
        self._urls = dict(urls)
        self._mounts = dict(mounts)
        self._current: Sandbox | None = None

    def seed(self, world: World | None = None, *, vendors: Sequence[str] | None = None) -> Sandbox:
        """Fresh vendor states (new ids, credentials, no webhooks) behind the same servers; the
        previous sandbox's deliveries still under way are cancelled and its vendors unmounted."""
        self.clear()
        world = world or build_world()
        chosen = tuple(self._urls) if vendors is None else tuple(vendors)
        names = {company.key: company.name for company in world.companies}
        states: dict[str, Any] = {}
        accounts = []
        for vendor in chosen:
            sandbox = _BY_KEY[vendor]
            state: SandboxState = sandbox.seeded(world)
            state.base_url = sandbox.base_url_for(self._urls[vendor])
            self._mounts[vendor].app = sandbox.create_app(state)
            states[vendor] = state
            accounts.append(
                SandboxAccountInfo(
                    vendor=vendor,
                    name=sandbox.label,
                    base_url=state.base_url,
                    credentials=dict(state.credentials),
                    companies={
                        vendor_id: names[key] for key, vendor_id in state.company_ids.items()
                    },
                )
            )
        self._current = Sandbox(world=world, states=states, accounts=accounts)
        return self._current

    @contextlib.contextmanager
    def seeded(
        self, world: World | None = None, *, vendors: Sequence[str] | None = None
    ) -> Iterator[Sandbox]:
        """``seed``, then ``clear`` when the block ends."""
        try:
            yield self.seed(world, vendors=vendors)
        finally:
            self.clear()

    def clear(self) -> None:
        """Cancel the current sandbox's deliveries and unmount its vendors."""
        if self._current is not None:
            for state in self._current.states.values():
                for delivery in state.deliveries:
                    delivery.cancel()
        for mount in self._mounts.values():
            mount.app = None
        self._current = None


@contextlib.asynccontextmanager
async def sandbox_host(
    host: str = "127.0.0.1", *, vendors: Sequence[str] = tuple(VENDORS)
) -> AsyncIterator[SandboxHost]:
    """Serve a server per sandboxed vendor for as long as the context lasts; seed them with
    ``SandboxHost.seed`` as often as needed."""
    mounts = {vendor: _Mount() for vendor in vendors}
    async with contextlib.AsyncExitStack() as stack:
        urls = {
            vendor: await stack.enter_async_context(serve_app(mount, host))
            for vendor, mount in mounts.items()
        }
        running = SandboxHost(urls, mounts)
        try:
            yield running
        finally:
            running.clear()


@contextlib.asynccontextmanager
async def running_sandbox(
    host: str = "127.0.0.1",
    *,
    vendors: Sequence[str] = tuple(VENDORS),
    world: World | None = None,
    activity_every: float | None = None,
) -> AsyncIterator[Sandbox]:
    """Serve the sandboxed vendors, each seeded from the same demo world.

    With ``activity_every`` (seconds), customers keep opening tickets and devices keep raising
    alerts, as they would in real tools, so a demo has something happening.
    """
    async with sandbox_host(host, vendors=vendors) as running:
        sandbox = running.seed(world)
        activity = (
            asyncio.create_task(_activity(sandbox.states, activity_every))
            if activity_every
            else None
        )
        try:
            yield sandbox
        finally:
            if activity:
                activity.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await activity


async def _activity(states: Mapping[str, Any], every: float) -> None:
    chooser = random.Random(7)
    while True:
        await asyncio.sleep(every)
        vendor = chooser.choice(sorted(states))
        _BY_KEY[vendor].simulate_activity(states[vendor], chooser)
