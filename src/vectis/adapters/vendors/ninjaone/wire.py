"""NinjaOne JSON, as attrs shaped like the OpenAPI's schemas (lenient on extras and nulls).

Times are epoch seconds with a fraction (``1742412689.092``); ids are integers except alert
and series uids. Only the fields Vectis reads are declared.
"""

from __future__ import annotations

from typing import Any, TypeVar

import cattrs
from attrs import define

T = TypeVar("T")


@define
class Organization:
    id: int
    name: str | None = None
    description: str | None = None


@define
class Location:
    """``LocationWithOrganizationRef`` from ``GET /v2/locations``."""

    id: int
    name: str | None = None
    organizationId: int | None = None
    address: str | None = None


@define
class Ref:
    """An expanded reference (``references.organization``, ``references.location``)."""

    id: int | None = None
    name: str | None = None


@define
class References:
    organization: Ref | None = None
    location: Ref | None = None


@define
class OperatingSystem:
    name: str | None = None
    needsReboot: bool | None = None


@define
class Device:
    """A device from ``/v2/devices(-detailed)`` or an expanded ``device`` in a payload.

    The detailed list is polymorphic on ``deviceType``: agents carry ``os``, VMware hosts
    ``releaseName`` and guests ``guestOSFullName``.
    """

    id: int
    organizationId: int | None = None
    locationId: int | None = None
    nodeClass: str | None = None
    offline: bool | None = None
    displayName: str | None = None
    systemName: str | None = None
    dnsName: str | None = None
    netbiosName: str | None = None
    lastContact: float | None = None
    lastUpdate: float | None = None
    deviceType: str | None = None
    os: OperatingSystem | None = None
    releaseName: str | None = None
    guestOSFullName: str | None = None
    references: References | None = None


@define
class DeviceHealth:
    """A ``DeviceHealthSummary`` row of ``/v2/queries/device-health``."""

    deviceId: int
    pendingOSPatchesCount: int | None = None
    failedOSPatchesCount: int | None = None
    pendingSoftwarePatchesCount: int | None = None
    failedSoftwarePatchesCount: int | None = None
    activeThreatsCount: int | None = None
    avInstallStatus: str | None = None
    healthStatus: str | None = None
    offline: bool | None = None


@define
class AntivirusStatus:
    """A ``DeviceAntivirusStatus`` row of ``/v2/queries/antivirus-status``."""

    deviceId: int
    productName: str | None = None
    productState: str | None = None
    definitionStatus: str | None = None
    version: str | None = None
    timestamp: float | None = None


@define
class Alert:
    """An active alert (triggered condition) from ``GET /v2/alerts``.

    The schema names no severity; ``severity`` is read when an answer carries one anyway.
    """

    uid: str
    createTime: float
    deviceId: int | None = None
    message: str | None = None
    updateTime: float | None = None
    sourceType: str | None = None
    sourceName: str | None = None
    subject: str | None = None
    severity: str | None = None
    device: Device | None = None


@define
class Activity:
    """An ``Activity`` (``/v2/activities``, and every webhook delivery)."""

    id: int
    activityTime: float
    deviceId: int | None = None
    severity: str | None = None
    priority: str | None = None
    seriesUid: str | None = None
    activityType: str | None = None
    statusCode: str | None = None
    status: str | None = None
    activityResult: str | None = None
    sourceName: str | None = None
    subject: str | None = None
    message: str | None = None
    type: str | None = None
    data: dict[str, Any] | None = None
    device: Device | None = None


def register_hooks(converter: cattrs.Converter) -> cattrs.Converter:
    """No special hooks yet: NinjaOne's names are the attribute names."""
    return converter


converter = register_hooks(cattrs.Converter(forbid_extra_keys=False))


def structure(data: Any, kind: type[T]) -> T:
    return converter.structure(data, kind)
