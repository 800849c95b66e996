"""NinjaOne's anti-corruption layer: pure mapping rules, without HTTP."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.factories import settings_link
from vectis.adapters.vendors.ninjaone import mapping, wire
from vectis.adapters.vendors.ninjaone.settings import NinjaOneOptions
from vectis.domain.events import EventKind
from vectis.domain.records import AvState, PatchState, Severity


def activity(**fields: Any) -> wire.Activity:
    defaults: dict[str, Any] = {"id": 1, "activityTime": 1742436700.0, "deviceId": 7}
    structured: wire.Activity = wire.structure({**defaults, **fields}, wire.Activity)
    return structured


def completion(activity_id: int, device: int, when: str, result: str) -> wire.Activity:
    return activity(
        id=activity_id,
        deviceId=device,
        activityTime=datetime.fromisoformat(when).replace(tzinfo=UTC).timestamp(),
        activityType="PATCH_MANAGEMENT",
        statusCode="PATCH_MANAGEMENT_APPLY_PATCH_COMPLETED",
        activityResult=result,
    )


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([], AvState.UNKNOWN),
        ([{"productState": "ON", "definitionStatus": "Up-to-Date"}], AvState.PROTECTED),
        ([{"productState": "ON", "definitionStatus": "OUT_OF_DATE"}], AvState.OUTDATED),
        ([{"productState": "SNOOZED", "definitionStatus": "UP_TO_DATE"}], AvState.DISABLED),
        (
            [
                {"productState": "OFF", "definitionStatus": "UP_TO_DATE"},
                {"productState": "ON", "definitionStatus": "UP_TO_DATE"},
            ],
            AvState.PROTECTED,
        ),
        ([{"productState": "ON"}], AvState.UNKNOWN),
    ],
)
def test_antivirus_state_is_the_best_of_the_device_products(
    rows: list[dict[str, str]], expected: str
) -> None:
    statuses = [wire.structure({"deviceId": 7, **row}, wire.AntivirusStatus) for row in rows]
    assert mapping.av_state(statuses) == expected


@pytest.mark.parametrize(
    ("health", "expected"),
    [
        (None, (PatchState.UNKNOWN, 0)),
        ({"pendingOSPatchesCount": 0, "failedOSPatchesCount": 0}, (PatchState.UP_TO_DATE, 0)),
        ({"pendingOSPatchesCount": 3}, (PatchState.PENDING, 3)),
        ({"pendingOSPatchesCount": 3, "failedOSPatchesCount": 1}, (PatchState.FAILED, 3)),
    ],
)
def test_patch_state_comes_from_the_device_health_counts(
    health: dict[str, int] | None, expected: tuple[str, int]
) -> None:
    row = None if health is None else wire.structure({"deviceId": 7, **health}, wire.DeviceHealth)
    assert mapping.patch_state(row) == expected


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"severity": "CRITICAL", "sourceType": "CONDITION_PENDING_REBOOT"}, Severity.CRITICAL),
        ({"severity": "MODERATE"}, Severity.MEDIUM),
        ({"sourceType": "AGENT_OFFLINE"}, Severity.UNKNOWN),
        ({"sourceType": "CONDITION_PENDING_REBOOT"}, Severity.UNKNOWN),
        ({"severity": "SEVERE", "sourceType": "CONDITION_AGENT_CPU"}, Severity.UNKNOWN),
    ],
)
def test_an_alert_has_the_severity_it_carries_or_an_explicit_unknown(
    fields: dict[str, str], expected: str
) -> None:
    alert = wire.structure({"uid": "u", "createTime": 1.0, **fields}, wire.Alert)
    assert mapping.alert_severity(alert) == expected


@pytest.mark.parametrize(
    ("node_class", "kind"),
    [
        ("WINDOWS_SERVER", "server"),
        ("MAC", "workstation"),
        ("HYPERV_VMM_GUEST", "virtual_machine"),
        ("NMS_SWITCH", "network"),
        ("APPLE_IOS", "mobile"),
        ("UNMANAGED_DEVICE", "unmanaged_device"),
    ],
)
def test_node_classes_map_to_device_kinds(node_class: str, kind: str) -> None:
    device = wire.structure({"id": 1, "nodeClass": node_class}, wire.Device)
    mapped = mapping.device(device, health=None, antivirus=(), location_names={}, url="")
    assert mapped.kind == kind and mapped.name == "Device 1"


def test_patch_cycles_group_per_organisation_and_utc_day_and_count_devices_once() -> None:
    completions = [
        (completion(10, 7, "2025-03-20T02:00:00", "SUCCESS"), "2"),
        (completion(11, 8, "2025-03-20T02:01:00", "FAILURE"), "2"),
        (completion(12, 8, "2025-03-20T02:30:00", "SUCCESS"), "2"),
        (completion(13, 7, "2025-03-21T02:00:00", "SUCCESS"), "2"),
        (completion(14, 9, "2025-03-20T02:00:00", "SUCCESS"), "3"),
    ]

    events = mapping.patch_cycles(completions)

    assert [(event.company_ref, event.payload["day"], event.detail) for event in events] == [
        ("2", "2025-03-20", "1 of 2 devices · 1 failure"),
        ("2", "2025-03-21", "1 of 1 devices · 0 failures"),
        ("3", "2025-03-20", "1 of 1 devices · 0 failures"),
    ]
    assert events[0].external_id == "patch.cycle_completed:2:2025-03-20:10"
    assert events[0].occurred_at == datetime(2025, 3, 20, 2, 30, tzinfo=UTC)


def test_only_condition_activities_are_single_events() -> None:
    ref = mapping.DeviceRef(organization_id="2", name="CC-DC01")
    scan = activity(activityType="PATCH_MANAGEMENT", statusCode="PATCH_MANAGEMENT_SCAN_COMPLETED")

    assert mapping.activity_event(scan, ref) is None
    reset = mapping.activity_event(
        activity(
            activityType="CONDITION", statusCode="RESET_BY_PSA_TICKET_CALLBACK", seriesUid="s"
        ),
        None,
    )
    assert reset is not None and reset.kind == EventKind.ALERT_RESET and reset.company_ref is None


@pytest.mark.parametrize(
    "status_code",
    ["AV_DEFINITIONS_UPDATED", "BITDEFENDER_SCAN_COMPLETED", "WEBROOT_THREAT_DETECTED"],
)
def test_no_antivirus_activity_is_read_as_a_definitions_update(status_code: str) -> None:
    # The OpenAPI's statusCode enum names no definitions update (and no AV_DEFINITIONS_UPDATED):
    # definitions events come from the device's antivirus state (changes.device_events).
    ref = mapping.DeviceRef(organization_id="2", name="CC-DC01")
    antivirus = activity(activityType="ANTIVIRUS", statusCode=status_code)

    assert mapping.activity_event(antivirus, ref) is None


def test_the_webhook_asks_only_for_documented_activity_codes() -> None:
    assert NinjaOneOptions().webhook_filter() == {
        "CONDITION": ["TRIGGERED", "RESET"],
        "PATCH_MANAGEMENT": ["PATCH_MANAGEMENT_APPLY_PATCH_COMPLETED"],
    }


def test_a_condition_that_carries_no_severity_raises_an_alert_of_unknown_severity() -> None:
    triggered = activity(activityType="CONDITION", statusCode="TRIGGERED", seriesUid="s")

    event = mapping.activity_event(triggered, None)

    assert event is not None and event.kind == EventKind.ALERT_RAISED
    assert event.payload["severity"] == Severity.UNKNOWN


def test_options_read_the_integration_settings_within_the_documented_bounds() -> None:
    settings = {"api_prefix": "/api/v2", "activity_page_size": 5000, "page_size": 0}

    options = NinjaOneOptions.of(settings_link("ninjaone", settings))

    assert options.api_prefix == "/api/v2"
    assert (options.activity_page_size, options.page_size) == (1000, 1)
    assert options.webhook_filter()["CONDITION"] == ["TRIGGERED", "RESET"]
