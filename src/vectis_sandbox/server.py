"""Runs the sandbox on a loopback port for as long as the demo or a test needs it."""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

import uvicorn
from attrs import define, field, frozen

from vectis_sandbox.connectwise import CODEBASE, ConnectWiseState, create_app, deliver
from vectis_sandbox.seed import TICKETS, seed_connectwise


@frozen(kw_only=True)
class SandboxAccountInfo:
    vendor: str
    name: str
    base_url: str
    credentials: Mapping[str, str] = field(repr=False)
    companies: Mapping[str, str] = field(factory=dict)


@define
class Sandbox:
    connectwise: ConnectWiseState
    accounts: list[SandboxAccountInfo]


class QuietServer(uvicorn.Server):
    """A uvicorn server that leaves signals to its host process (the demo or a test run)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def serve_app(app: Any, host: str = "127.0.0.1") -> AsyncIterator[str]:
    """Serve one ASGI app on an ephemeral loopback port; yield its ``http://host:port``."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
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
    host: str = "127.0.0.1", *, seed: bool = True, activity_every: float | None = None
) -> AsyncIterator[Sandbox]:
    """Serve every sandboxed vendor on an ephemeral loopback port.

    With ``activity_every`` (seconds), customers keep opening tickets, as they would in a real
    PSA, so a demo has something happening.
    """
    state = ConnectWiseState()
    if seed:
        seed_connectwise(state)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, 0))
    port = listener.getsockname()[1]
    state.base_url = f"http://{host}:{port}/{CODEBASE}"
    server = QuietServer(uvicorn.Config(create_app(state), log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[listener]))
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    activity = (
        asyncio.create_task(_customer_activity(state, activity_every)) if activity_every else None
    )
    try:
        yield Sandbox(
            connectwise=state,
            accounts=[
                SandboxAccountInfo(
                    vendor="connectwise",
                    name="ConnectWise Manage (sandbox)",
                    base_url=state.base_url,
                    credentials=state.credentials,
                    companies={
                        str(company["id"]): company["name"] for company in state.companies.values()
                    },
                )
            ],
        )
    finally:
        if activity:
            activity.cancel()
        for delivery in state.deliveries:
            delivery.cancel()
        server.should_exit = True
        await task
        listener.close()


async def _customer_activity(state: ConnectWiseState, every: float) -> None:
    chooser = random.Random(7)
    while True:
        await asyncio.sleep(every)
        if state.companies:
            company = chooser.choice(list(state.companies))
            deliver(state, "added", state.add_ticket(company, chooser.choice(TICKETS)))
