"""NinjaOne's ``vendor`` fixture (replay, sandbox, live) and the helpers its tests share.

Live mode runs when ``NINJAONE_BASE_URL`` (the instance, e.g. ``https://eu.ninjarmm.com``),
``NINJAONE_CLIENT_ID`` and ``NINJAONE_CLIENT_SECRET`` (an API client with the
client-credentials grant and the monitoring scope) are set; it runs the read tests only —
nothing is reset and no webhook is registered on a real tenant.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx

from contract_tests.harness import ContractVendor, VendorSpec, vendor_fixture
from vectis.adapters.clock import SystemClock
from vectis.adapters.vendors._entry import Link, SyncSource
from vectis.adapters.vendors._http.transport import UNPACED
from vectis.adapters.vendors.ninjaone.entry import ENTRY
from vectis.adapters.vendors.ninjaone.sync import NinjaOneSync
from vectis.application.ports import WebhookParser
from vectis.domain.integration import WEBHOOK_SECRET, Credentials, Integration
from vectis.domain.records import SkippedRecord, SyncBatch

P = TypeVar("P")
RECORDINGS = Path(__file__).parent / "recordings"
CLOUD = "https://app.ninjarmm.com"
TOKEN = "eyJhbGciOiJSUzI1NiJ9.contract-token-1"
SECRET = "whsec-contract"
ACTIVITY_PAGE = {"replay": 10, "sandbox": 100}

SPEC = VendorSpec(
    vendor="ninjaone",
    recordings=RECORDINGS,
    replay_base_url=CLOUD,
    replay_credentials={
        "client_id": "vectis-contract-client",
        "client_secret": "not-a-real-secret",
    },
    replay_values={"token": TOKEN},
    replay_settings={"page_size": 3, "activity_page_size": ACTIVITY_PAGE["replay"]},
    sandbox_settings={"page_size": 3, "activity_page_size": ACTIVITY_PAGE["sandbox"]},
    live_base_url="NINJAONE_BASE_URL",
    live_credentials={
        "client_id": "NINJAONE_CLIENT_ID",
        "client_secret": "NINJAONE_CLIENT_SECRET",
    },
)

vendor = vendor_fixture(SPEC)


def port(
    vendor: ContractVendor, kind: type[P], *recordings: str, token: bool = True, **settings: Any
) -> P:
    """A port built by the registry entry, with the integration's webhook secret; in replay
    mode the token recording is served first unless ``token`` is false."""
    served = ("token", *recordings) if token and vendor.mode == "replay" else recordings
    credentials = {**vendor.credentials, WEBHOOK_SECRET: SECRET}
    return ENTRY.build(kind, vendor.link(*served, credentials=credentials, **settings))


def sync(vendor: ContractVendor, *recordings: str, **settings: Any) -> NinjaOneSync:
    source = port(vendor, SyncSource, *recordings, **settings)
    assert isinstance(source, NinjaOneSync)
    return source


def parser(**settings: Any) -> WebhookParser:
    """The webhook parser of a replay integration (parsing makes no calls)."""
    link = Link(
        http=httpx.AsyncClient(transport=httpx.MockTransport(_no_calls)),
        integration=Integration(
            id=uuid.uuid4(),
            tenant_id=uuid.uuid4(),
            vendor="ninjaone",
            name="NinjaOne",
            base_url=CLOUD,
            created_at=datetime.now(UTC),
            settings=settings,
        ),
        credentials=Credentials(values={**SPEC.replay_credentials, WEBHOOK_SECRET: SECRET}),
        limit=UNPACED,
        key_cache={},
        clock=SystemClock(),
    )
    return ENTRY.build(WebhookParser, link)


def api_calls(vendor: ContractVendor) -> list[str]:
    """The API requests sent so far (not the token requests), as ``METHOD /path?query``."""
    return [call for call in vendor.calls() if call.split(" ", 1)[1].startswith("/v2/")]


def token_requests(vendor: ContractVendor) -> int:
    return len(vendor.requests("POST", "/ws/oauth/token"))


def recording(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((RECORDINGS / f"{name}.json").read_text())
    return loaded


async def read_all(source: NinjaOneSync, stream: str, cursor: str | None = None) -> list[SyncBatch]:
    return [batch async for batch in source.read(stream, cursor)]


def records(batches: list[SyncBatch]) -> list[Any]:
    return [record for batch in batches for record in batch.records]


def skipped(batches: list[SyncBatch]) -> list[SkippedRecord]:
    return [skip for batch in batches for skip in batch.skipped]


def _no_calls(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"the parser called {request.url}")
