"""Autotask PSA's ``vendor`` fixture (replay, sandbox, live) and the helpers its tests share.

Live mode reads (the check and every stream) when ``AUTOTASK_USERNAME`` (the API-only user),
``AUTOTASK_SECRET`` and ``AUTOTASK_INTEGRATION_CODE`` (the API tracking identifier) are set;
``AUTOTASK_BASE_URL`` is optional (left empty, the zone is discovered).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from contract_tests.harness import ContractVendor, VendorSpec, vendor_fixture
from vectis.adapters.vendors.autotask.client import AutotaskClient
from vectis.adapters.vendors.autotask.settings import AutotaskAccount, AutotaskSettings
from vectis.adapters.vendors.autotask.sync import AutotaskSync
from vectis.adapters.vendors.autotask.ticketing import AutotaskTicketing
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
INCREMENTAL = ("companies", "contacts", "devices", "tickets", "notes")

SPEC = VendorSpec(
    vendor="autotask",
    recordings=RECORDINGS,
    replay_base_url=ZONE,
    replay_credentials=CREDENTIALS,
    live_base_url="AUTOTASK_BASE_URL",
    live_base_url_optional=True,
    live_credentials={
        "username": "AUTOTASK_USERNAME",
        "secret": "AUTOTASK_SECRET",
        "integration_code": "AUTOTASK_INTEGRATION_CODE",
    },
)
vendor = vendor_fixture(SPEC)


def client(
    vendor: ContractVendor,
    *recordings: str,
    credentials: dict[str, str] | None = None,
    **settings: Any,
) -> AutotaskClient:
    link = vendor.link(*recordings, credentials=credentials, **settings)
    return AutotaskClient(link.http, AutotaskAccount.of(link), AutotaskSettings.of(link))


def sync(vendor: ContractVendor, *recordings: str, **settings: Any) -> AutotaskSync:
    link = vendor.link(*recordings, **settings)
    return AutotaskSync(client(vendor, **settings), AutotaskSettings.of(link))


def ticketing(vendor: ContractVendor, *recordings: str) -> AutotaskTicketing:
    return AutotaskTicketing(client(vendor, *recordings), AutotaskSettings())


def paths(vendor: ContractVendor) -> list[str]:
    """``METHOD path`` of every request the vendor has been sent so far."""
    return [f"{sent.method} {sent.url.path}" for sent in vendor.sent]


def recording(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((RECORDINGS / f"{name}.json").read_text())
    return loaded


@contextlib.asynccontextmanager
async def running(state: sandbox.AutotaskState) -> AsyncIterator[sandbox.AutotaskState]:
    """Serve a sandbox of a test's own (the large one) on loopback for the test's length."""
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


def rows(vendor: ContractVendor, entity: str) -> list[dict[str, Any]]:
    return list(vendor.state.table(entity).rows())
