"""NinjaOne's JSON shapes for the demo world: devices, health, antivirus, alerts, activities.

Field names follow the OpenAPI (``Device``, ``DeviceHealthSummary``, ``DeviceAntivirusStatus``,
``Alert``, ``Activity``) and the real captures in the reference pack.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from vectis_sandbox.world import Device

UP_TO_DATE = "UP_TO_DATE"
OUT_OF_DATE = "OUT_OF_DATE"
"""UNCONFIRMED: the spec types ``definitionStatus`` as a free string; these are the UI's words."""
SEVERITIES = {"critical": "CRITICAL", "high": "MAJOR", "medium": "MODERATE", "low": "MINOR"}
PRIORITIES = {"CRITICAL": "HIGH", "MAJOR": "HIGH", "MODERATE": "MEDIUM", "MINOR": "LOW"}
SOURCES = {
    "Disk C: free space below 5%": ("CONDITION_AGENT_DISK_FREE_SPACE", "agent_cond_disk_free"),
    "CPU above 90% for 15 minutes": ("CONDITION_AGENT_CPU", "agent_cond_cpu_usage_ge"),
    "Windows service 'Spooler' stopped": (
        "CONDITION_WINDOWS_SERVICE_STATE_CHANGED",
        "agent_cond_win_service",
    ),
    "Pending reboot for more than 7 days": ("CONDITION_PENDING_REBOOT", "agent_cond_reboot"),
}


def device(
    device: Device, organization: dict[str, Any], location: dict[str, Any]
) -> dict[str, Any]:
    """A ``/v2/devices-detailed`` row (an agent) for a world device."""
    seen = device.last_seen_at.timestamp()
    mac = device.os.startswith("macOS")
    node_class = (
        "WINDOWS_SERVER" if device.kind == "server" else "MAC" if mac else "WINDOWS_WORKSTATION"
    )
    org_id, location_id = organization["id"], location["id"]
    return {
        "id": device.key,
        "organizationId": org_id,
        "locationId": location_id,
        "nodeClass": node_class,
        "nodeRoleId": 1 if device.kind == "server" else 2,
        "rolePolicyId": 10 + (1 if device.kind == "server" else 2),
        "approvalStatus": "APPROVED",
        "offline": not device.online,
        "displayName": device.name,
        "systemName": device.name,
        "dnsName": f"{device.name.lower()}.{device.company.lower()}.local",
        "netbiosName": device.name[:15],
        "created": seen - 86400 * 400,
        "lastContact": seen,
        "lastUpdate": seen,
        "uid": str(uuid.UUID(int=device.key)),
        "deviceType": "AGENT",
        "os": {
            "manufacturer": "Apple Inc." if mac else "Microsoft Corporation",
            "name": device.os,
            "architecture": "64-bit",
            "needsReboot": device.patches_pending > 3,
        },
        "references": {
            "organization": {"id": org_id, "name": organization["name"]},
            "location": {"id": location_id, "name": location["name"]},
        },
    }


def brief(device: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in device.items() if key not in ("os", "references")}


def health(device: Device) -> dict[str, Any]:
    status = "HEALTHY"
    if device.patches_failed or not device.av_enabled:
        status = "UNHEALTHY"
    elif device.patches_pending or not device.online:
        status = "NEEDS_ATTENTION"
    return {
        "deviceId": device.key,
        "activeThreatsCount": 0,
        "quarantinedThreatsCount": 0,
        "blockedThreatsCount": 0,
        "failedOSPatchesCount": device.patches_failed,
        "pendingOSPatchesCount": device.patches_pending,
        "alertCount": 0,
        "activeJobCount": 0,
        "failedSoftwarePatchesCount": 0,
        "pendingSoftwarePatchesCount": 0,
        "pendingRebootReason": "WINDOWS_PM" if device.patches_pending > 3 else None,
        "productsInstallationStatuses": {},
        "offline": not device.online,
        "parentOffline": False,
        "healthStatus": status,
        "avInstallStatus": "INSTALLED",
        "installationIssuesCount": 0,
    }


def antivirus(device: Device, now: datetime) -> dict[str, Any]:
    current = now - device.av_definitions_at < timedelta(days=3)
    return {
        "deviceId": device.key,
        "productName": device.av_product,
        "productState": "ON" if device.av_enabled else "OFF",
        "definitionStatus": UP_TO_DATE if current else OUT_OF_DATE,
        "version": "9.0.35.12",
        "timestamp": device.last_seen_at.timestamp(),
    }


def alert(uid: str, device_id: int, message: str, moment: float) -> dict[str, Any]:
    source, code = SOURCES.get(message, ("CONDITION_SCRIPT_RESULT", "agent_cond_script_result"))
    return {
        "uid": uid,
        "deviceId": device_id,
        "message": message,
        "createTime": moment,
        "updateTime": moment,
        "sourceType": source,
        "sourceConfigUid": str(uuid.uuid5(uuid.NAMESPACE_URL, source)),
        "sourceName": "",
        "subject": "",
        "data": {"message": {"code": code, "params": {}}},
    }


def condition(
    alert: dict[str, Any], status: str, severity: str, *, moment: float | None = None
) -> dict[str, Any]:
    return {
        "activityTime": alert["createTime"] if moment is None else moment,
        "deviceId": alert["deviceId"],
        "severity": severity,
        "priority": PRIORITIES.get(severity, "NONE"),
        "seriesUid": alert["uid"],
        "activityType": "CONDITION",
        "statusCode": status,
        "status": status.title(),
        "sourceConfigUid": alert["sourceConfigUid"],
        "sourceName": alert["sourceName"],
        "subject": alert["subject"],
        "message": alert["message"],
        "type": "Condition",
        "data": alert["data"],
    }


def patch_run(
    ran_at: datetime, devices: list[Device], failed: int
) -> list[tuple[float, dict[str, Any]]]:
    # Devices finish a minute apart, all on the run's UTC day.
    end_of_day = ran_at.replace(hour=23, minute=59, second=0).timestamp()
    start = min(ran_at.timestamp(), end_of_day - 60 * len(devices))
    run = []
    for index, device in enumerate(devices):
        moment = start + 60 * index
        failure = index >= len(devices) - failed
        run.append(
            (
                moment,
                {
                    "activityTime": moment,
                    "deviceId": device.key,
                    "severity": "NONE",
                    "priority": "NONE",
                    "seriesUid": str(uuid.uuid4()),
                    "activityType": "PATCH_MANAGEMENT",
                    "statusCode": "PATCH_MANAGEMENT_APPLY_PATCH_COMPLETED",
                    "status": "Patch Management Apply Patch Completed",
                    "activityResult": "FAILURE" if failure else "SUCCESS",
                    "sourceName": "Weekly OS patching",
                    "subject": "",
                    "message": "1 patch failed to install" if failure else "Patches installed",
                    "type": "Patch Management",
                    "data": {},
                },
            )
        )
    return run
