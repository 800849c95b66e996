"""NinjaOne RMM: the connector against recorded interactions, the sandbox and (opt-in) a tenant.

The fixture and helpers are in ``conftest.py``; live mode runs the read tests only.
"""

from __future__ import annotations

import asyncio
import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import falcon
import falcon.asgi
import pytest

from contract_tests.harness import ContractVendor
from contract_tests.vendors.ninjaone.conftest import (
    ACTIVITY_PAGE,
    SECRET,
    TOKEN,
    api_calls,
    parser,
    port,
    read_all,
    recording,
    records,
    skipped,
    sync,
    token_requests,
)
from vectis.adapters.vendors.ninjaone import mapping
from vectis.application.errors import WebhookRejected
from vectis.application.ports import WebhookSubscriptions
from vectis.domain.alerting import Alerting
from vectis.domain.changes import StoredDevice, device_events
from vectis.domain.errors import VendorRejected
from vectis.domain.events import EventKind, InboundEvent
from vectis.domain.records import (
    Alert,
    AvState,
    Device,
    PatchState,
    Severity,
    SkippedRecord,
    VendorCompany,
    VendorSite,
)
from vectis_sandbox.ninjaone import simulate_activity as sandbox_activity
from vectis_sandbox.server import serve_app


async def test_check_authenticates_with_client_credentials_and_reuses_the_token(
    vendor: ContractVendor,
) -> None:
    source = sync(vendor, "check")

    label = await source.check()
    await source.check()

    assert label.startswith("NinjaOne ")
    if vendor.mode != "live":
        assert token_requests(vendor) == 1, "the token is cached until shortly before expiry"
    if vendor.mode == "replay":
        assert label == "NinjaOne app.ninjarmm.com"
        assert vendor.sent[1].headers["Authorization"] == f"Bearer {TOKEN}"


async def test_a_refused_cached_token_is_fetched_again_once(vendor: ContractVendor) -> None:
    vendor.may_write()
    if vendor.mode == "replay":
        source = sync(vendor, "token_refresh", token=False)
        await source.check()  # the first token works, then NinjaOne revokes it
        assert await source.check() == "NinjaOne app.ninjarmm.com"
        assert token_requests(vendor) == 2
        assert api_calls(vendor) == ["GET /v2/organizations?pageSize=1"] * 3
        return
    source = sync(vendor)
    await source.check()
    vendor.state.tokens.clear()  # NinjaOne revoked every token early

    await source.check()

    assert token_requests(vendor) == 2


async def test_bad_client_credentials_are_an_auth_failure(vendor: ContractVendor) -> None:
    vendor.only("sandbox")  # the sandbox checks the credentials
    vendor.credentials = {**vendor.credentials, "client_secret": "wrong"}
    with pytest.raises(VendorRejected, match="refused the client credentials"):
        await sync(vendor).check()


async def test_organizations_map_to_vendor_companies(vendor: ContractVendor) -> None:
    batches = await read_all(sync(vendor, "organizations"), "organizations")

    companies = records(batches)
    assert companies and all(isinstance(company, VendorCompany) for company in companies)
    assert batches[-1].cursor is not None
    if vendor.mode == "replay":
        assert companies == [
            VendorCompany(id="2", name="Country Consulting"),
            VendorCompany(id="3", name="Harbor Dental Group"),
        ]
        assert api_calls(vendor) == ["GET /v2/organizations?pageSize=3"]
    if vendor.mode == "sandbox":
        expected = {
            vendor.state.company_ids[company.key]: company.name
            for company in vendor.world.companies
        }
        assert {company.id: company.name for company in companies} == expected
        assert len(api_calls(vendor)) == 2, "5 organisations at 3 a page"


async def test_locations_map_to_sites_and_one_without_organization_is_skipped(
    vendor: ContractVendor,
) -> None:
    batches = await read_all(sync(vendor, "locations"), "locations")

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
        assert api_calls(vendor)[-1] == "GET /v2/locations?pageSize=3&after=6"
    if vendor.mode == "sandbox":
        expected = {
            (vendor.state.company_ids[company.key], site.name)
            for company in vendor.world.companies
            for site in company.sites
        }
        assert {(site.company_id, site.name) for site in sites} == expected


async def test_devices_merge_patch_and_antivirus_state_across_pages(vendor: ContractVendor) -> None:
    source = sync(vendor, "locations", "devices")
    await read_all(source, "locations")

    batches = await read_all(source, "devices")

    devices = {device.id: device for device in records(batches)}
    assert devices and all(isinstance(device, Device) for device in devices.values())
    assert "devices" in source.snapshots
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
        assert "GET /v2/devices-detailed?pageSize=3&after=33" in api_calls(vendor)
        assert "GET /v2/queries/device-health?pageSize=3&cursor=a1f0c3e2-health" in (
            api_calls(vendor)
        )
    if vendor.mode == "sandbox":
        assert len(devices) == len(vendor.world.devices)
        for seeded in vendor.world.devices:
            device = devices[str(seeded.key)]
            assert device.company_id == vendor.state.company_ids[seeded.company]
            assert (device.name, device.os, device.site) == (seeded.name, seeded.os, seeded.site)
            assert device.online is seeded.online
            assert device.patches_pending == seeded.patches_pending
            expected = (
                PatchState.FAILED
                if seeded.patches_failed
                else PatchState.PENDING
                if seeded.patches_pending
                else PatchState.UP_TO_DATE
            )
            assert device.patch_state == expected
            if not seeded.av_enabled:
                assert device.av_state == AvState.DISABLED
        assert not skipped(batches)


async def test_alerts_are_a_snapshot_of_open_alerts_tied_to_the_device_organisation(
    vendor: ContractVendor,
) -> None:
    source = sync(vendor, "alerts", "device_list")

    batches = await read_all(source, "alerts")

    alerts = records(batches)
    assert "alerts" in source.snapshots
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
    if vendor.mode == "sandbox":
        open_alerts = {alert.uid: alert for alert in vendor.world.alerts if alert.reset_at is None}
        assert {alert.id for alert in alerts} == set(open_alerts)
        for alert in alerts:
            seeded = open_alerts[alert.id]
            assert alert.company_id == vendor.state.company_ids[seeded.company]
            assert alert.device_id == str(seeded.device)
            assert alert.message == seeded.message


async def test_activities_become_alert_and_patch_events_and_no_antivirus_scan_is_a_definitions_update(
    vendor: ContractVendor,
) -> None:
    source = sync(vendor, "activities", "device_list")

    batches = await read_all(source, "activities")

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
        # 177240 is an antivirus scan: the activity enum names no definitions update.
        assert EventKind.AV_DEFINITIONS_UPDATED not in by_kind
        cycles = {event.company_ref: event for event in by_kind[EventKind.PATCH_CYCLE_COMPLETED]}
        assert cycles["2"].detail == "2 of 2 devices · 0 failures"
        assert cycles["2"].external_id == "patch.cycle_completed:2:2025-03-20:177234"
        assert cycles["2"].occurred_at == datetime(2025, 3, 20, 2, 14, 31, tzinfo=UTC)
        assert cycles["3"].detail == "0 of 1 devices · 1 failure"
        (bad,) = skipped(batches)
        assert bad.vendor_id == "177232" and "activityTime" in bad.reason
    if vendor.mode == "sandbox":
        world, ids = vendor.world, vendor.state.company_ids
        assert batches[-1].cursor == str(vendor.state.activities[-1]["id"])
        assert len(by_kind[EventKind.ALERT_RAISED]) == len(world.alerts)
        resolved = [alert for alert in world.alerts if alert.reset_at is not None]
        assert len(by_kind[EventKind.ALERT_RESET]) == len(resolved)
        assert EventKind.AV_DEFINITIONS_UPDATED not in by_kind
        documented = {"TRIGGERED", "RESET", "PATCH_MANAGEMENT_APPLY_PATCH_COMPLETED"}
        assert {activity["statusCode"] for activity in vendor.state.activities} <= documented
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


async def test_an_up_to_date_activity_cursor_costs_one_request(vendor: ContractVendor) -> None:
    source = sync(vendor, "activities", "device_list")
    first = await read_all(source, "activities")
    cursor = first[-1].cursor
    vendor.sent.clear()

    again = await read_all(source, "activities", cursor)

    assert records(again) == [] and again[-1].cursor == cursor
    if vendor.mode != "live":
        size = ACTIVITY_PAGE[vendor.mode]
        assert api_calls(vendor) == [
            f"GET /v2/activities?class=DEVICE&pageSize={size}&newerThan={cursor}"
        ]


async def test_an_activity_after_the_cursor_is_read_as_one_new_event(
    vendor: ContractVendor,
) -> None:
    vendor.only("sandbox")  # needs a tenant that changes
    source = sync(vendor)
    cursor = (await read_all(source, "activities"))[-1].cursor

    sandbox_activity(vendor.state, random.Random(3))
    batches = await read_all(source, "activities", cursor)

    (event,) = records(batches)
    assert event.kind == EventKind.ALERT_RAISED
    assert batches[-1].cursor == str(vendor.state.activities[-1]["id"])
    assert set(vendor.state.alerts) >= {event.subject.id}


async def test_reading_an_unknown_stream_is_refused(vendor: ContractVendor) -> None:
    with pytest.raises(VendorRejected, match="no stream"):
        await read_all(sync(vendor), "tickets")


async def test_resetting_an_alert_posts_reset_and_an_alert_already_gone_is_done(
    vendor: ContractVendor,
) -> None:
    vendor.may_write()
    uid = "50edcf11-de92-4ecb-955b-c8066488b6cc"
    if vendor.mode == "sandbox":
        uid = next(iter(vendor.state.alerts))
    alerts = port(vendor, Alerting, "reset_alert")

    await alerts.reset_alert(uid, idempotency_key="writeback-7f3c")
    await alerts.reset_alert(uid, idempotency_key="writeback-7f3c")

    assert api_calls(vendor) == [f"POST /v2/alert/{uid}/reset"] * 2
    if vendor.mode == "sandbox":
        assert uid not in vendor.state.alerts
        reset = vendor.state.activities[-1]
        assert (reset["statusCode"], reset["seriesUid"]) == ("RESET", uid)
        assert reset["data"]["idempotencyKey"] == "writeback-7f3c"


async def test_subscribing_puts_one_webhook_carrying_the_secret_header(
    vendor: ContractVendor,
) -> None:
    vendor.may_write()
    subscriptions = port(vendor, WebhookSubscriptions, "subscribe_webhook")

    subscription = await subscriptions.ensure_subscribed("https://vectis.example/webhooks/5d1e")

    assert subscription == vendor.credentials["client_id"]
    assert api_calls(vendor) == ["PUT /v2/webhook"]
    if vendor.mode == "sandbox":
        assert vendor.state.webhook is not None
        assert vendor.state.webhook["url"] == "https://vectis.example/webhooks/5d1e"
        assert vendor.state.webhook["headers"] == [
            {"name": "X-Vectis-Webhook-Secret", "value": SECRET}
        ]


async def test_the_sandbox_delivers_new_alerts_with_the_header_the_parser_accepts(
    vendor: ContractVendor,
) -> None:
    vendor.only("sandbox")
    received: list[tuple[dict[str, str], bytes]] = []
    arrived = asyncio.Event()

    class Receiver:
        async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
            headers = {name.lower(): value for name, value in req.headers.items()}
            received.append((headers, await req.stream.read()))
            arrived.set()

    receiver = falcon.asgi.App()
    receiver.add_route("/hook", Receiver())
    async with serve_app(receiver) as hook_url:
        await port(vendor, WebhookSubscriptions).ensure_subscribed(f"{hook_url}/hook")
        sandbox_activity(vendor.state, random.Random(5))
        await asyncio.wait_for(arrived.wait(), timeout=5)
    webhooks = parser()
    headers, body = received[0]
    (event,) = await webhooks.parse(headers, body, datetime.now(UTC))
    forged = {**headers, "x-vectis-webhook-secret": "forged"}
    with pytest.raises(WebhookRejected):
        await webhooks.parse(forged, body, datetime.now(UTC))

    device = vendor.state.devices[json.loads(body)["deviceId"]]
    assert event.kind == EventKind.ALERT_RAISED
    assert event.company_ref == str(device["organizationId"])
    assert event.subject.id in vendor.state.alerts


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


async def test_a_mapping_bug_fails_the_read_while_an_unreadable_row_is_skipped(
    vendor: ContractVendor, monkeypatch: pytest.MonkeyPatch
) -> None:
    vendor.needs_facts()
    if vendor.mode == "sandbox":
        vendor.state.locations[6] = {"id": 6, "name": "Unfiled", "organizationId": None}
    batches = await read_all(sync(vendor, "locations"), "locations")
    assert SkippedRecord(
        stream="locations", reason="the location names no organization", vendor_id="6"
    ) in skipped(batches)

    def broken(location: Any) -> VendorSite:
        raise KeyError("a bug in Vectis's mapping")

    monkeypatch.setattr(mapping, "site", broken)
    with pytest.raises(KeyError, match="a bug in Vectis"):
        await read_all(sync(vendor, "locations"), "locations")


async def test_definitions_renewed_between_two_syncs_make_one_definitions_event(
    vendor: ContractVendor,
) -> None:
    vendor.only("sandbox")  # needs a tenant that changes
    before = {device.id: device for device in records(await read_all(sync(vendor), "devices"))}
    outdated = sorted(key for key, device in before.items() if device.av_state == AvState.OUTDATED)
    assert outdated, "the demo world has a device with outdated definitions"

    vendor.state.renew_definitions(int(outdated[0]))
    after = records(await read_all(sync(vendor), "devices"))

    events = [
        event
        for device in after
        for event in device_events(
            "ninjaone", device, StoredDevice(av_state=before[device.id].av_state)
        )
    ]
    (event,) = events
    assert event.kind == EventKind.AV_DEFINITIONS_UPDATED
    assert (event.subject.id, event.company_ref) == (outdated[0], before[outdated[0]].company_id)
