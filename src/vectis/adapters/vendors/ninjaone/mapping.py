"""NinjaOne documents → Vectis domain objects: the anti-corruption layer."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from attrs import frozen

from vectis.adapters.vendors._kit.records import UnreadableRecord
from vectis.adapters.vendors.ninjaone import VENDOR, wire
from vectis.domain.errors import VendorRejected
from vectis.domain.events import EventKind, InboundEvent, SubjectRef, event_key
from vectis.domain.records import (
    Alert,
    AvState,
    Device,
    PatchState,
    Severity,
    VendorCompany,
    VendorSite,
)

PATCH_MANAGEMENT = "PATCH_MANAGEMENT"
PATCH_APPLY_COMPLETED = "PATCH_MANAGEMENT_APPLY_PATCH_COMPLETED"
PATCH_FAILURE = "PATCH_MANAGEMENT_FAILURE"
CONDITION = "CONDITION"
TRIGGERED = "TRIGGERED"
RESET_CODES = frozenset({"RESET", "CUSTOM_HEALTH_STATUS_RESET", "RESET_BY_PSA_TICKET_CALLBACK"})
SEVERITIES = {
    "CRITICAL": Severity.CRITICAL,
    "MAJOR": Severity.HIGH,
    "MODERATE": Severity.MEDIUM,
    "MINOR": Severity.LOW,
    "NONE": Severity.INFO,
}
KINDS = {
    "WINDOWS_SERVER": "server",
    "LINUX_SERVER": "server",
    "MAC_SERVER": "server",
    "NMS_SERVER": "server",
    "WINDOWS_WORKSTATION": "workstation",
    "LINUX_WORKSTATION": "workstation",
    "MAC": "workstation",
    "NMS_COMPUTER": "workstation",
    "VMWARE_VM_HOST": "virtualization_host",
    "HYPERV_VMM_HOST": "virtualization_host",
    "NMS_VM_HOST": "virtualization_host",
    "VMWARE_VM_GUEST": "virtual_machine",
    "HYPERV_VMM_GUEST": "virtual_machine",
    "NMS_VIRTUAL_MACHINE": "virtual_machine",
    "ANDROID": "mobile",
    "APPLE_IOS": "mobile",
    "APPLE_IPADOS": "mobile",
    "CLOUD_MONITOR_TARGET": "monitor",
}


@frozen(kw_only=True)
class DeviceRef:
    """What events and alerts need to know about a device: its organisation and name."""

    organization_id: str | None
    name: str


@frozen(kw_only=True)
class ActivityPage:
    """A page of ``/activities``: its raw rows, their readable ids (paging follows those, so an
    unreadable activity cannot end the walk early) and the account's latest activity id."""

    rows: list[Any]
    ids: list[int]
    last_activity_id: int | None


def at(value: float) -> datetime:
    """An epoch-seconds value (``1742412689.092``) as an aware UTC time; ``UnreadableRecord``
    for one no calendar holds (``NaN``, ``1e30``, a year past 9999)."""
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        raise UnreadableRecord(f"{value!r} is not a time") from None


def when(value: float | None) -> datetime | None:
    return None if value is None else at(value)


def company(organization: wire.Organization) -> VendorCompany:
    if not organization.name:
        raise UnreadableRecord("the organization has no name")
    return VendorCompany(id=str(organization.id), name=organization.name)


def site(location: wire.Location) -> VendorSite:
    if location.organizationId is None:
        raise UnreadableRecord("the location names no organization")
    return VendorSite(
        id=str(location.id),
        company_id=str(location.organizationId),
        name=location.name or f"Location {location.id}",
    )


def device_name(device: wire.Device) -> str:
    return (
        device.displayName
        or device.systemName
        or device.dnsName
        or device.netbiosName
        or f"Device {device.id}"
    )


def device_ref(device: wire.Device) -> DeviceRef:
    organization = device.organizationId
    if organization is None and device.references and device.references.organization:
        organization = device.references.organization.id
    return DeviceRef(
        organization_id=None if organization is None else str(organization),
        name=device_name(device),
    )


def device(
    source: wire.Device,
    *,
    health: wire.DeviceHealth | None,
    antivirus: Sequence[wire.AntivirusStatus],
    location_names: Mapping[str, str],
    url: str,
) -> Device:
    state, pending = patch_state(health)
    location = source.references.location if source.references else None
    site_name = (location.name if location else None) or location_names.get(
        str(source.locationId), ""
    )
    return Device(
        id=str(source.id),
        company_id=None if source.organizationId is None else str(source.organizationId),
        name=device_name(source),
        kind=KINDS.get(source.nodeClass or "", _default_kind(source.nodeClass)),
        os=(source.os.name if source.os else None)
        or source.releaseName
        or source.guestOSFullName
        or "",
        site=site_name,
        online=None if source.offline is None else not source.offline,
        last_seen_at=when(source.lastContact),
        patch_state=state,
        patches_pending=pending,
        av_state=av_state(antivirus),
        updated_at=when(source.lastUpdate),
        url=url,
    )


def patch_state(health: wire.DeviceHealth | None) -> tuple[str, int]:
    """The OS patch state and pending OS patch count the device-health report gives."""
    if health is None:
        return PatchState.UNKNOWN, 0
    pending = health.pendingOSPatchesCount or 0
    if health.failedOSPatchesCount:
        return PatchState.FAILED, pending
    return (PatchState.PENDING if pending else PatchState.UP_TO_DATE), pending


def av_state(rows: Iterable[wire.AntivirusStatus]) -> str:
    """The best state among the device's antivirus products.

    UNCONFIRMED: the spec types ``productState``/``definitionStatus`` as free strings; the UI
    and public scripts show ``ON``/``OFF`` and ``Up-to-Date``/``Out-of-Date``, so both are read
    case- and punctuation-insensitively.
    """
    ranked = (AvState.PROTECTED, AvState.OUTDATED, AvState.DISABLED)
    states = {_one_av_state(row) for row in rows}
    return next((state for state in ranked if state in states), AvState.UNKNOWN)


def alert(source: wire.Alert, *, organization_id: str | None, url: str) -> Alert:
    return Alert(
        id=source.uid,
        company_id=organization_id,
        message=source.message or source.subject or source.sourceName or "NinjaOne alert",
        severity=alert_severity(source),
        raised_at=at(source.createTime),
        device_id=None if source.deviceId is None else str(source.deviceId),
        source=source.sourceType or "",
        updated_at=when(source.updateTime),
        url=url,
    )


def alert_severity(source: wire.Alert) -> str:
    """The alert's own severity; ``/v2/alerts`` documents none, so usually ``UNKNOWN``."""
    return severity(source.severity)


def severity(value: str | None) -> str:
    """A condition's severity on NinjaOne's scale; ``UNKNOWN`` when absent or unrecognised."""
    return SEVERITIES.get((value or "").upper(), Severity.UNKNOWN)


def is_patch_completion(activity: wire.Activity) -> bool:
    return activity.activityType == PATCH_MANAGEMENT and activity.statusCode in (
        PATCH_APPLY_COMPLETED,
        PATCH_FAILURE,
    )


def activity_event(activity: wire.Activity, ref: DeviceRef | None) -> InboundEvent | None:
    """The event one alert activity stands for (``None`` for other activities).

    Patch completions are not single events: ``patch_cycles`` folds them per organisation.
    Antivirus definitions are not read from activities: the OpenAPI's ``statusCode`` enum
    names no definitions update (only Webroot/Bitdefender scans, threats and installs), so
    ``changes.device_events`` derives them from a device's antivirus state between syncs.
    """
    if activity.activityType != CONDITION or not (
        activity.statusCode == TRIGGERED or activity.statusCode in RESET_CODES
    ):
        return None
    raised = activity.statusCode == TRIGGERED
    kind = EventKind.ALERT_RAISED if raised else EventKind.ALERT_RESET
    # The spec defines ``Alert.uid`` as the "activity series UID": a condition's ``seriesUid``
    # is the ``uid`` of the alert it raised (the one ``/alerts`` lists and
    # ``POST /alert/{uid}/reset`` resets). Keyed by the series alone, the feed's "raised" and
    # "reset" share their keys with the ones the alert listing yields
    # (``changes.alert_events``), so each is stored once.
    series = activity.seriesUid or str(activity.id)
    return InboundEvent(
        external_id=event_key(kind, series),
        kind=kind,
        occurred_at=at(activity.activityTime),
        subject=SubjectRef(system=VENDOR, type="alert", id=series),
        title=f"Alert {'raised' if raised else 'reset'}" + (f" on {ref.name}" if ref else ""),
        detail=activity.message or activity.subject or activity.sourceName or "",
        company_ref=ref.organization_id if ref else None,
        payload={
            "activity_id": activity.id,
            "device_id": None if activity.deviceId is None else str(activity.deviceId),
            "status_code": activity.statusCode,
            "source": activity.sourceName,
            "severity": severity(activity.severity),
            "priority": activity.priority,
        },
    )


def patch_cycles(completions: Iterable[tuple[wire.Activity, str]]) -> list[InboundEvent]:
    """One ``patch.cycle_completed`` per organisation and UTC day of device completions.

    A device counts as failed when any of its completions that day failed. The key carries the
    first activity id of the group, so re-reading the same activities gives the same event.
    """
    groups: dict[tuple[str, date], list[wire.Activity]] = defaultdict(list)
    for activity, organization in completions:
        groups[(organization, at(activity.activityTime).date())].append(activity)
    events = []
    for (organization, day), activities in sorted(groups.items()):
        devices = {activity.deviceId for activity in activities}
        failed = {
            activity.deviceId
            for activity in activities
            if activity.activityResult == "FAILURE" or activity.statusCode == PATCH_FAILURE
        }
        done = max(activity.activityTime for activity in activities)
        first = min(activity.id for activity in activities)
        detail = (
            f"{len(devices) - len(failed)} of {len(devices)} devices · "
            f"{len(failed)} failure{'' if len(failed) == 1 else 's'}"
        )
        events.append(
            InboundEvent(
                external_id=event_key(
                    EventKind.PATCH_CYCLE_COMPLETED, organization, day.isoformat(), first
                ),
                kind=EventKind.PATCH_CYCLE_COMPLETED,
                occurred_at=at(done),
                subject=SubjectRef(system=VENDOR, type="organization", id=organization),
                title="Patch cycle completed",
                detail=detail,
                company_ref=organization,
                payload={
                    "day": day.isoformat(),
                    "devices": len(devices),
                    "succeeded": len(devices) - len(failed),
                    "failed": len(failed),
                    "failed_device_ids": sorted(str(device) for device in failed),
                },
            )
        )
    return events


def reset_body(idempotency_key: str) -> dict[str, Any]:
    """``POST /alert/{uid}/reset``'s body: custom data NinjaOne records on the reset activity."""
    return {"resetBy": "Vectis", "idempotencyKey": idempotency_key}


def webhook_body(
    receiver_url: str,
    *,
    activities: Mapping[str, Sequence[str]],
    expand: Sequence[str],
    header: str,
    secret: str,
) -> dict[str, Any]:
    """``PUT /webhook``'s body: NinjaOne signs nothing, so deliveries carry a secret header."""
    return {
        "url": receiver_url,
        "activities": {key: list(codes) for key, codes in activities.items()},
        "expand": list(expand),
        "headers": [{"name": header, "value": secret}],
    }


def activity_page(answer: Any) -> ActivityPage:
    """A ``/activities`` answer; its rows stay raw, to be read one by one."""
    if not isinstance(answer, dict) or not isinstance(answer.get("activities"), list):
        raise VendorRejected("NinjaOne answered /activities without an activities list")
    recorded = answer.get("lastActivityId")
    ids = [row["id"] for row in answer["activities"] if isinstance(row, dict) and _is_id(row)]
    return ActivityPage(
        rows=answer["activities"],
        ids=ids,
        last_activity_id=recorded if _is_int(recorded) else None,
    )


def _one_av_state(row: wire.AntivirusStatus) -> str:
    product = _squash(row.productState)
    definitions = _squash(row.definitionStatus)
    if product in ("OFF", "DISABLED", "SNOOZED", "EXPIRED", "INACTIVE"):
        return AvState.DISABLED
    if definitions in ("OUTOFDATE", "OUTDATED", "EXPIRED"):
        return AvState.OUTDATED
    if product in ("ON", "ENABLED", "ACTIVE", "RUNNING") and definitions in (
        "UPTODATE",
        "CURRENT",
    ):
        return AvState.PROTECTED
    return AvState.UNKNOWN


def _squash(value: str | None) -> str:
    return re.sub(r"[^A-Z]", "", (value or "").upper())


def _default_kind(node_class: str | None) -> str:
    if node_class and node_class.startswith("NMS_"):
        return "network"
    return (node_class or "").lower()


def _is_id(row: Mapping[str, Any]) -> bool:
    return _is_int(row.get("id"))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
