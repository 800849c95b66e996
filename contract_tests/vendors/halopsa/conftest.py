"""HaloPSA's ``vendor`` fixture (replay, sandbox, live) and the helpers its tests share.

Live mode runs the read-only tests against a real Halo when ``HALOPSA_BASE_URL``
(``https://yourcompany.halopsa.com``), ``HALOPSA_CLIENT_ID``, ``HALOPSA_CLIENT_SECRET`` and, for
hosted Halo, ``HALOPSA_TENANT`` are set; ``HALOPSA_LIVE_WRITES=1`` allows the writing tests.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from contract_tests.harness import ContractVendor, VendorSpec, vendor_fixture
from vectis.adapters.vendors._entry import SyncSource, Ticketing
from vectis.adapters.vendors.halopsa.sync import HaloSync
from vectis.adapters.vendors.halopsa.ticketing import HaloTicketing
from vectis.domain.records import SyncBatch

CLOUD = "https://dbt.halopsa.com"
RECORDED_AT = datetime(2024, 6, 21, 9, 12, 46, tzinfo=UTC)
CREDENTIALS = {
    "client_id": "5f2c8d0e-61a4-4d3b-9d3e-1b7f0c2a9e44",
    "client_secret": "s3cr3t-from-halo-api-details",
    "tenant": "dbt",
}
WEBHOOK_SECRET = "whs_4f6c0e9a1b2d"
READS = (
    "token",
    "agent_me",
    "references",
    "clients",
    "sites",
    "users",
    "assets",
    "tickets",
    "actions",
    "contracts",
)
"""The recordings a reading test is served in replay mode."""

SPEC = VendorSpec(
    vendor="halopsa",
    recordings=Path(__file__).parent / "recordings",
    replay_base_url=CLOUD,
    replay_credentials=CREDENTIALS,
    replay_values={
        "token": "eyJhbGciOiJSUzI1NiIsImtpZCI6IkhBTE8ifQ.recorded",
        "webhook_secret": WEBHOOK_SECRET,
    },
    replay_now=RECORDED_AT,
    live_base_url="HALOPSA_BASE_URL",
    live_credentials={
        "client_id": "HALOPSA_CLIENT_ID",
        "client_secret": "HALOPSA_CLIENT_SECRET",
    },
    live_optional={"tenant": "HALOPSA_TENANT"},
    live_writes="HALOPSA_LIVE_WRITES",
)

vendor = vendor_fixture(SPEC)


def sync(vendor: ContractVendor, *recordings: str, **settings: Any) -> HaloSync:
    """The sync source, served ``recordings`` (the reading ones by default) in replay mode."""
    source = vendor.port(SyncSource, *(recordings or READS), **settings)
    assert isinstance(source, HaloSync)
    return source


def ticketing(vendor: ContractVendor, *recordings: str, **settings: Any) -> HaloTicketing:
    port = vendor.port(Ticketing, *recordings, **settings)
    assert isinstance(port, HaloTicketing)
    return port


def api_calls(vendor: ContractVendor) -> list[str]:
    """Every API request so far as ``METHOD /path?query`` (token requests left out)."""
    return [call for call in vendor.calls() if "/auth/token" not in call]


async def read_all(source: HaloSync, stream: str, cursor: str | None = None) -> list[SyncBatch]:
    return [batch async for batch in source.read(stream, cursor)]


def records(batches: list[SyncBatch]) -> list[Any]:
    return [record for batch in batches for record in batch.records]
