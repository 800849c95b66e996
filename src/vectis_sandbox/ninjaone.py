"""NinjaOne RMM API v2, served from memory: the demo world's devices, alerts and activities.

Auth is OAuth2 client credentials at ``/ws/oauth/token`` and a bearer token on ``/v2``. Lists
page with ``pageSize`` + ``after``; ``/v2/queries`` reports with a ``cursor`` name; activities
newest first with ``newerThan``/``olderThan``. ``PUT /v2/webhook`` stores the one webhook of the
API client; deliveries are activities with the expanded ``device`` and the custom headers the
configuration names (NinjaOne signs nothing).
"""

from __future__ import annotations

import json
import random
import secrets
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import falcon
import falcon.asgi
from attrs import define, field

from vectis_sandbox import ninjaone_shapes as shapes
from vectis_sandbox.kit.errors import VendorError
from vectis_sandbox.kit.oauth import BearerCheck, TokenEndpoint, Tokens, oauth_error
from vectis_sandbox.kit.paging import CursorBook, window
from vectis_sandbox.kit.resources import Fixed, json_body
from vectis_sandbox.kit.state import SandboxState
from vectis_sandbox.kit.vendor import SandboxVendor, vendor_app
from vectis_sandbox.kit.webhooks import deliver_later
from vectis_sandbox.world import World

API = "/v2"
SCOPES = {"monitoring", "management", "control"}
MAX_OPEN_ALERTS = 15
_TOKEN_REFUSALS = {"invalid_client": "Bad client credentials"}
NEW_ALERTS = (
    ("high", "Disk C: free space below 5%"),
    ("medium", "CPU above 90% for 15 minutes"),
    ("medium", "Windows service 'Spooler' stopped"),
    ("low", "Pending reboot for more than 7 days"),
)


@define
class NinjaOneState(SandboxState):
    """Everything the fake NinjaOne knows; tests read and change it directly."""

    client_id: str = field(factory=lambda: secrets.token_urlsafe(18))
    client_secret: str = field(factory=lambda: secrets.token_urlsafe(32))
    token_seconds: float = 3600.0
    organizations: dict[int, dict[str, Any]] = field(factory=dict)
    locations: dict[int, dict[str, Any]] = field(factory=dict)
    devices: dict[int, dict[str, Any]] = field(factory=dict)
    health: dict[int, dict[str, Any]] = field(factory=dict)
    antivirus: dict[int, dict[str, Any]] = field(factory=dict)
    alerts: dict[str, dict[str, Any]] = field(factory=dict)
    activities: list[dict[str, Any]] = field(factory=list)
    tokens: Tokens = field(factory=Tokens)
    cursors: CursorBook = field(factory=CursorBook)
    webhook: dict[str, Any] | None = None
    next_activity_id: int = 170000

    @property
    def credentials(self) -> dict[str, str]:
        return {"client_id": self.client_id, "client_secret": self.client_secret}

    def record(self, activity: dict[str, Any]) -> dict[str, Any]:
        """Append an activity with the next id (ids grow with time, as NinjaOne's do)."""
        self.next_activity_id += 1
        stored = {"id": self.next_activity_id, **activity}
        self.activities.append(stored)
        return stored

    def raise_alert(
        self, device_id: int, severity: str, message: str, *, at: datetime | None = None
    ) -> dict[str, Any]:
        moment = (at or datetime.now(UTC)).timestamp()
        alert = shapes.alert(str(uuid.uuid4()), device_id, message, moment)
        self.alerts[alert["uid"]] = alert
        self.health[device_id]["alertCount"] += 1
        activity = self.record(
            shapes.condition(alert, "TRIGGERED", shapes.SEVERITIES.get(severity, "NONE"))
        )
        deliver(self, activity)
        return alert

    def renew_definitions(self, device_id: int, *, at: datetime | None = None) -> None:
        """The device's antivirus fetched current definitions: only the antivirus-status report
        shows it, since NinjaOne documents no activity status code for a definitions update."""
        moment = (at or datetime.now(UTC)).timestamp()
        self.antivirus[device_id] = {
            **self.antivirus[device_id],
            "definitionStatus": shapes.UP_TO_DATE,
            "timestamp": moment,
        }
        self.devices[device_id]["lastUpdate"] = moment

    def reset_alert(self, uid: str, data: dict[str, Any]) -> dict[str, Any]:
        alert = self.alerts.pop(uid)
        self.health[alert["deviceId"]]["alertCount"] -= 1
        activity = shapes.condition(alert, "RESET", "NONE", moment=time.time())
        activity["data"] = {**activity["data"], **data}
        stored = self.record(activity)
        deliver(self, stored)
        return stored


def seeded(world: World) -> NinjaOneState:
    """The world's customers as NinjaOne organisations, its sites as locations."""
    state = NinjaOneState()
    location_ids: dict[tuple[str, str], int] = {}
    for index, company in enumerate(world.companies):
        org_id = index + 2
        state.company_ids[company.key] = str(org_id)
        state.organizations[org_id] = {
            "id": org_id,
            "name": company.name,
            "description": f"Managed customer {company.identifier}",
            "nodeApprovalMode": "AUTOMATIC",
            "tags": [],
            "fields": {},
        }
        for site in company.sites:
            location_id = len(state.locations) + 2
            location_ids[(company.key, site.name)] = location_id
            state.locations[location_id] = {
                "id": location_id,
                "name": site.name,
                "address": site.address,
                "description": "",
                "organizationId": org_id,
                "tags": [],
                "fields": {},
            }
    for device in world.devices:
        org_id = int(state.company_ids[device.company])
        location_id = location_ids[(device.company, device.site)]
        state.devices[device.key] = shapes.device(
            device, state.organizations[org_id], state.locations[location_id]
        )
        state.health[device.key] = shapes.health(device)
        state.antivirus[device.key] = shapes.antivirus(device, world.now)
    moments: list[tuple[float, dict[str, Any]]] = []
    for alert in world.alerts:
        severity = shapes.SEVERITIES.get(alert.severity, "NONE")
        opened = shapes.alert(alert.uid, alert.device, alert.message, alert.raised_at.timestamp())
        moments.append((opened["createTime"], shapes.condition(opened, "TRIGGERED", severity)))
        if alert.reset_at is None:
            state.alerts[alert.uid] = opened
            state.health[alert.device]["alertCount"] += 1
        else:
            moments.append(
                (
                    alert.reset_at.timestamp(),
                    shapes.condition(opened, "RESET", "NONE", moment=alert.reset_at.timestamp()),
                )
            )
    for run in world.patch_runs:
        devices = [device for device in world.devices if device.company == run.company]
        moments.extend(shapes.patch_run(run.ran_at, devices, run.failed))
    for _, activity in sorted(moments, key=lambda pair: pair[0]):
        state.record(activity)
    return state


def base_url_for(server_url: str) -> str:
    """What an operator types as the instance URL: the host, no path."""
    return server_url


def simulate_activity(state: NinjaOneState, rng: random.Random) -> None:
    """A condition triggers on some device: a new alert, its activity, a webhook delivery.

    Past ``MAX_OPEN_ALERTS`` the oldest condition clears first, so a long demo stays readable.
    """
    if not state.devices:
        return
    if len(state.alerts) >= MAX_OPEN_ALERTS:
        oldest = min(state.alerts.values(), key=lambda alert: alert["createTime"])
        state.reset_alert(oldest["uid"], {})
    severity, message = rng.choice(NEW_ALERTS)
    state.raise_alert(rng.choice(sorted(state.devices)), severity, message)


def create_app(state: NinjaOneState) -> falcon.asgi.App[Any, Any]:
    bearer = BearerCheck(
        state,
        prefix=API,
        refuse=lambda: oauth_error(401, "invalid_token", "Invalid access token"),
    )
    app = vendor_app(
        state,
        expired=(401, {"error": "invalid_token", "error_description": "Access token expired"}),
        middleware=[bearer],
    )
    # NinjaOne's docs show the client's id and secret in the form only, not in HTTP Basic.
    token = TokenEndpoint(
        state,
        refuse=lambda status, code: oauth_error(status, code, _TOKEN_REFUSALS.get(code)),
        basic=False,
        scope=_granted_scope,
    )
    app.add_route("/ws/oauth/token", token)
    app.add_route(f"{API}/organizations", _List(state, "organizations"))
    app.add_route(f"{API}/locations", _List(state, "locations"))
    app.add_route(f"{API}/devices", _List(state, "devices", brief=True))
    app.add_route(f"{API}/devices-detailed", _List(state, "devices"))
    app.add_route(f"{API}/queries/device-health", _Report(state, "health"))
    app.add_route(f"{API}/queries/antivirus-status", _Report(state, "antivirus"))
    # The spec documents no order for /alerts (nor paging): uid order, which is no order a
    # connector could lean on. ``sourceType`` and ``df`` are not implemented (all alerts).
    app.add_route(f"{API}/alerts", Fixed(lambda: sorted(state.alerts.values(), key=_uid)))
    app.add_route(f"{API}/alert/{{uid}}/reset", _Reset(state))
    app.add_route(f"{API}/activities", _Activities(state))
    app.add_route(f"{API}/webhook", _Webhook(state))
    return app


def deliver(state: NinjaOneState, activity: dict[str, Any]) -> None:
    """Push an activity to the configured webhook in the background, if its filter wants it."""
    config = state.webhook
    if config is None or not _wanted(state, config, activity):
        return
    headers, body = delivery(state, activity)
    deliver_later(state, config["url"], body, headers)


def delivery(state: NinjaOneState, activity: dict[str, Any]) -> tuple[dict[str, str], bytes]:
    """The headers and body NinjaOne would post for ``activity`` under the current webhook."""
    config = state.webhook or {}
    document = dict(activity)
    device = state.devices.get(activity.get("deviceId") or -1)
    if device is not None and "device" in config.get("expand", ["device"]):
        document["device"] = {
            key: value for key, value in device.items() if key not in ("os", "deviceType")
        }
    headers = {"Content-Type": "application/json"}
    headers.update({item["name"]: item["value"] for item in config.get("headers", [])})
    return headers, json.dumps(document).encode()


def failure(status: int, message: str) -> VendorError:
    """An error NinjaOne's API answers with (UNCONFIRMED shape: ``resultCode`` and
    ``errorMessage``)."""
    return VendorError(status, {"resultCode": "FAILURE", "errorMessage": message})


class _List:
    """A ``pageSize``/``after`` list ordered by id."""

    def __init__(self, state: NinjaOneState, table: str, *, brief: bool = False) -> None:
        self._state = state
        self._table = table
        self._brief = brief

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        size = req.get_param_as_int("pageSize", min_value=1, default=1000) or 1000
        after = req.get_param_as_int("after", default=None)
        table: dict[int, dict[str, Any]] = getattr(self._state, self._table)
        rows = [shapes.brief(row) if self._brief else row for _, row in sorted(table.items())]
        if after is not None:
            rows = [row for row in rows if row["id"] > after]
        resp.media = rows[:size]


class _Report:
    """A ``/queries`` report: ``results`` with a named cursor for the next page."""

    def __init__(self, state: NinjaOneState, table: str) -> None:
        self._state = state
        self._table = table

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        size = req.get_param_as_int("pageSize", min_value=1, default=1000) or 1000
        name = req.get_param("cursor")
        offset = self._state.cursors.offset(name, req.path) if name else 0
        if offset is None:
            raise failure(400, "Bad cursor")
        table: dict[int, dict[str, Any]] = getattr(self._state, self._table)
        rows = window([row for _, row in sorted(table.items())], offset, size)
        cursor = self._state.cursors.issue(req.path, offset + len(rows))
        resp.media = {
            "cursor": {
                "name": cursor,
                "offset": offset,
                "count": len(rows),
                "expires": time.time() + 600,
            },
            "results": rows,
        }


class _Reset:
    def __init__(self, state: NinjaOneState) -> None:
        self._state = state

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, uid: str) -> None:
        if uid not in self._state.alerts:
            # UNCONFIRMED: the spec documents only a default response; 404 for a gone alert.
            raise failure(404, "Alert not found")
        body = await req.get_media(default_when_empty={})
        self._state.reset_alert(uid, body if isinstance(body, dict) else {})
        resp.status = falcon.HTTP_204


class _Activities:
    def __init__(self, state: NinjaOneState) -> None:
        self._state = state

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        size = min(1000, max(10, req.get_param_as_int("pageSize", default=200) or 200))
        # UNCONFIRMED: the spec's descriptions of ``newerThan``/``olderThan`` read as if
        # swapped; the sandbox takes the names at their word. ``type``, ``status``, ``user``,
        # ``seriesUid``, ``before``/``after`` and ``df`` are not implemented: the spec does not
        # say which field ``type`` matches, so every activity is returned whatever they say.
        newer = req.get_param_as_int("newerThan", default=None)
        older = req.get_param_as_int("olderThan", default=None)
        kind = (req.get_param("class") or "ALL").upper()
        rows = [
            activity
            for activity in reversed(self._state.activities)
            if (newer is None or activity["id"] > newer)
            and (older is None or activity["id"] < older)
            and (kind != "DEVICE" or activity.get("deviceId") is not None)
            and (kind != "SYSTEM" or activity.get("deviceId") is None)
        ]
        last = self._state.activities[-1]["id"] if self._state.activities else None
        resp.media = {"lastActivityId": last, "activities": rows[:size]}


class _Webhook:
    def __init__(self, state: NinjaOneState) -> None:
        self._state = state

    async def on_put(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        body = await json_body(req, dict, lambda reason: failure(400, reason))
        if not str(body.get("url", "")).startswith("http"):
            raise failure(400, "A url is required")
        self._state.webhook = {
            "url": body["url"],
            "activities": dict(body.get("activities") or {}),
            "expand": list(body.get("expand") or []),
            "headers": [
                {"name": str(item["name"]), "value": str(item["value"])}
                for item in body.get("headers") or []
            ],
            "organizationIds": list(body.get("organizationIds") or []),
        }
        resp.status = falcon.HTTP_204

    async def on_delete(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        self._state.webhook = None
        resp.status = falcon.HTTP_204


def _wanted(state: NinjaOneState, config: dict[str, Any], activity: dict[str, Any]) -> bool:
    # UNCONFIRMED: the spec types the ``activities`` filter as ``{string: [string]}`` and says
    # no more, so the sandbox does not apply it: every device activity is delivered, and the
    # parser must ignore the ones Vectis does not read. ``organizationIds`` is documented.
    organizations = config.get("organizationIds") or []
    device = state.devices.get(activity.get("deviceId") or -1)
    return not organizations or (device is not None and device["organizationId"] in organizations)


def _granted_scope(asked: str | None) -> str:
    scope = set((asked or "").split())
    if not scope or not scope <= SCOPES:
        raise oauth_error(400, "invalid_scope")
    return " ".join(sorted(scope))


def _uid(alert: dict[str, Any]) -> str:
    return str(alert["uid"])


SANDBOX = SandboxVendor(
    key="ninjaone",
    label="NinjaOne (sandbox)",
    seeded=seeded,
    base_url_for=base_url_for,
    create_app=create_app,
    simulate_activity=simulate_activity,
)
