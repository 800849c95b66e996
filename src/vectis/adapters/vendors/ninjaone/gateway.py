"""NinjaOne behind Vectis's capability ports: sync, alert reset and webhook registration."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

import cattrs

from vectis.adapters.vendors.ninjaone import mapping, wire
from vectis.adapters.vendors.ninjaone.client import NinjaOneClient, NinjaOneOptions
from vectis.domain.errors import InvalidValue, VendorNotFound, VendorRejected
from vectis.domain.events import InboundEvent
from vectis.domain.records import SkippedRecord, SyncBatch, SyncedRecord

logger = logging.getLogger(__name__)
STREAMS = ("organizations", "locations", "devices", "alerts", "activities")
SNAPSHOTS = ("organizations", "locations", "devices", "alerts")
"""Streams NinjaOne can only list whole: what a run does not see is gone (alerts reset)."""
WEBHOOK_SECRET_HEADER = "X-Vectis-Webhook-Secret"  # noqa: S105 - a header name
_Wire = TypeVar("_Wire")


class NinjaOneSync:
    """``SyncSource`` on NinjaOne.

    ``devices`` merges ``/queries/device-health`` (patch counts) and ``/queries/antivirus-status``
    into each device of ``/devices-detailed``. ``activities`` is the one incremental stream: its
    cursor is the highest activity id read, and ``newerThan`` (exclusive, ids never change)
    asks only for later ones.
    """

    streams: Sequence[str] = STREAMS
    snapshots: Sequence[str] = SNAPSHOTS

    def __init__(self, client: NinjaOneClient, options: NinjaOneOptions) -> None:
        self._client = client
        self._options = options
        self._devices: dict[str, mapping.DeviceRef] | None = None
        self._location_names: dict[str, str] = {}

    async def check(self) -> str:
        await self._client.get("/organizations", {"pageSize": 1})
        return f"NinjaOne {urlsplit(self._client.account.base_url).netloc}"

    def _snapshot_cursor(self, last: bool) -> str | None:
        """Snapshot streams have no watermark; their last batch records when they were read."""
        return self._client.clock.now().isoformat(timespec="seconds") if last else None

    async def read(self, stream: str, cursor: str | None) -> AsyncIterator[SyncBatch]:
        readers: dict[str, Callable[[str | None], AsyncIterator[SyncBatch]]] = {
            "organizations": self._organizations,
            "locations": self._locations,
            "devices": self._devices_stream,
            "alerts": self._alerts,
            "activities": self._activities,
        }
        if stream not in readers:
            raise VendorRejected(f"NinjaOne has no stream {stream!r}")
        async for batch in readers[stream](cursor):
            yield batch

    async def _organizations(self, cursor: str | None) -> AsyncIterator[SyncBatch]:
        async for rows, last in self._client.pages_after("/organizations", self._page):
            records, skipped = _mapped(rows, wire.Organization, "organizations", mapping.company)
            yield _batch(records=records, skipped=skipped, cursor=self._snapshot_cursor(last))

    async def _locations(self, cursor: str | None) -> AsyncIterator[SyncBatch]:
        async for rows, last in self._client.pages_after("/locations", self._page):
            records, skipped = _mapped(rows, wire.Location, "locations", mapping.site)
            self._location_names.update({site.id: site.name for site in records})
            yield _batch(records=records, skipped=skipped, cursor=self._snapshot_cursor(last))

    async def _devices_stream(self, cursor: str | None) -> AsyncIterator[SyncBatch]:
        problems: list[SkippedRecord] = []
        health: dict[str, wire.DeviceHealth] = {}
        for row in await self._report("/queries/device-health", wire.DeviceHealth, problems):
            health[str(row.deviceId)] = row
        antivirus: dict[str, list[wire.AntivirusStatus]] = {}
        for status in await self._report(
            "/queries/antivirus-status", wire.AntivirusStatus, problems
        ):
            antivirus.setdefault(str(status.deviceId), []).append(status)
        index: dict[str, mapping.DeviceRef] = {}

        def merged(device: wire.Device) -> SyncedRecord:
            key = str(device.id)
            index[key] = mapping.device_ref(device)
            return mapping.device(
                device,
                health=health.get(key),
                antivirus=antivirus.get(key, ()),
                location_names=self._location_names,
                url=self._client.account.device_url(key),
            )

        async for rows, last in self._client.pages_after("/devices-detailed", self._page):
            records, skipped = _mapped(rows, wire.Device, "devices", merged)
            if last:
                self._devices = index
            yield _batch(
                records=records, skipped=[*problems, *skipped], cursor=self._snapshot_cursor(last)
            )
            problems = []

    async def _alerts(self, cursor: str | None) -> AsyncIterator[SyncBatch]:
        rows = await self._client.get("/alerts")
        if not isinstance(rows, list):
            raise VendorRejected("NinjaOne answered /alerts with something not a list")
        alerts, skipped = _structured(rows, wire.Alert, "alerts")
        index = await self._index() if any(not _alert_org(alert) for alert in alerts) else {}
        records: list[SyncedRecord] = []
        for alert in alerts:
            ref = index.get(str(alert.deviceId))
            organization = _alert_org(alert) or (ref.organization_id if ref else None)
            url = self._client.account.device_url(str(alert.deviceId)) if alert.deviceId else ""
            records.append(mapping.alert(alert, organization_id=organization, url=url))
        yield _batch(records=records, skipped=skipped, cursor=self._snapshot_cursor(True))

    async def _activities(self, cursor: str | None) -> AsyncIterator[SyncBatch]:
        # /activities answers newest first. With a full page, the read walks back with
        # ``olderThan`` until it meets the cursor, so no activity between them is missed.
        size = self._options.activity_page_size
        newer = int(cursor) if cursor and cursor.isdigit() else None
        query: dict[str, Any] = {"class": "DEVICE", "pageSize": size}
        if newer is not None:
            query["newerThan"] = newer
        highest, older, pages = newer, None, 0
        completions: list[wire.Activity] = []
        while True:
            answer = await self._client.get(
                "/activities", query if older is None else {**query, "olderThan": older}
            )
            rows, recorded = _activity_page(answer)
            pages += 1
            activities, skipped = _structured(rows, wire.Activity, "activities")
            # Paging follows the raw ids, so an unreadable activity cannot end the walk early.
            ids = [row["id"] for row in rows if isinstance(row, dict) and _is_int(row.get("id"))]
            if ids:
                highest = max(ids) if highest is None else max(highest, *ids)
            elif highest is None:
                highest = recorded  # nothing yet: start from the account's latest activity
            events = await self._events(activities, completions)
            finished = len(rows) < size or not ids
            if not finished and pages >= self._options.activity_max_pages:
                logger.warning("NinjaOne: stopped reading activities after %d pages", pages)
                finished = True
            if finished:
                cycles, unplaced = await self._patch_cycles(completions)
                yield _batch(
                    records=[*events, *cycles],
                    skipped=[*skipped, *unplaced],
                    cursor=str(highest if highest is not None else 0),
                )
                return
            yield _batch(records=events, skipped=skipped, cursor=None)
            older = min(ids)

    async def _events(
        self, activities: Sequence[wire.Activity], completions: list[wire.Activity]
    ) -> list[InboundEvent]:
        codes = self._options.av_definitions_status_codes
        wanted = [
            activity
            for activity in activities
            if activity.activityType in (mapping.CONDITION, mapping.ANTIVIRUS)
            or mapping.is_patch_completion(activity)
        ]
        index = await self._index() if wanted else {}
        events = []
        for activity in wanted:
            if mapping.is_patch_completion(activity):
                completions.append(activity)
                continue
            ref = index.get(str(activity.deviceId))
            event = mapping.activity_event(activity, ref, av_codes=codes)
            if event is not None:
                events.append(event)
        return events

    async def _patch_cycles(
        self, completions: Sequence[wire.Activity]
    ) -> tuple[list[InboundEvent], list[SkippedRecord]]:
        index = await self._index() if completions else {}
        placed: list[tuple[wire.Activity, str]] = []
        unplaced = []
        for activity in completions:
            ref = index.get(str(activity.deviceId))
            if ref is None or ref.organization_id is None:
                unplaced.append(
                    SkippedRecord(
                        stream="activities",
                        reason=f"patch activity for device {activity.deviceId}, "
                        "which belongs to no known organization",
                        vendor_id=str(activity.id),
                    )
                )
            else:
                placed.append((activity, ref.organization_id))
        return mapping.patch_cycles(placed), unplaced

    async def _index(self) -> dict[str, mapping.DeviceRef]:
        """Each device's organisation and name: from this run's ``devices`` read, or listed."""
        if self._devices is None:
            index: dict[str, mapping.DeviceRef] = {}
            async for rows, _ in self._client.pages_after("/devices", self._page):
                devices, _skipped = _structured(rows, wire.Device, "devices")
                index.update({str(device.id): mapping.device_ref(device) for device in devices})
            self._devices = index
        return self._devices

    async def _report(
        self, path: str, kind: type[_Wire], problems: list[SkippedRecord]
    ) -> list[_Wire]:
        """All rows of a ``/queries`` report; one it may not read degrades to no rows."""
        rows: list[_Wire] = []
        try:
            async for page, _ in self._client.pages_by_cursor(path, self._page):
                read, skipped = _structured(page, kind, "devices")
                rows.extend(read)
                problems.extend(skipped)
        except VendorRejected as error:
            # A role without the report (403) still syncs devices, their health unknown.
            problems.append(SkippedRecord(stream="devices", reason=f"{path}: {error}"))
        return rows

    @property
    def _page(self) -> int:
        return self._options.page_size


class NinjaOneAlerts:
    """``Alerting`` on NinjaOne: ``POST /v2/alert/{uid}/reset``."""

    def __init__(self, client: NinjaOneClient) -> None:
        self._client = client

    async def reset_alert(self, alert_id: str, *, idempotency_key: str) -> None:
        # Resetting is idempotent by nature; an alert already reset (or gone) answers 404.
        # The body is the custom data NinjaOne records on the reset activity.
        try:
            await self._client.post(
                f"/alert/{quote(alert_id, safe='')}/reset",
                {"resetBy": "Vectis", "idempotencyKey": idempotency_key},
            )
        except VendorNotFound:
            logger.info("NinjaOne alert %s was already reset", alert_id)


class NinjaOneWebhookSubscriptions:
    """``WebhookSubscriptions`` on NinjaOne: one webhook per API client, set with ``PUT``."""

    def __init__(self, client: NinjaOneClient, options: NinjaOneOptions, secret: str) -> None:
        self._client = client
        self._options = options
        self._secret = secret

    async def ensure_subscribed(self, receiver_url: str) -> str:
        # NinjaOne signs nothing: every delivery carries the integration's secret in a header.
        await self._client.put(
            "/webhook",
            {
                "url": receiver_url,
                "activities": self._options.webhook_filter(),
                "expand": list(self._options.webhook_expand),
                "headers": [{"name": WEBHOOK_SECRET_HEADER, "value": self._secret}],
            },
        )
        return self._client.account.client_id


def _batch(
    records: Sequence[SyncedRecord] = (),
    skipped: Sequence[SkippedRecord] = (),
    cursor: str | None = None,
) -> SyncBatch:
    # Passed as Any: mypy's attrs plugin cannot type ``converter=tuple`` on SyncBatch's fields.
    loose_records: Any = records
    loose_skipped: Any = skipped
    return SyncBatch(records=loose_records, skipped=loose_skipped, cursor=cursor)


def _structured(
    rows: Sequence[Any], kind: type[_Wire], stream: str
) -> tuple[list[_Wire], list[SkippedRecord]]:
    read, skipped = [], []
    for raw in rows:
        try:
            read.append(wire.structure(raw, kind))
        except (cattrs.BaseValidationError, ValueError, TypeError) as error:
            skipped.append(SkippedRecord(stream=stream, reason=_reason(error), vendor_id=_id(raw)))
    return read, skipped


def _mapped(
    rows: Sequence[Any],
    kind: type[_Wire],
    stream: str,
    convert: Callable[[_Wire], SyncedRecord],
) -> tuple[list[Any], list[SkippedRecord]]:
    read, skipped = _structured(rows, kind, stream)
    records = []
    for item in read:
        try:
            records.append(convert(item))
        except (mapping.Unreadable, InvalidValue) as error:
            vendor_id = str(getattr(item, "id", "")) or None
            skipped.append(SkippedRecord(stream=stream, reason=str(error), vendor_id=vendor_id))
    return records, skipped


def _activity_page(answer: Any) -> tuple[list[Any], int | None]:
    if not isinstance(answer, dict) or not isinstance(answer.get("activities"), list):
        raise VendorRejected("NinjaOne answered /activities without an activities list")
    recorded = answer.get("lastActivityId")
    return answer["activities"], recorded if isinstance(recorded, int) else None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _alert_org(alert: wire.Alert) -> str | None:
    if alert.device is None:
        return None
    ref = mapping.device_ref(alert.device)
    return ref.organization_id


def _id(raw: Any) -> str | None:
    if isinstance(raw, dict):
        value = raw.get("id", raw.get("uid", raw.get("deviceId")))
        return None if value is None else str(value)
    return None


def _reason(error: Exception) -> str:
    if isinstance(error, cattrs.BaseValidationError):
        return "; ".join(cattrs.transform_error(error))
    return str(error)
