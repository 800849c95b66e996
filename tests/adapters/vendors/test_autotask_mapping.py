"""Autotask's anti-corruption layer and sync cursor, without HTTP recordings."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import cattrs
import httpx
import pytest

from vectis.adapters.vendors.autotask import mapping, wire
from vectis.adapters.vendors.autotask.client import AutotaskClient
from vectis.adapters.vendors.autotask.settings import AutotaskAccount, AutotaskSettings
from vectis.adapters.vendors.autotask.sync import AutotaskSync
from vectis.domain.errors import InvalidValue, VendorRejected
from vectis.domain.events import EventKind

ZONE = "https://webservices5.autotask.net/atservicesrest"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2019-09-23T11:00:00.000Z", datetime(2019, 9, 23, 11, tzinfo=UTC)),
        ("2018-01-23T11:00:00.00Z", datetime(2018, 1, 23, 11, tzinfo=UTC)),
        ("2019-09-23T11:00:00.1234567Z", datetime(2019, 9, 23, 11, 0, 0, 123456, tzinfo=UTC)),
        ("2019-09-23T11:00:00", datetime(2019, 9, 23, 11, tzinfo=UTC)),
        ("2019-09-23T13:00:00+02:00", datetime(2019, 9, 23, 11, tzinfo=UTC)),
    ],
)
def test_autotask_times_are_read_as_utc(raw: str, expected: datetime) -> None:
    assert mapping.parse_time(raw) == expected


def test_a_time_that_is_not_one_is_an_invalid_value() -> None:
    with pytest.raises(InvalidValue):
        mapping.parse_time("yesterday")


def test_a_null_required_text_does_not_become_the_word_none() -> None:
    with pytest.raises(cattrs.BaseValidationError):
        wire.structure({"id": 1, "companyName": None}, wire.Company)


def _delivery(action: str, entity: str = "Ticket", **fields: Any) -> wire.WebhookDelivery:
    return wire.WebhookDelivery(
        Action=action, EntityType=entity, Id=7, EventTime="2025-09-15T14:57:50Z", Fields=fields
    )


def test_a_deleted_ticket_is_a_deleted_event_and_other_entities_are_dropped() -> None:
    (deleted,) = mapping.webhook_events(_delivery("Delete"), frozenset({"5"}))
    assert (deleted.kind, deleted.title) == (EventKind.TICKET_DELETED, "Ticket #7 deleted")
    assert deleted.external_id == "ticket.deleted:7", "keyed as the sync keys a deletion"
    assert mapping.webhook_events(_delivery("Create", entity="Company"), frozenset({"5"})) == []
    (updated,) = mapping.webhook_events(_delivery("Update", Status=8), frozenset({"5"}))
    assert updated.kind == EventKind.TICKET_UPDATED


def _page(items: list[dict[str, Any]], date: str) -> httpx.Response:
    body = {"items": items, "pageDetails": {"count": len(items), "nextPageUrl": None}}
    return httpx.Response(200, json=body, headers={"Date": date})


async def test_the_cursor_never_passes_the_servers_clock_at_the_start_of_the_read() -> None:
    # A record changed while the read was under way carries a time after the first response;
    # the next sync must start no later than that first response, or it would miss changes
    # to records on pages already read.
    company = {
        "id": 174,
        "companyName": "Autotask Corporation",
        "lastTrackedModifiedDateTime": "2019-10-01T08:00:30.000Z",
    }

    def serve(request: httpx.Request) -> httpx.Response:
        return _page([company], "Tue, 01 Oct 2019 08:00:10 GMT")

    async with httpx.AsyncClient(transport=httpx.MockTransport(serve)) as http:
        account = AutotaskAccount(base_url=ZONE, username="u", secret="s", integration_code="c")
        sync = AutotaskSync(AutotaskClient(http, account), AutotaskSettings())
        batches = [batch async for batch in sync.read("companies", "2019-09-01T00:00:00.000Z")]

    assert batches[-1].cursor == "2019-10-01T08:00:09.000Z"


@pytest.mark.parametrize(
    ("next_url", "reason"),
    [
        ("https://attacker.example/next", "not a host of this integration"),
        ("http://webservices5.autotask.net/atservicesrest/v1.0/next", "not a host of this"),
        ("https://webservices5.autotask.net:8443/atservicesrest/v1.0/next", "not a host of this"),
        ("https://webservices6.autotask.net/atservicesrest/v1.0/next", "not a host of this"),
        ("https://webservices5.autotask.net\t.attacker.example/next", "malformed"),
        ("https://webservices5.autotask.net@attacker.example/next", "malformed"),
    ],
)
async def test_a_next_page_off_the_pages_own_origin_is_never_called(
    next_url: str, reason: str
) -> None:
    sent: list[httpx.Request] = []

    def serve(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        body = {"items": [], "pageDetails": {"nextPageUrl": next_url}}
        return httpx.Response(200, json=body)

    async with httpx.AsyncClient(transport=httpx.MockTransport(serve)) as http:
        account = AutotaskAccount(base_url=ZONE, username="u", secret="s", integration_code="c")
        sync = AutotaskSync(AutotaskClient(http, account), AutotaskSettings())
        with pytest.raises(VendorRejected, match=reason):
            _ = [batch async for batch in sync.read("tickets", None)]

    assert [request.url.host for request in sent] == ["webservices5.autotask.net"]


@pytest.mark.parametrize(
    ("zone_url", "reason"),
    [
        ("https://attacker.example/atservicesrest", "zone URL points at https://attacker"),
        ("http://webservices5.autotask.net/atservicesrest", "not a host of this integration"),
        ("https://autotask.net.attacker.example/atservicesrest", "not a host of this"),
        ("https://webservices5.autotask.net:8443/atservicesrest", "not a host of this"),
        ("https://169.254.169.254/latest/meta-data", "not a host of this integration"),
        ("https://webservices5.autotask.net\n/atservicesrest", "malformed"),
        ("https://webservices5.autotask.net\\@attacker.example/", "malformed"),
    ],
)
async def test_a_discovered_zone_off_autotasks_domain_never_gets_the_credentials(
    zone_url: str, reason: str
) -> None:
    sent: list[httpx.Request] = []

    def serve(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"url": zone_url, "webUrl": ""})

    async with httpx.AsyncClient(transport=httpx.MockTransport(serve)) as http:
        account = AutotaskAccount(base_url="", username="u", secret="s", integration_code="c")
        with pytest.raises(VendorRejected, match=reason):
            await AutotaskClient(http, account).get("Companies/0")

    assert [request.url.path for request in sent] == ["/atservicesrest/v1.0/zoneInformation"]
    assert "Secret" not in sent[0].headers


@pytest.mark.parametrize(
    ("lookup", "zone_url"),
    [
        ("https://webservices.autotask.net/atservicesrest", f"{ZONE}/"),
        ("https://webservices.autotask.net/atservicesrest", "https://webservices14.autotask.net/x"),
        ("http://127.0.0.1:8123/atservicesrest", "http://127.0.0.1:8123/atservicesrest/"),
    ],
)
async def test_a_zone_on_autotasks_domain_or_the_lookups_own_host_is_called(
    lookup: str, zone_url: str
) -> None:
    sent: list[httpx.Request] = []

    def serve(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        if request.url.path.endswith("zoneInformation"):
            return httpx.Response(200, json={"url": zone_url})
        return httpx.Response(200, json={"item": {"id": 0}})

    async with httpx.AsyncClient(transport=httpx.MockTransport(serve)) as http:
        account = AutotaskAccount(base_url="", username="u", secret="s", integration_code="c")
        client = AutotaskClient(http, account, AutotaskSettings(zone_lookup_url=lookup))
        await client.get("Companies/0")

    assert str(sent[1].url) == zone_url.rstrip("/") + "/v1.0/Companies/0"
    assert sent[1].headers["Secret"] == "s"
