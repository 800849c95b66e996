"""Real-browser fixtures: Debian's Chromium, driven by Playwright, against the hub served over
real HTTP on loopback.

Everything runs in the test session's one event loop: uvicorn serves the ASGI app as a task
beside the test (the services' database pool belongs to that loop), Playwright talks to the
browser from the same loop, and the procrastinate worker, when a test starts one, is a task too.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import re
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.async_api import Browser, Page, ViewportSize, async_playwright

from tests.conftest import TEST_SECRET_KEY
from vectis.adapters.security.keys import derive_key
from vectis.application.services import Services
from vectis.container import Container
from vectis.entrypoints.http.app import HttpConfig, create_app
from vectis_sandbox.server import QuietServer, Sandbox, SandboxHost
from vectis_sandbox.world import build_world

VIEWPORT: ViewportSize = {"width": 1280, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}
REPOSITORY = Path(__file__).resolve().parents[2]

Screenshot = Callable[[Page, str], Awaitable[Path]]


def chromium_executable() -> Path:
    """Debian's chromium (``apt-get install chromium``), or ``$VECTIS_CHROMIUM``."""
    return Path(os.environ.get("VECTIS_CHROMIUM") or "/usr/bin/chromium")


def artifacts_directory() -> Path:
    configured = os.environ.get("VECTIS_TEST_ARTIFACTS")
    return Path(configured) if configured else REPOSITORY / "test-artifacts" / "browser"


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    executable = chromium_executable()
    if not executable.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    args = ["--disable-dev-shm-usage"]  # containers often have a tiny /dev/shm
    if os.geteuid() == 0:
        args.append("--no-sandbox")  # Chromium refuses to sandbox itself as root
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(executable), args=args)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def hub(services: Services) -> AsyncIterator[str]:
    """The real ASGI app served by uvicorn on a free loopback port; yields its base URL.

    127.0.0.1 rather than an https test host: Chromium counts loopback as a secure context and
    keeps the hub's ``Secure`` session cookie over plain http there.
    """
    app = create_app(
        services,
        HttpConfig(
            csrf_key=derive_key(TEST_SECRET_KEY, "csrf"),
            cursor_key=derive_key(TEST_SECRET_KEY, "page-cursor"),
        ),
    )
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = QuietServer(uvicorn.Config(app, lifespan="off", log_level="warning"))
    task = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        while not server.started:
            if task.done():
                task.result()  # raises what stopped the server
                raise RuntimeError("the hub's server stopped before it started")
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        listener.close()


@pytest.fixture
async def page(
    browser: Browser, hub: str, request: pytest.FixtureRequest, screenshot: Screenshot
) -> AsyncIterator[Page]:
    """A fresh browser context (no cookies) on the hub, 1280x900; a screenshot if the test fails."""
    context = await browser.new_context(base_url=hub, viewport=VIEWPORT)
    context.set_default_timeout(10_000)
    opened = await context.new_page()
    try:
        yield opened
    finally:
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            with contextlib.suppress(Exception):
                await screenshot(opened, "failed")
        await context.close()


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Screenshot:
    """``await screenshot(page, "step")`` saves ``<artifacts>/<test name>-<step>.png``."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    for stale in artifacts_directory().glob(f"{glob.escape(name)}-*.png"):
        stale.unlink()  # this test's shots from an earlier run

    async def save(page: Page, step: str) -> Path:
        path = artifacts_directory() / f"{name}-{step}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=path, full_page=True)
        return path

    return save


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, Any]:
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture
def sandbox(sandbox_servers: SandboxHost) -> Iterator[Sandbox]:
    """Sandboxed HaloPSA and NinjaOne on loopback, with a small world."""
    world = build_world(tickets_per_company=6)
    with sandbox_servers.seeded(world, vendors=("halopsa", "ninjaone")) as running:
        yield running


@contextlib.asynccontextmanager
async def running_jobs(container: Container, services: Services) -> AsyncIterator[None]:
    """A procrastinate worker on the test's database, as ``vectis worker`` runs one."""
    jobs = container.job_app()
    async with jobs.open_async():
        worker = asyncio.create_task(
            jobs.run_worker_async(
                concurrency=1,
                fetch_job_polling_interval=0.5,
                listen_notify=True,
                delete_jobs="always",
                additional_context={"services": services},
                install_signal_handlers=False,
            )
        )
        try:
            yield
        finally:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker
