"""ConnectWise Manage on the contract harness: the ``vendor`` fixture and what each mode holds.

Live mode runs only when CONNECTWISE_BASE_URL, CONNECTWISE_COMPANY_ID, CONNECTWISE_PUBLIC_KEY,
CONNECTWISE_PRIVATE_KEY and CONNECTWISE_CLIENT_ID are set (e.g. CONNECTWISE_BASE_URL
https://api-na.myconnectwise.net/v4_6_release); it reads from a day back, and writes only with
CONNECTWISE_LIVE_WRITES=1, opening scratch tickets for company CONNECTWISE_LIVE_COMPANY on
board CONNECTWISE_LIVE_BOARD (both ConnectWise record ids).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from contract_tests.harness import ContractVendor, Recordings, VendorSpec, vendor_fixture
from contract_tests.vendors.connectwise.expected import Expected, replayed, sandboxed
from vectis.adapters.vendors.connectwise.settings import ConnectWiseAccount
from vectis.domain.records import SkippedRecord, SyncedRecord
from vectis.domain.sync import SyncSource

RECORDINGS = Path(__file__).parent / "recordings"
CLOUD = "https://api-na.myconnectwise.net/v4_6_release"
CREDENTIALS = {
    "company_id": "harborpoint",
    "public_key": "pub",
    "private_key": "priv",
    "client_id": "0b6d7b8a-4a4e-4f1e-9f5a-7c1f0a1b2c3d",
}
READS = (
    "system_info",
    "references",
    "companies",
    "sites",
    "contacts",
    "tickets",
    "notes",
    "agreements",
    "configurations",
)
"""The recordings of every stream, served together to any read."""
WRITES = ("create_ticket", "update_ticket", "add_note", "add_note_ticket_missing")

SPEC = VendorSpec(
    vendor="connectwise",
    recordings=RECORDINGS,
    replay_base_url=CLOUD,
    replay_credentials=CREDENTIALS,
    replay_now=datetime(2026, 11, 27, 10, 30, tzinfo=UTC),
    sandbox_settings={"page_size": 100},
    live_base_url="CONNECTWISE_BASE_URL",
    live_credentials={
        "company_id": "CONNECTWISE_COMPANY_ID",
        "public_key": "CONNECTWISE_PUBLIC_KEY",
        "private_key": "CONNECTWISE_PRIVATE_KEY",
        "client_id": "CONNECTWISE_CLIENT_ID",
    },
    live_writes="CONNECTWISE_LIVE_WRITES",
)
REPLAY_ACCOUNT = ConnectWiseAccount(base_url=CLOUD, **CREDENTIALS)

vendor = vendor_fixture(SPEC)

Read = tuple[list[SyncedRecord], list[SkippedRecord], str | None]


def expected(vendor: ContractVendor) -> Expected | None:
    """What the test should find: in the recordings, in the sandbox's world, or (live) unknown."""
    if vendor.mode == "replay":
        return replayed()
    if vendor.mode == "sandbox":
        return sandboxed(vendor.state, vendor.world)
    return None


def page_size(vendor: ContractVendor) -> int:
    return int(vendor.settings.get("page_size", 1000))


def recording(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = Recordings(RECORDINGS).load(name)
    return loaded


def sync(vendor: ContractVendor, **settings: Any) -> SyncSource:
    return vendor.port(SyncSource, *READS, **settings)


async def read(vendor: ContractVendor, stream: str, cursor: str | None = None) -> Read:
    """Every batch of one stream: records, skipped records and the last cursor given."""
    if cursor is None and vendor.mode == "live":
        cursor = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    records: list[SyncedRecord] = []
    skipped: list[SkippedRecord] = []
    last = None
    async for batch in sync(vendor).read(stream, cursor):
        records.extend(batch.records)
        skipped.extend(batch.skipped)
        last = batch.cursor or last
    return records, skipped, last
