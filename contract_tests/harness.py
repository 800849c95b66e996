"""The one contract-test harness: a vendor reached by replayed recordings, the sandbox, or live.

Each vendor's ``conftest.py`` declares a ``VendorSpec`` and builds its ``vendor`` fixture with
``vendor_fixture(spec)``. A test then asks the ``ContractVendor`` it gets for a ``Link`` — or
straight for a port, through the vendor's registry entry, so the tests exercise the same
factories production uses — and, in replay mode, names the recordings to serve first:

    async def test_reads_tickets(vendor: ContractVendor) -> None:
        source = vendor.port(SyncSource, "token", "tickets")
        ...

- **replay**: ``recordings/<name>.json`` are served in-process by ``replay.Replay``, which
  checks every request against its recording; nothing leaves the process.
- **sandbox**: the same calls over loopback HTTP to ``vectis_sandbox.<vendor>``, seeded with
  the demo world behind one server per vendor kept for the whole session.
- **live**: a real account, only when the spec's environment variables are all set (else the
  test is skipped); live runs read, and a test that writes calls ``vendor.may_write()``.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from attrs import define, field, frozen

from contract_tests.replay import Replay
from vectis.adapters.clock import SystemClock
from vectis.adapters.vendors._entry import Link, VendorEntry
from vectis.adapters.vendors._http.transport import UNPACED
from vectis.adapters.vendors.registry import VENDORS
from vectis.application.ports import Clock
from vectis.domain.integration import Credentials, Integration
from vectis_sandbox.server import Sandbox, SandboxHost, sandbox_host
from vectis_sandbox.world import World, build_world

P = TypeVar("P")

MODES = ("replay", "sandbox", "live")


@frozen(kw_only=True)
class VendorSpec:
    """What the harness needs to know about one vendor to reach it in each mode."""

    vendor: str
    """The registry key (``connectwise``, ``autotask``, …)."""
    recordings: Path
    replay_base_url: str
    replay_credentials: Mapping[str, str] = field(repr=False)
    replay_values: Mapping[str, str] = field(factory=dict, repr=False)
    """Placeholders (``{token}``) the recordings use, besides the replay credentials."""
    replay_settings: Mapping[str, Any] = field(factory=dict)
    replay_now: datetime | None = None
    """The clock's time in replay mode, for recordings whose answers depend on it."""
    sandbox_settings: Mapping[str, Any] = field(factory=dict)
    live_base_url: str
    """The environment variable naming the live account's base URL."""
    live_base_url_optional: bool = False
    """Whether an empty base URL is valid live (the vendor discovers it, as Autotask does)."""
    live_credentials: Mapping[str, str]
    """Credential field → the environment variable holding it; all must be set for live."""
    live_optional: Mapping[str, str] = field(factory=dict)
    """Credential fields that may be left unset in live mode (HaloPSA's tenant)."""
    live_writes: str = ""
    """The variable that allows writes in live mode (``…_LIVE_WRITES=1``); '' never allows."""
    world: Callable[[], World] = build_world


class Recordings:
    """A vendor's recordings directory; ``interactions`` reads one or several files."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def load(self, name: str) -> Any:
        return json.loads((self.directory / f"{name}.json").read_text())

    def interactions(self, *names: str) -> list[dict[str, Any]]:
        steps: list[dict[str, Any]] = []
        for name in names:
            loaded = self.load(name)
            steps.extend(loaded.get("interactions", [loaded]))
        return steps


class Script:
    """The replay transport's handler: serves whichever recordings the test played last."""

    def __init__(self, recordings: Recordings, values: Mapping[str, str]) -> None:
        self._recordings = recordings
        self._values = dict(values)
        self.replay = Replay([], self._values)

    def play(self, names: Sequence[str]) -> Replay:
        self.replay = Replay(self._recordings.interactions(*names), self._values)
        return self.replay

    def __call__(self, request: httpx.Request) -> httpx.Response:
        return self.replay(request)


@define
class ContractVendor:
    """One way of reaching a vendor in a test, and what it has been sent."""

    spec: VendorSpec
    mode: str
    http: httpx.AsyncClient
    base_url: str
    credentials: dict[str, str] = field(repr=False)
    settings: dict[str, Any] = field(factory=dict)
    sent: list[httpx.Request] = field(factory=list)
    script: Script | None = None
    sandbox: Sandbox | None = None
    clock: Clock = field(factory=SystemClock)
    key_cache: dict[str, tuple[float, bytes]] = field(factory=dict)

    @property
    def entry(self) -> VendorEntry:
        return VENDORS[self.spec.vendor]

    @property
    def state(self) -> Any:
        """The sandbox vendor's state (its tables, faults and deliveries); sandbox mode only."""
        assert self.sandbox is not None, "only the sandbox has a state"
        return self.sandbox.state(self.spec.vendor)

    @property
    def world(self) -> World:
        assert self.sandbox is not None, "only the sandbox is seeded from the world"
        return self.sandbox.world

    def play(self, *recordings: str) -> None:
        """In replay mode, serve these recordings (and only these) from now on."""
        if self.script is not None:
            self.script.play(recordings)

    def integration(self, **settings: Any) -> Integration:
        return Integration(
            id=uuid.uuid4(),
            tenant_id=uuid.uuid4(),
            vendor=self.spec.vendor,
            name=self.entry.label,
            base_url=self.base_url,
            created_at=datetime.now(UTC),
            settings={**self.settings, **settings},
        )

    def link(
        self, *recordings: str, credentials: Mapping[str, str] | None = None, **settings: Any
    ) -> Link:
        """What a gateway factory gets; in replay mode the named recordings are served."""
        if recordings:
            self.play(*recordings)
        return Link(
            http=self.http,
            integration=self.integration(**settings),
            credentials=Credentials(values=dict(credentials or self.credentials)),
            limit=UNPACED,
            key_cache=self.key_cache,
            clock=self.clock,
        )

    def port(self, kind: type[P], *recordings: str, **settings: Any) -> P:
        """The vendor's implementation of a port, built by its registry entry."""
        return self.entry.build(kind, self.link(*recordings, **settings))

    def requests(self, method: str | None = None, path_contains: str = "") -> list[httpx.Request]:
        return [
            request
            for request in self.sent
            if (method is None or request.method == method) and path_contains in request.url.path
        ]

    def calls(self) -> list[str]:
        """Every request so far as ``METHOD /path?query``."""
        return [f"{r.method} {r.url.raw_path.decode()}" for r in self.sent]

    def only(self, *modes: str) -> None:
        if self.mode not in modes:
            pytest.skip(f"not run against {self.mode}")

    def needs_facts(self) -> None:
        """Skip in live mode: the test asserts recorded or seeded values."""
        self.only("replay", "sandbox")

    def may_write(self) -> None:
        if self.mode != "live":
            return
        if not self.spec.live_writes or os.environ.get(self.spec.live_writes) != "1":
            pytest.skip("live writes are not allowed for this vendor's account")


@pytest.fixture(scope="session")
async def contract_sandboxes() -> AsyncIterator[SandboxHost]:
    """One server per sandboxed vendor for the whole session (per xdist worker)."""
    async with sandbox_host() as host:
        yield host


def vendor_fixture(spec: VendorSpec) -> Any:
    """The ``vendor`` fixture for a vendor's contract tests, run once per mode."""

    @pytest.fixture(params=MODES)
    async def vendor(
        request: pytest.FixtureRequest, contract_sandboxes: SandboxHost
    ) -> AsyncIterator[ContractVendor]:
        sent: list[httpx.Request] = []

        async def remember(outgoing: httpx.Request) -> None:
            sent.append(outgoing)

        hooks = {"request": [remember]}
        if request.param == "replay":
            values = {**spec.replay_credentials, **spec.replay_values}
            script = Script(Recordings(spec.recordings), values)
            transport = httpx.MockTransport(script)
            async with httpx.AsyncClient(transport=transport, event_hooks=hooks) as http:
                yield ContractVendor(
                    spec,
                    "replay",
                    http,
                    spec.replay_base_url,
                    dict(spec.replay_credentials),
                    settings=dict(spec.replay_settings),
                    sent=sent,
                    script=script,
                    clock=StoppedClock(spec.replay_now) if spec.replay_now else SystemClock(),
                )
        elif request.param == "sandbox":
            with contract_sandboxes.seeded(spec.world(), vendors=[spec.vendor]) as sandbox:
                state = sandbox.state(spec.vendor)
                async with httpx.AsyncClient(event_hooks=hooks) as http:
                    yield ContractVendor(
                        spec,
                        "sandbox",
                        http,
                        state.base_url,
                        dict(state.credentials),
                        settings=dict(spec.sandbox_settings),
                        sent=sent,
                        sandbox=sandbox,
                    )
        else:
            live = live_credentials(spec)
            async with httpx.AsyncClient(timeout=60, event_hooks=hooks) as http:
                base_url = os.environ.get(spec.live_base_url, "")
                yield ContractVendor(spec, "live", http, base_url.rstrip("/"), live, sent=sent)

    return vendor


def live_credentials(spec: VendorSpec) -> dict[str, str]:
    """The live account's credentials from the environment, or skip naming what is missing."""
    needed = dict(spec.live_credentials)
    if not spec.live_base_url_optional:
        needed = {"": spec.live_base_url, **needed}
    missing = [variable for variable in needed.values() if not os.environ.get(variable)]
    if missing:
        pytest.skip(f"live {spec.vendor} needs {', '.join(missing)}")
    values = {name: os.environ[variable] for name, variable in spec.live_credentials.items()}
    for name, variable in spec.live_optional.items():
        if os.environ.get(variable):
            values[name] = os.environ[variable]
    return values


@define
class StoppedClock:
    """A clock that always says the same time."""

    at: datetime

    def now(self) -> datetime:
        return self.at
