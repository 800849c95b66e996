"""The ``vendor`` fixture: replay, sandbox, or live (see ``harness`` for the live variables)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import httpx
import pytest

from contract_tests.vendors.autotask.harness import CREDENTIALS, LIVE, ZONE, Script, Vendor, running
from vectis_sandbox import autotask as sandbox
from vectis_sandbox.world import build_world


@pytest.fixture(params=["replay", "sandbox", "live"])
async def vendor(request: pytest.FixtureRequest) -> AsyncIterator[Vendor]:
    if request.param == "replay":
        script = Script()
        async with httpx.AsyncClient(transport=httpx.MockTransport(script)) as http:
            yield Vendor("replay", http, ZONE, CREDENTIALS, script=script)
    elif request.param == "sandbox":
        async with running(sandbox.seeded(build_world())) as state, httpx.AsyncClient() as http:
            yield Vendor("sandbox", http, state.base_url, state.credentials, state=state)
    else:
        if not all(os.environ.get(name) for name in LIVE):
            pytest.skip("set AUTOTASK_USERNAME, AUTOTASK_SECRET and AUTOTASK_INTEGRATION_CODE")
        live = dict(
            zip(
                ("username", "secret", "integration_code"),
                (os.environ[n] for n in LIVE),
                strict=True,
            )
        )
        async with httpx.AsyncClient(timeout=60) as http:
            yield Vendor("live", http, os.environ.get("AUTOTASK_BASE_URL", ""), live)
