"""Runs the sandbox — every sandboxed vendor on its own loopback port — for as long as the demo
or a test needs it."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import random
import socket
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import Any

import uvicorn
from attrs import define, field, frozen

from vectis_sandbox.world import World, build_world

VENDORS: Mapping[str, str] = {
    "connectwise": "ConnectWise Manage (sandbox)",
    "autotask": "Autotask (sandbox)",
    "halopsa": "HaloPSA (sandbox)",
    "ninjaone": "NinjaOne (sandbox)",
}


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
    accounts: list[SandboxAccountInfo]

    @property
    def connectwise(self) -> Any:
        return self.states["connectwise"]

    def state(self, vendor: str) -> Any:
        return self.states[vendor]


class QuietServer(uvicorn.Server):
    """A uvicorn server that leaves signals to its host process (the demo or a test run)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def serve_app(app: Any, host: str = "127.0.0.1") -> AsyncIterator[str]:
    """Serve one ASGI app on an ephemeral loopback port; yield its ``http://host:port``."""
    # IPPROTO_TCP, so asyncio sets TCP_NODELAY on accepted connections (else ~40 ms a request).
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, 0))
    port = listener.getsockname()[1]
    server = QuietServer(uvicorn.Config(app, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        await task
        listener.close()


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
    world = world or build_world()
    states: dict[str, Any] = {}
    accounts = []
    async with contextlib.AsyncExitStack() as stack:
        for vendor in vendors:
            module = importlib.import_module(f"vectis_sandbox.{vendor}")
            state = module.seeded(world)
            url = await stack.enter_async_context(serve_app(module.create_app(state), host))
            state.base_url = module.base_url_for(url)
            states[vendor] = state
            names = {company.key: company.name for company in world.companies}
            accounts.append(
                SandboxAccountInfo(
                    vendor=vendor,
                    name=VENDORS[vendor],
                    base_url=state.base_url,
                    credentials=dict(state.credentials),
                    companies={
                        vendor_id: names[key] for key, vendor_id in state.company_ids.items()
                    },
                )
            )
        activity = (
            asyncio.create_task(_activity(states, activity_every)) if activity_every else None
        )
        try:
            yield Sandbox(world=world, states=states, accounts=accounts)
        finally:
            if activity:
                activity.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await activity
            for state in states.values():
                for delivery in getattr(state, "deliveries", []):
                    delivery.cancel()


async def _activity(states: Mapping[str, Any], every: float) -> None:
    chooser = random.Random(7)
    while True:
        await asyncio.sleep(every)
        vendor = chooser.choice(sorted(states))
        module = importlib.import_module(f"vectis_sandbox.{vendor}")
        module.simulate_activity(states[vendor], chooser)
