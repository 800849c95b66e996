"""HaloPSA's REST API, served from memory for the demo and the contract tests.

``POST /auth/token`` issues expiring bearer tokens for the client credentials (hosted Halo's
``?tenant=`` checked); ``/api`` lists page with ``pageinate``/``page_size``/``page_no`` inside a
``{"record_count", "<key>": [...]}`` wrapper, in id order unless ``order``/``orderdesc`` name a
field of the rows; writes take arrays; registered webhooks get each ticket change,
authenticated with Basic credentials.

Held to Halo's swagger: a list honours only the filters its ``GET`` documents (``client_id``
where listed) and ignores every other parameter, returning the whole list — notably
``lastupdatefromdate``, which the reference documents as a flag ("include the field in the
response"; on ``/Tickets`` a bool without a description), not a date filter, and
``third_party_id_string``, a ticket field but no documented ``GET /Tickets`` parameter.
"""

from __future__ import annotations

import base64
import json
import random
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import falcon
import falcon.asgi

from vectis_sandbox import halopsa_world as shapes
from vectis_sandbox.halopsa_state import HaloState
from vectis_sandbox.kit.errors import VendorError
from vectis_sandbox.kit.oauth import BearerCheck, TokenEndpoint, oauth_error
from vectis_sandbox.kit.paging import numbered_page
from vectis_sandbox.kit.resources import Fixed, json_body
from vectis_sandbox.kit.state import utc_now
from vectis_sandbox.kit.vendor import SandboxVendor, vendor_app
from vectis_sandbox.kit.webhooks import deliver_later
from vectis_sandbox.world import CUSTOMER_REPLIES, PROBLEMS, World

API = "/api"
MAX_PAGE_SIZE = 100
EXPIRED = (401, {"error": "invalid_token", "error_description": "The access token has expired"})
_TOKEN_REFUSALS = {
    "unsupported_grant_type": "Only client_credentials is allowed",
    "invalid_client": "The client credentials are not valid",
}


def seeded(world: World) -> HaloState:
    seeder = shapes.Seeder(world)
    state = HaloState(clients=seeder.clients(), sites=seeder.sites(), users=seeder.users())
    state.tickets, state.actions = seeder.tickets()
    state.assets = seeder.assets()
    state.contracts, state.invoices = seeder.contracts()
    state.company_ids = {key: str(value) for key, value in seeder.client_ids.items()}
    return state


def base_url_for(server_url: str) -> str:
    """What an operator types: the Halo address itself (``/api`` and ``/auth`` hang off it)."""
    return server_url.rstrip("/")


def create_app(state: HaloState) -> falcon.asgi.App[Any, Any]:
    bearer = BearerCheck(
        state,
        prefix=API,
        refuse=lambda: halo_error(
            401, "invalid_token", "The access token is missing, invalid or expired"
        ),
    )
    app = vendor_app(state, expired=EXPIRED, middleware=[bearer])
    token = TokenEndpoint(
        state,
        refuse=lambda status, code: halo_error(status, code, _TOKEN_REFUSALS[code]),
        basic=True,
        scope=lambda asked: "all" if asked is None else asked,
        check=lambda req: _check_tenant(state, req.get_param("tenant")),
    )
    app.add_route("/auth/token", token)
    app.add_route(f"{API}/Agent/me", Fixed(lambda: shapes.API_AGENT))
    app.add_route(f"{API}/Status", Fixed(lambda: state.statuses))
    app.add_route(f"{API}/Priority", Fixed(lambda: state.priorities))
    app.add_route(f"{API}/Team", Fixed(lambda: state.teams))
    app.add_route(f"{API}/Agent", Fixed(lambda: state.agents))
    app.add_route(f"{API}/Client", _List(state, lambda: state.clients, "clients", ()))
    app.add_route(f"{API}/Site", _List(state, lambda: state.sites, "sites"))
    app.add_route(f"{API}/Users", _List(state, lambda: state.users, "users"))
    app.add_route(f"{API}/Asset", _List(state, lambda: state.assets, "assets"))
    app.add_route(f"{API}/ClientContract", _List(state, lambda: state.contracts, "contracts"))
    app.add_route(f"{API}/RecurringInvoice", _List(state, lambda: state.invoices, "invoices"))
    app.add_route(f"{API}/Tickets", _Tickets(state))
    app.add_route(f"{API}/Tickets/{{ticket_id:int}}", _Ticket(state))
    app.add_route(f"{API}/Actions", _Actions(state))
    app.add_route(f"{API}/Webhook", _Webhooks(state))
    return app


def halo_error(status: int, error: str, description: str) -> VendorError:
    """An error Halo answers with: ``{"error": ..., "error_description": ...}``, the OAuth
    shape, on the API as on ``/auth/token``."""
    return oauth_error(status, error, description)


def deliver(state: HaloState, event: str, ticket: dict[str, Any]) -> None:
    """Post a ticket change to every active webhook, in the background."""
    for webhook in state.webhooks.values():
        if webhook.get("active", True):
            body, headers = webhook_delivery(webhook, event, ticket)
            deliver_later(state, webhook["url"], body, headers)


def webhook_delivery(
    webhook: dict[str, Any], event: str, ticket: dict[str, Any]
) -> tuple[bytes, dict[str, str]]:
    """The body and headers Halo sends a webhook for one ticket change."""
    body = json.dumps(
        {
            "event_id": str(uuid.uuid4()),
            "webhook_id": webhook["id"],
            "event": event,
            "timestamp": shapes.halo_time(utc_now()),
            "ticket_id": ticket["id"],
            "ticket": _full(ticket),
        }
    ).encode()
    user = f"{webhook.get('basic_username', '')}:{webhook.get('basic_password', '')}"
    headers = {"Content-Type": "application/json"}
    if webhook.get("authentication_type") == 1:
        headers["Authorization"] = "Basic " + base64.b64encode(user.encode()).decode()
    return body, headers


def simulate_activity(state: HaloState, rng: random.Random) -> None:
    """One customer doing something: a new ticket, or a reply on an open one."""
    open_tickets = [t for t in state.tickets.values() if t["status_id"] != shapes.CLOSED_STATUS]
    if open_tickets and rng.random() < 0.5:
        ticket = rng.choice(sorted(open_tickets, key=lambda t: t["id"]))
        reply = rng.choice(CUSTOMER_REPLIES)
        state.add_action(
            ticket["id"], reply, hidden=False, outcome="End-User Update", who_type=2, who="Customer"
        )
        event = "Action Added"
    else:
        summary, details = rng.choice(PROBLEMS)
        ticket = state.add_ticket(rng.choice(sorted(state.clients)), summary, details)
        event = "New Ticket Logged"
    deliver(state, event, ticket)  # posts nothing for a synchronous caller (no loop)


class _List:
    def __init__(
        self,
        state: HaloState,
        rows: Callable[[], dict[int, dict[str, Any]]],
        key: str,
        filters: tuple[str, ...] = ("client_id",),
    ) -> None:
        self._state, self._rows, self._key, self._filters = state, rows, key, filters

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        rows = _listed(req, self._state, self._rows().values(), self._filters)
        resp.media = _page(req, rows, self._key)


class _Tickets:
    def __init__(self, state: HaloState) -> None:
        self._state = state

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        rows = _listed(req, self._state, self._state.tickets.values(), ("client_id",))
        resp.media = _page(req, rows, "tickets")

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        items = await _array(req)
        answers = []
        for item in items:
            if item.get("id"):
                ticket = _ticket(self._state, _int(item["id"]))
                _apply(self._state, ticket, item)
                deliver(self._state, "Ticket Updated", ticket)
            else:
                client_id = _int(item.get("client_id"))
                if not str(item.get("summary", "")).strip() or client_id not in self._state.clients:
                    raise halo_error(
                        400, "Bad Request", "summary and an existing client_id are required"
                    )
                ticket = self._state.add_ticket(client_id, item["summary"], item.get("details", ""))
                ticket["third_party_id_string"] = str(item.get("third_party_id_string") or "")
                _apply(self._state, ticket, item)
                deliver(self._state, "New Ticket Logged", ticket)
            answers.append(_full(ticket))
        resp.status = falcon.HTTP_201
        resp.media = answers[0] if len(answers) == 1 else answers


class _Ticket:
    def __init__(self, state: HaloState) -> None:
        self._state = state

    async def on_get(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, ticket_id: int
    ) -> None:
        resp.media = _full(_ticket(self._state, ticket_id))


class _Actions:
    def __init__(self, state: HaloState) -> None:
        self._state = state

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        ticket = _ticket(self._state, _int(req.get_param("ticket_id")))
        rows = self._state.actions.get(ticket["id"], [])
        if req.get_param_as_bool("excludesys"):
            rows = [row for row in rows if row["who_type"] != 0]
        resp.media = {"record_count": len(rows), "actions": rows}

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        answers = []
        for item in await _array(req):
            ticket = _ticket(self._state, _int(item.get("ticket_id")))
            if not str(item.get("note", "")).strip():
                raise halo_error(400, "Bad Request", "note is required")
            created = self._state.add_action(
                ticket["id"],
                item["note"],
                hidden=bool(item.get("hiddenfromuser")),
                outcome=str(item.get("outcome") or "Note"),
                who_type=1,
                who=str(shapes.API_AGENT["name"]),
            )
            deliver(self._state, "Action Added", ticket)
            answers.append(created)
        resp.status = falcon.HTTP_201
        resp.media = answers[0] if len(answers) == 1 else answers


class _Webhooks:
    def __init__(self, state: HaloState) -> None:
        self._state = state

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.media = [_public(webhook) for webhook in self._state.webhooks.values()]

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        answers = []
        for item in await _array(req):
            if not item.get("url"):
                raise halo_error(400, "Bad Request", "url is required for an outbound webhook")
            webhook = {
                **item,
                "id": str(item.get("id") or uuid.uuid4()),
                "active": item.get("active", True),
            }
            self._state.webhooks[webhook["id"]] = webhook
            answers.append(_public(webhook))
        resp.status = falcon.HTTP_201
        resp.media = answers[0] if len(answers) == 1 else answers


def _apply(state: HaloState, ticket: dict[str, Any], item: dict[str, Any]) -> None:
    """Set the fields an update names; unknown ids are refused as Halo refuses them."""
    if "status_id" in item:
        status = _int(item["status_id"])
        if status not in {s["id"] for s in state.statuses}:
            raise halo_error(400, "Bad Request", f"Unknown status {status}")
        ticket["status_id"] = status
        closed = status == shapes.CLOSED_STATUS
        ticket["dateclosed"] = shapes.halo_time(utc_now()) if closed else shapes.NO_DATE
    if "priority_id" in item:
        ticket["priority_id"] = _int(item["priority_id"])
    if "agent_id" in item:
        ticket["agent_id"] = _int(item["agent_id"])
    if "team_id" in item:
        team = next((t for t in state.teams if t["id"] == _int(item["team_id"])), None)
        if team is None:
            raise halo_error(400, "Bad Request", f"Unknown team {item['team_id']}")
        ticket["team_id"], ticket["team"] = team["id"], team["name"]
    ticket["last_update"] = shapes.halo_time(utc_now())


def _full(ticket: dict[str, Any]) -> dict[str, Any]:
    """A ticket as single-object answers carry it: a priority object, ``flastupdate`` as in
    Halo's captured create response, no list-only ``last_update``."""
    full = {key: value for key, value in ticket.items() if key != "last_update"}
    full["flastupdate"] = ticket["last_update"]
    full["priority"] = {"priorityid": ticket["priority_id"], "slaid": shapes.SLA_ID}
    full["reference"] = f"IN-{ticket['id']:07d}"
    return full


def _public(webhook: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in webhook.items() if key != "basic_password"}


def _listed(
    req: falcon.asgi.Request,
    state: HaloState,
    rows: Iterable[dict[str, Any]],
    filters: Iterable[str],
) -> list[dict[str, Any]]:
    """The rows a list answers: in id order, narrowed by the documented ``filters`` given,
    sorted by ``order`` (a field every row has) when the state honours it; any other parameter
    is ignored."""
    found = sorted(rows, key=lambda row: row["id"])
    for name in filters:
        if (wanted := req.get_param(name)) is not None:
            found = [row for row in found if str(int(row.get(name) or 0)) == wanted]
    order = req.get_param("order")
    if state.honours_order and order and all(order in row for row in found):
        descending = req.get_param_as_bool("orderdesc") or False
        # The swagger says nothing of ties: the least convenient order, reverse id order.
        found.sort(key=lambda row: row["id"], reverse=True)
        found.sort(key=lambda row: str(row[order]), reverse=descending)
    return found


def _page(req: falcon.asgi.Request, rows: list[dict[str, Any]], key: str) -> dict[str, Any]:
    if not req.get_param_as_bool("pageinate"):
        return {"record_count": len(rows), key: rows}
    size = req.get_param_as_int("page_size", min_value=1, default=50)
    size = min(size, MAX_PAGE_SIZE)
    page = req.get_param_as_int("page_no", min_value=1, default=1)
    return {
        "page_no": page,
        "page_size": size,
        "record_count": len(rows),
        key: numbered_page(rows, page, size),
    }


def _check_tenant(state: HaloState, tenant: str | None) -> None:
    """Hosted Halo's token URL names the tenant (``?tenant=``); a self-hosted one need not."""
    if state.tenant and tenant not in (None, state.tenant):
        raise halo_error(401, "invalid_client", f"Unknown tenant {tenant}")


async def _array(req: falcon.asgi.Request) -> list[dict[str, Any]]:
    body = await json_body(req, list, lambda reason: halo_error(400, "Bad Request", reason))
    if not all(isinstance(item, dict) for item in body):
        raise halo_error(400, "Bad Request", "The request body must be an array of objects")
    return body


def _ticket(state: HaloState, ticket_id: int) -> dict[str, Any]:
    ticket = state.tickets.get(ticket_id)
    if ticket is None:
        raise halo_error(404, "Not Found", f"Ticket {ticket_id} not found")
    return ticket


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise halo_error(400, "Bad Request", f"{value!r} is not an id") from None


SANDBOX = SandboxVendor(
    key="halopsa",
    label="HaloPSA (sandbox)",
    seeded=seeded,
    base_url_for=base_url_for,
    create_app=create_app,
    simulate_activity=simulate_activity,
)
