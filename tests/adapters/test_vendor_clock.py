"""Connectors read the time from the ``Clock`` they are given, never from the wall clock."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.factories import FrozenClock
from vectis.adapters.vendors._entry import Link, VendorEntry
from vectis.adapters.vendors._http.transport import UNPACED, RetryPolicy, VendorTransport
from vectis.adapters.vendors.autotask import mapping as autotask_mapping
from vectis.adapters.vendors.autotask.entry import ENTRY as AUTOTASK
from vectis.adapters.vendors.halopsa.entry import ENTRY as HALOPSA
from vectis.adapters.vendors.ninjaone.entry import ENTRY as NINJAONE
from vectis.domain.errors import VendorRateLimited
from vectis.domain.integration import Credentials, Integration
from vectis.domain.sync import SyncSource
from vectis.domain.ticketing import Ticketing

THEN = datetime(2021, 3, 4, 5, 6, 7, tzinfo=UTC)
"""Long past: a connector that read the wall clock would be years off."""

Answer = Callable[[httpx.Request], Any]


def _link(
    entry_vendor: str, base_url: str, credentials: dict[str, str], answer: Answer
) -> tuple[Link, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/token"):
            return httpx.Response(
                200, json={"access_token": "t", "token_type": "Bearer", "expires_in": 3600}
            )
        return httpx.Response(200, json=answer(request))

    integration = Integration(
        id=uuid.uuid4(),
        tenant_id=uuid.uuid4(),
        vendor=entry_vendor,
        name=entry_vendor,
        base_url=base_url,
        created_at=THEN,
    )
    link = Link(
        http=httpx.AsyncClient(transport=httpx.MockTransport(handle)),
        integration=integration,
        credentials=Credentials(values=credentials),
        limit=UNPACED,
        key_cache={},
        clock=FrozenClock(THEN),
    )
    return link, seen


def _sync(entry: VendorEntry, link: Link) -> Any:
    return entry.build(SyncSource, link)


async def test_a_retry_after_date_is_read_against_the_clock() -> None:
    later = (THEN + timedelta(seconds=30)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    http = httpx.AsyncClient(
        transport=httpx.MockTransport(
            lambda request: httpx.Response(429, headers={"Retry-After": later})
        )
    )
    transport = VendorTransport(
        http, vendor="Vendor", retry=RetryPolicy(attempts=1), clock=FrozenClock(THEN)
    )

    with pytest.raises(VendorRateLimited) as raised:
        await transport.request("GET", "https://vendor.example/api")

    assert raised.value.retry_after == timedelta(seconds=30)


async def test_a_ninjaone_snapshot_records_when_the_clock_says_it_was_read() -> None:
    credentials = {"client_id": "c", "client_secret": "s"}
    link, _ = _link("ninjaone", "https://eu.ninjarmm.com", credentials, lambda request: [])

    batches = [batch async for batch in _sync(NINJAONE, link).read("organizations", None)]

    assert batches[-1].cursor == THEN.isoformat(timespec="seconds")


async def test_halopsa_reads_its_first_notes_from_a_history_counted_back_from_the_clock() -> None:
    def ticket(ticket_id: int, days_ago: int) -> dict[str, Any]:
        changed = (THEN - timedelta(days=days_ago)).isoformat()
        return {"id": ticket_id, "last_update": changed, "dateoccurred": changed}

    def answer(request: httpx.Request) -> Any:
        if request.url.path.endswith("/Tickets"):
            return {"tickets": [ticket(2, 89), ticket(1, 91)]}
        return {"actions": []}

    credentials = {"client_id": "c", "client_secret": "s"}
    link, seen = _link("halopsa", "https://halo.example", credentials, answer)

    _ = [batch async for batch in _sync(HALOPSA, link).read("notes", None)]

    asked = [r.url.params["ticket_id"] for r in seen if r.url.path.endswith("/Actions")]
    assert asked == ["2"], "only the ticket changed within 90 days of the clock's now"


async def test_halopsa_finds_a_note_it_added_minutes_ago_by_the_clock() -> None:
    earlier = {
        "id": 7,
        "ticket_id": 12,
        "note": "Replaced the toner",
        "who_agentid": 3,
        "datetime": (THEN - timedelta(minutes=5)).isoformat(),
        "hiddenfromuser": True,
    }
    credentials = {"client_id": "c", "client_secret": "s"}
    link, seen = _link(
        "halopsa", "https://halo.example", credentials, lambda request: {"actions": [earlier]}
    )
    note = await HALOPSA.build(Ticketing, link).add_note(
        "12", "Replaced the toner", internal=True, idempotency_key="k1"
    )

    assert note.id.endswith("7")
    posted = [r for r in seen if r.method == "POST" and not r.url.path.endswith("/token")]
    assert not posted, "no second note is posted"


async def test_autotask_reads_the_contract_units_current_by_the_clock() -> None:
    credentials = {"username": "u", "secret": "s", "integration_code": "i"}
    link, seen = _link(
        "autotask",
        "https://webservices5.autotask.net/ATServicesRest",
        credentials,
        lambda request: {"items": [], "pageDetails": {"count": 0, "nextPageUrl": None}},
    )

    _ = [batch async for batch in _sync(AUTOTASK, link).read("contracts", None)]

    units = [r for r in seen if "ContractServiceUnits" in r.url.path]
    assert units, "the current units are queried"
    now = autotask_mapping.format_time(THEN)
    filters = json.loads(units[0].url.params["search"])["filter"]
    assert {"op": "lte", "field": "startDate", "value": now} in filters
