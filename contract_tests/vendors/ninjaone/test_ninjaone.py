"""NinjaOne RMM: the connector against recorded interactions, the sandbox and (opt-in) a tenant.

The ``live`` mode runs only when ``NINJAONE_BASE_URL`` (the instance, e.g.
``https://eu.ninjarmm.com``), ``NINJAONE_CLIENT_ID`` and ``NINJAONE_CLIENT_SECRET`` (an API
client with the client-credentials grant and the monitoring scope) are set; it runs the read
tests only — nothing is reset and no webhook is registered on a real tenant.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import falcon
import falcon.asgi
import httpx
import pytest
from attrs import define, field

from contract_tests.replay import Replay
from vectis.adapters.clock import SystemClock
from vectis.adapters.vendors._entry import Link
from vectis.adapters.vendors.ninjaone.entry import ENTRY
from vectis.adapters.vendors.ninjaone.gateway import NinjaOneSync
from vectis.application.errors import WebhookRejected
from vectis.application.ports import WebhookParser, WebhookSubscriptions
from vectis.domain.alerting import Alerting
from vectis.domain.errors import VendorRejected
from vectis.domain.events import EventKind, InboundEvent
from vectis.domain.integration import Credentials, Integration
from vectis.domain.records import (
    Alert,
    AvState,
    Device,
    PatchState,
    Severity,
    SkippedRecord,
    SyncBatch,
    VendorCompany,
    VendorSite,
)
from vectis_sandbox.ninjaone import NinjaOneState, base_url_for, create_app, seeded
from vectis_sandbox.ninjaone import simulate_activity as sandbox_activity
from vectis_sandbox.server import serve_app
from vectis_sandbox.world import World, build_world

RECORDINGS = Path(__file__).parent / "recordings"
CLOUD = "https://app.ninjarmm.com"
TOKEN = "eyJhbGciOiJSUzI1NiJ9.contract-token-1"
SECRET = "whsec-contract"
REPLAY_CREDENTIALS = {"client_id": "vectis-contract-client", "client_secret": "not-a-real-secret"}
SMALL_PAGES = {
    "replay": {"page_size": 3, "activity_page_size": 10},
    "sandbox": {"page_size": 3, "activity_page_size": 100},
    "live": {},
}
LIVE_ENV = ("NINJAONE_BASE_URL", "NINJAONE_CLIENT_ID", "NINJAONE_CLIENT_SECRET")


def recording(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((RECORDINGS / f"{name}.json").read_text())
    return loaded


class NoLimit:
    async def acquire(self) -> float:
        return 0.0


@define
class Vendor:
    """One way of reaching NinjaOne: recordings in-process, the sandbox, or a live tenant."""

    mode: str
    base_url: str
    credentials: dict[str, str]
    http: httpx.AsyncClient | None = None
    state: NinjaOneState | None = None
    world: World | None = None
    replay: Replay | None = None
    clients: list[httpx.AsyncClient] = field(factory=list)

    def link(self, *recordings: str, token: bool = True, **settings: Any) -> Link:
        """A gateway link; in replay mode served by the named recordings only."""
        http = self.http
        if self.mode == "replay":
            interactions = [recording("token")] if token else []
            for name in recordings:
                interactions.extend(recording(name)["interactions"])
            self.replay = Replay(interactions, values={"token": TOKEN})
            http = httpx.AsyncClient(transport=self.replay.transport())
            self.clients.append(http)
        assert http is not None
        defaults = SMALL_PAGES[self.mode]
        return Link(
            http=http,
            integration=Integration(
                id=uuid.uuid4(),
                tenant_id=uuid.uuid4(),
                vendor="ninjaone",
                name="NinjaOne",
                base_url=self.base_url,
                created_at=datetime.now(UTC),
                settings={**defaults, **settings},
            ),
            credentials=Credentials(values={**self.credentials, "webhook_secret": SECRET}),
            limit=NoLimit(),
            key_cache={},
            clock=SystemClock(),
        )

    def sync(self, *recordings: str, **settings: Any) -> NinjaOneSync:
        assert ENTRY.sync is not None
        source = ENTRY.sync(self.link(*recordings, **settings))
        assert isinstance(source, NinjaOneSync)
        return source

    def alerting(self, *recordings: str) -> Alerting:
        assert ENTRY.alerting is not None
        return ENTRY.alerting(self.link(*recordings))

    def subscriptions(self, *recordings: str) -> WebhookSubscriptions:
        assert ENTRY.subscriptions is not None
        return ENTRY.subscriptions(self.link(*recordings))

    def webhooks(self, **settings: Any) -> WebhookParser:
        assert ENTRY.webhooks is not None
        return ENTRY.webhooks(self.link(**settings))

    def api_calls(self) -> list[str]:
        """The API requests sent so far (not the token requests), as ``METHOD /path?query``."""
        if self.replay is not None:
            return [
                f"{sent.method} {sent.url.raw_path.decode()}"
                for sent in self.replay.sent
                if sent.url.path.startswith("/v2/")
            ]
        if self.state is not None:
            return [f"{m} {p}" for m, p in self.state.faults.requests if p.startswith("/v2/")]
        return []

    def token_requests(self) -> int:
        if self.replay is not None:
            return sum(sent.url.path == "/ws/oauth/token" for sent in self.replay.sent)
        assert self.state is not None
        return sum(path == "/ws/oauth/token" for _, path in self.state.faults.requests)

    def forget_requests(self) -> None:
        if self.replay is not None:
            self.replay.sent.clear()
        if self.state is not None:
            self.state.faults.requests.clear()


@pytest.fixture(params=["replay", "sandbox", "live"])
async def vendor(request: pytest.FixtureRequest) -> AsyncIterator[Vendor]:
    if request.param == "replay":
        found = Vendor(mode="replay", base_url=CLOUD, credentials=dict(REPLAY_CREDENTIALS))
        yield found
        for client in found.clients:
            await client.aclose()
        return
    if request.param == "live":
        if not all(os.environ.get(name) for name in LIVE_ENV):
            pytest.skip("set NINJAONE_BASE_URL, NINJAONE_CLIENT_ID, NINJAONE_CLIENT_SECRET")
        async with httpx.AsyncClient(timeout=30) as http:
            yield Vendor(
                mode="live",
                base_url=os.environ["NINJAONE_BASE_URL"],
                credentials={
                    "client_id": os.environ["NINJAONE_CLIENT_ID"],
                    "client_secret": os.environ["NINJAONE_CLIENT_SECRET"],
                },
                http=http,
            )
        return
    world = build_world()
    state = seeded(world)
    async with serve_app(create_app(state)) as url, httpx.AsyncClient() as http:
        state.base_url = base_url_for(url)
        yield Vendor(
            mode="sandbox",
            base_url=state.base_url,
            credentials=state.credentials,
            http=http,
            state=state,
            world=world,
        )
        for task in state.deliveries:
            task.cancel()


def writes_only_off_live(vendor: Vendor) -> None:
    if vendor.mode == "live":
        pytest.skip("never writes to a real tenant")


async def read_all(sync: NinjaOneSync, stream: str, cursor: str | None = None) -> list[SyncBatch]:
    return [batch async for batch in sync.read(stream, cursor)]


def records(batches: list[SyncBatch]) -> list[Any]:
    return [record for batch in batches for record in batch.records]


def skipped(batches: list[SyncBatch]) -> list[SkippedRecord]:
    return [skip for batch in batches for skip in batch.skipped]


async def test_check_authenticates_with_client_credentials_and_reuses_the_token(
    vendor: Vendor,
) -> None:
    sync = vendor.sync("check")

    label = await sync.check()
    await sync.check()

    assert label.startswith("NinjaOne ")
    if vendor.mode != "live":
        assert vendor.token_requests() == 1, "the token is cached until shortly before expiry"
    if vendor.replay is not None:
        assert label == "NinjaOne app.ninjarmm.com"
        assert vendor.replay.sent[1].headers["Authorization"] == f"Bearer {TOKEN}"


async def test_a_refused_cached_token_is_fetched_again_once(vendor: Vendor) -> None:
    writes_only_off_live(vendor)
    if vendor.mode == "replay":
        sync = vendor.sync("token_refresh", token=False)
        await sync.check()  # the first token works, then NinjaOne revokes it
        assert await sync.check() == "NinjaOne app.ninjarmm.com"
        assert vendor.token_requests() == 2
        assert vendor.api_calls() == ["GET /v2/organizations?pageSize=1"] * 3
        return
    assert vendor.state is not None
    sync = vendor.sync()
    await sync.check()
    vendor.state.tokens.clear()  # NinjaOne revoked every token early

    await sync.check()

    assert vendor.token_requests() == 2


async def test_bad_client_credentials_are_an_auth_failure(vendor: Vendor) -> None:
    if vendor.mode != "sandbox":
        pytest.skip("the sandbox checks the credentials")
    vendor.credentials = {**vendor.credentials, "client_secret": "wrong"}
    with pytest.raises(VendorRejected, match="refused the client credentials"):
        await vendor.sync().check()


async def test_organizations_map_to_vendor_companies(vendor: Vendor) -> None:
    batches = await read_all(vendor.sync("organizations"), "organizations")

    companies = records(batches)
    assert companies and all(isinstance(company, VendorCompany) for company in companies)
    assert batches[-1].cursor is not None
    if vendor.mode == "replay":
        assert companies == [
            VendorCompany(id="2", name="Country Consulting"),
            VendorCompany(id="3", name="Harbor Dental Group"),
        ]
        assert vendor.api_calls() == ["GET /v2/organizations?pageSize=3"]
    if vendor.world is not None and vendor.state is not None:
        expected = {
            vendor.state.company_ids[company.key]: company.name
            for company in vendor.world.companies
        }
        assert {company.id: company.name for company in companies} == expected
        assert len(vendor.api_calls()) == 2, "5 organisations at 3 a page"


async def test_locations_map_to_sites_and_one_without_organization_is_skipped(
    vendor: Vendor,
) -> None:
    batches = await read_all(vendor.sync("locations"), "locations")

    sites = records(batches)
    assert all(isinstance(site, VendorSite) for site in sites)
    if vendor.mode == "replay":
        assert sites == [
            VendorSite(id="2", company_id="2", name="Main Office"),
            VendorSite(id="5", company_id="3", name="Eastgate Clinic"),
        ]
        assert skipped(batches) == [
            SkippedRecord(
                stream="locations", reason="the location names no organization", vendor_id="6"
            )
        ]
        assert vendor.api_calls()[-1] == "GET /v2/locations?pageSize=3&after=6"
    if vendor.world is not None and vendor.state is not None:
        expected = {
            (vendor.state.company_ids[company.key], site.name)
            for company in vendor.world.companies
            for site in company.sites
        }
        assert {(site.company_id, site.name) for site in sites} == expected


async def test_devices_merge_patch_and_antivirus_state_across_pages(vendor: Vendor) -> None:
    sync = vendor.sync("locations", "devices")
    await read_all(sync, "locations")

    batches = await read_all(sync, "devices")

    devices = {device.id: device for device in records(batches)}
    assert devices and all(isinstance(device, Device) for device in devices.values())
    assert "devices" in sync.snapshots
    if vendor.mode == "replay":
        assert devices == {
            "7": Device(
                id="7",
                company_id="2",
                name="192.168.50.43",
                kind="virtualization_host",
                os="VMware ESXi 8.0.1 build-21813344",
                site="Main Office",
                online=True,
                last_seen_at=datetime(2025, 3, 19, 19, 31, 29, 92000, tzinfo=UTC),
                patch_state=PatchState.UP_TO_DATE,
                patches_pending=0,
                av_state=AvState.UNKNOWN,
                updated_at=datetime(2025, 3, 19, 19, 31, 29, 92000, tzinfo=UTC),
                url="https://app.ninjarmm.com/#/deviceDashboard/7/overview",
            ),
            "33": Device(
                id="33",
                company_id="2",
                name="CC-DC01",
                kind="server",
                os="Windows Server 2022 Standard Edition",
                site="Main Office",
                online=True,
                last_seen_at=datetime(2025, 3, 19, 19, 24, 12, 744000, tzinfo=UTC),
                patch_state=PatchState.PENDING,
                patches_pending=4,
                av_state=AvState.PROTECTED,
                updated_at=datetime(2025, 3, 19, 19, 24, 12, 744000, tzinfo=UTC),
                url="https://app.ninjarmm.com/#/deviceDashboard/33/overview",
            ),
            "63": Device(
                id="63",
                company_id="3",
                name="Reception iMac",
                kind="workstation",
                os="macOS Sonoma",
                site="Eastgate Clinic",
                online=False,
                last_seen_at=datetime(2025, 3, 18, 12, 13, 20, tzinfo=UTC),
                patch_state=PatchState.FAILED,
                patches_pending=2,
                av_state=AvState.OUTDATED,
                updated_at=datetime(2025, 3, 18, 12, 13, 20, tzinfo=UTC),
                url="https://app.ninjarmm.com/#/deviceDashboard/63/overview",
            ),
        }
        (bad,) = skipped(batches)
        assert bad.stream == "devices" and "id" in bad.reason and bad.vendor_id is None
        assert "GET /v2/devices-detailed?pageSize=3&after=33" in vendor.api_calls()
        assert "GET /v2/queries/device-health?pageSize=3&cursor=a1f0c3e2-health" in (
            vendor.api_calls()
        )
    if vendor.world is not None and vendor.state is not None:
        assert len(devices) == len(vendor.world.devices)
        for source in vendor.world.devices:
            device = devices[str(source.key)]
            assert device.company_id == vendor.state.company_ids[source.company]
            assert (device.name, device.os, device.site) == (source.name, source.os, source.site)
            assert device.online is source.online
            assert device.patches_pending == source.patches_pending
            expected = (
                PatchState.FAILED
                if source.patches_failed
                else PatchState.PENDING
                if source.patches_pending
                else PatchState.UP_TO_DATE
            )
            assert device.patch_state == expected
            if not source.av_enabled:
                assert device.av_state == AvState.DISABLED
        assert not skipped(batches)


async def test_alerts_are_a_snapshot_of_open_alerts_tied_to_the_device_organisation(
    vendor: Vendor,
) -> None:
    sync = vendor.sync("alerts", "device_list")

    batches = await read_all(sync, "alerts")

    alerts = records(batches)
    assert "alerts" in sync.snapshots
    assert all(isinstance(alert, Alert) for alert in alerts)
    if vendor.mode == "replay":
        first, second = alerts
        assert first == Alert(
            id="50edcf11-de92-4ecb-955b-c8066488b6cc",
            company_id="2",
            message=first.message,
            severity=Severity.UNKNOWN,
            raised_at=datetime(2024, 10, 31, 0, 1, 55, tzinfo=UTC),
            device_id="33",
            source="CONDITION_WINDOWS_EVENT_LOG_TRIGGERED",
            updated_at=datetime(2024, 10, 31, 0, 1, 55, tzinfo=UTC),
            url="https://app.ninjarmm.com/#/deviceDashboard/33/overview",
        )
        assert first.message.startswith("EventId: 41, EventTime: 2024-10-30T23:49:52Z")
        # /v2/alerts documents no severity: none is invented from the source.
        assert (second.company_id, second.severity) == ("3", Severity.UNKNOWN)
        (bad,) = skipped(batches)
        assert bad.vendor_id == "0d6a7c33-1111-4222-8333-944455556666"
        assert "createTime" in bad.reason
    if vendor.world is not None and vendor.state is not None:
        open_alerts = {alert.uid: alert for alert in vendor.world.alerts if alert.reset_at is None}
        assert {alert.id for alert in alerts} == set(open_alerts)
        for alert in alerts:
            source = open_alerts[alert.id]
            assert alert.company_id == vendor.state.company_ids[source.company]
            assert alert.device_id == str(source.device)
            assert alert.message == source.message


async def test_activities_become_alert_antivirus_and_per_organisation_patch_events(
    vendor: Vendor,
) -> None:
    sync = vendor.sync("activities", "device_list")

    batches = await read_all(sync, "activities")

    events: list[InboundEvent] = records(batches)
    assert all(isinstance(event, InboundEvent) for event in events)
    assert batches[-1].cursor is not None and batches[-1].cursor.isdigit()
    by_kind: dict[str, list[InboundEvent]] = {}
    for event in events:
        by_kind.setdefault(event.kind, []).append(event)
    if vendor.mode == "replay":
        assert batches[-1].cursor == "177240"
        (raised,) = by_kind[EventKind.ALERT_RAISED]
        assert raised.external_id == "alert.raised:e6b0b0bd-5753-445d-9e4a-71c08983cbd5"
        assert (raised.subject.type, raised.subject.id) == (
            "alert",
            "e6b0b0bd-5753-445d-9e4a-71c08983cbd5",
        )
        assert raised.title == "Alert raised on 192.168.50.43"
        assert raised.detail == "Memory Utilization is greater than or equal to 80% for 5 minutes"
        assert raised.company_ref == "2" and raised.payload["severity"] == Severity.HIGH
        assert raised.occurred_at == datetime(2025, 3, 19, 13, 41, 15, 556000, tzinfo=UTC)
        (reset,) = by_kind[EventKind.ALERT_RESET]
        assert reset.external_id == "alert.reset:e6b0b0bd-5753-445d-9e4a-71c08983cbd5"
        (definitions,) = by_kind[EventKind.AV_DEFINITIONS_UPDATED]
        assert definitions.external_id == "av.definitions_updated:33:177240"
        assert (definitions.company_ref, definitions.title) == (
            "2",
            "Antivirus definitions updated on CC-DC01",
        )
        cycles = {event.company_ref: event for event in by_kind[EventKind.PATCH_CYCLE_COMPLETED]}
        assert cycles["2"].detail == "2 of 2 devices · 0 failures"
        assert cycles["2"].external_id == "patch.cycle_completed:2:2025-03-20:177234"
        assert cycles["2"].occurred_at == datetime(2025, 3, 20, 2, 14, 31, tzinfo=UTC)
        assert cycles["3"].detail == "0 of 1 devices · 1 failure"
        (bad,) = skipped(batches)
        assert bad.vendor_id == "177232" and "activityTime" in bad.reason
    if vendor.world is not None and vendor.state is not None:
        world, ids = vendor.world, vendor.state.company_ids
        assert batches[-1].cursor == str(vendor.state.activities[-1]["id"])
        assert len(by_kind[EventKind.ALERT_RAISED]) == len(world.alerts)
        resolved = [alert for alert in world.alerts if alert.reset_at is not None]
        assert len(by_kind[EventKind.ALERT_RESET]) == len(resolved)
        assert len(by_kind[EventKind.AV_DEFINITIONS_UPDATED]) == len(world.devices)
        seen = {
            (event.company_ref, event.payload["day"]): event.detail
            for event in by_kind[EventKind.PATCH_CYCLE_COMPLETED]
        }
        expected = {
            (ids[run.company], run.ran_at.date().isoformat()): (
                f"{run.installed} of {run.devices} devices · "
                f"{run.failed} failure{'' if run.failed == 1 else 's'}"
            )
            for run in world.patch_runs
        }
        assert seen == expected


async def test_an_up_to_date_activity_cursor_costs_one_request(vendor: Vendor) -> None:
    sync = vendor.sync("activities", "device_list")
    first = await read_all(sync, "activities")
    cursor = first[-1].cursor
    vendor.forget_requests()

    again = await read_all(sync, "activities", cursor)

    assert records(again) == [] and again[-1].cursor == cursor
    if vendor.mode != "live":
        size = SMALL_PAGES[vendor.mode]["activity_page_size"]
        assert vendor.api_calls() == [
            f"GET /v2/activities?class=DEVICE&pageSize={size}&newerThan={cursor}"
        ]


async def test_an_activity_after_the_cursor_is_read_as_one_new_event(vendor: Vendor) -> None:
    if vendor.mode != "sandbox":
        pytest.skip("needs a tenant that changes")
    assert vendor.state is not None
    sync = vendor.sync()
    cursor = (await read_all(sync, "activities"))[-1].cursor

    sandbox_activity(vendor.state, random.Random(3))
    batches = await read_all(sync, "activities", cursor)

    (event,) = records(batches)
    assert event.kind == EventKind.ALERT_RAISED
    assert batches[-1].cursor == str(vendor.state.activities[-1]["id"])
    assert set(vendor.state.alerts) >= {event.subject.id}


async def test_reading_an_unknown_stream_is_refused(vendor: Vendor) -> None:
    with pytest.raises(VendorRejected, match="no stream"):
        await read_all(vendor.sync(), "tickets")


async def test_resetting_an_alert_posts_reset_and_an_alert_already_gone_is_done(
    vendor: Vendor,
) -> None:
    writes_only_off_live(vendor)
    uid = "50edcf11-de92-4ecb-955b-c8066488b6cc"
    if vendor.state is not None:
        uid = next(iter(vendor.state.alerts))
    alerts = vendor.alerting("reset_alert")

    await alerts.reset_alert(uid, idempotency_key="writeback-7f3c")
    await alerts.reset_alert(uid, idempotency_key="writeback-7f3c")

    assert vendor.api_calls() == [f"POST /v2/alert/{uid}/reset"] * 2
    if vendor.state is not None:
        assert uid not in vendor.state.alerts
        reset = vendor.state.activities[-1]
        assert (reset["statusCode"], reset["seriesUid"]) == ("RESET", uid)
        assert reset["data"]["idempotencyKey"] == "writeback-7f3c"


async def test_subscribing_puts_one_webhook_carrying_the_secret_header(vendor: Vendor) -> None:
    writes_only_off_live(vendor)
    subscriptions = vendor.subscriptions("subscribe_webhook")

    subscription = await subscriptions.ensure_subscribed("https://vectis.example/webhooks/5d1e")

    assert subscription == vendor.credentials["client_id"]
    assert vendor.api_calls() == ["PUT /v2/webhook"]
    if vendor.state is not None:
        assert vendor.state.webhook is not None
        assert vendor.state.webhook["url"] == "https://vectis.example/webhooks/5d1e"
        assert vendor.state.webhook["headers"] == [
            {"name": "X-Vectis-Webhook-Secret", "value": SECRET}
        ]


async def test_the_sandbox_delivers_new_alerts_with_the_header_the_parser_accepts() -> None:
    world = build_world()
    state = seeded(world)
    received: list[tuple[dict[str, str], bytes]] = []
    arrived = asyncio.Event()

    class Receiver:
        async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
            headers = {name.lower(): value for name, value in req.headers.items()}
            received.append((headers, await req.stream.read()))
            arrived.set()

    receiver = falcon.asgi.App()
    receiver.add_route("/hook", Receiver())
    async with (
        serve_app(create_app(state)) as url,
        serve_app(receiver) as hook_url,
        httpx.AsyncClient() as http,
    ):
        state.base_url = base_url_for(url)
        vendor = Vendor(mode="sandbox", base_url=url, credentials=state.credentials, http=http)
        await vendor.subscriptions().ensure_subscribed(f"{hook_url}/hook")
        sandbox_activity(state, random.Random(5))
        await asyncio.wait_for(arrived.wait(), timeout=5)
        webhooks = vendor.webhooks()
        headers, body = received[0]
        (event,) = await webhooks.parse(headers, body, datetime.now(UTC))
        forged = {**headers, "x-vectis-webhook-secret": "forged"}
        with pytest.raises(WebhookRejected):
            await webhooks.parse(forged, body, datetime.now(UTC))

    device = state.devices[json.loads(body)["deviceId"]]
    assert event.kind == EventKind.ALERT_RAISED
    assert event.company_ref == str(device["organizationId"])
    assert event.subject.id in state.alerts


def parser(**settings: Any) -> WebhookParser:
    return Vendor(mode="replay", base_url=CLOUD, credentials=dict(REPLAY_CREDENTIALS)).webhooks(
        **settings
    )


async def test_an_authenticated_condition_delivery_becomes_an_alert_raised_event() -> None:
    delivery = recording("webhook_condition_triggered")
    body = json.dumps(delivery["body"]).encode()
    received = datetime(2025, 3, 19, 13, 41, 20, tzinfo=UTC)

    (event,) = await parser().parse(delivery["headers"], body, received)

    assert event.kind == EventKind.ALERT_RAISED
    assert event.external_id == "alert.raised:e6b0b0bd-5753-445d-9e4a-71c08983cbd5"
    assert event.company_ref == "2"
    assert event.title == "Alert raised on 192.168.50.43"
    assert event.payload["severity"] == Severity.HIGH


@pytest.mark.parametrize(
    "headers",
    [{}, {"x-vectis-webhook-secret": "whsec-guess"}, {"x-vectis-webhook-secret": ""}],
)
async def test_a_delivery_without_the_secret_header_is_refused(headers: dict[str, str]) -> None:
    body = json.dumps(recording("webhook_condition_triggered")["body"]).encode()
    with pytest.raises(WebhookRejected, match="X-Vectis-Webhook-Secret") as refused:
        await parser().parse(headers, body, datetime(2025, 3, 19, 13, 42, tzinfo=UTC))
    assert refused.value.malformed is False


async def test_a_stale_delivery_is_refused() -> None:
    delivery = recording("webhook_condition_triggered")
    body = json.dumps(delivery["body"]).encode()
    late = datetime(2025, 3, 19, 13, 41, 15, tzinfo=UTC) + timedelta(minutes=16)

    with pytest.raises(WebhookRejected, match="stale"):
        await parser().parse(delivery["headers"], body, late)
    (event,) = await parser(webhook_max_age_seconds=3600).parse(delivery["headers"], body, late)
    assert event.kind == EventKind.ALERT_RAISED


@pytest.mark.parametrize("ahead", [timedelta(minutes=6), timedelta(days=30)])
async def test_a_delivery_dated_ahead_of_our_clock_is_refused(ahead: timedelta) -> None:
    delivery = recording("webhook_condition_triggered")
    body = json.dumps(delivery["body"]).encode()
    early = datetime(2025, 3, 19, 13, 41, 15, tzinfo=UTC) - ahead

    with pytest.raises(WebhookRejected, match="in the future") as refused:
        await parser().parse(delivery["headers"], body, early)
    assert refused.value.malformed is False
    nearly = datetime(2025, 3, 19, 13, 41, 15, tzinfo=UTC) - timedelta(minutes=2)
    (event,) = await parser().parse(delivery["headers"], body, nearly)
    assert event.kind == EventKind.ALERT_RAISED, "a little clock drift is not the future"


@pytest.mark.parametrize(
    "activity_time", [1e30, -1e30, 253402300800, 2**80, "1e30", "NaN", "soon", None, []]
)
async def test_a_delivery_whose_time_no_calendar_holds_is_malformed(activity_time: Any) -> None:
    delivery = recording("webhook_condition_triggered")
    body = json.dumps({**delivery["body"], "activityTime": activity_time}).encode()

    with pytest.raises(WebhookRejected) as refused:
        await parser().parse(delivery["headers"], body, datetime(2025, 3, 19, 13, 42, tzinfo=UTC))
    assert refused.value.malformed is True


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[]",
        b'{"activityTime": 1742391675.5}',
        b"\xff\xfe\x00",
        b"[" * 100_000 + b"]" * 100_000,
        b'{"id": 1, "activityTime": NaN}',
        b'{"id": "one", "activityTime": 1742391675.5}',
    ],
)
async def test_a_malformed_delivery_is_refused_as_malformed(body: bytes) -> None:
    headers = {"X-Vectis-Webhook-Secret": SECRET}
    with pytest.raises(WebhookRejected) as refused:
        await parser().parse(headers, body, datetime(2025, 3, 19, 13, 42, tzinfo=UTC))
    assert refused.value.malformed is True


async def test_a_per_device_patch_delivery_carries_no_event() -> None:
    delivery = recording("webhook_condition_triggered")
    patch = {
        **delivery["body"],
        "activityType": "PATCH_MANAGEMENT",
        "statusCode": "PATCH_MANAGEMENT_APPLY_PATCH_COMPLETED",
        "activityResult": "SUCCESS",
    }
    body = json.dumps(patch).encode()

    events = await parser().parse(
        delivery["headers"], body, datetime(2025, 3, 19, 13, 42, tzinfo=UTC)
    )

    assert events == []
