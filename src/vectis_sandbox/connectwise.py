"""ConnectWise Manage REST 3.0, served from memory: the demo world as ConnectWise shapes it.

Auth is HTTP Basic ``{company}+{public}:{private}`` plus a ``clientId`` header. Lists take
``conditions`` (``lastUpdated >= [..]``, ``externalXRef="..."``), ``orderBy`` and
``page``/``pageSize``, and answer a bare array with a ``Link`` header. Tickets are created
(``POST``), patched (JSON-Patch ``replace``) and noted; ticket changes are pushed to registered
callbacks, signed like ConnectWise signs them (base64 HMAC-SHA256 keyed by SHA-256 of the
callback's signing key).
"""

from __future__ import annotations

import base64
import hmac
import secrets
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import falcon
import falcon.asgi

from vectis_sandbox.connectwise_callbacks import callback_body, deliver, sign
from vectis_sandbox.connectwise_query import QueryError, matcher, ordered, page_of
from vectis_sandbox.connectwise_state import ConnectWiseState, Document, now_stamp, ref, touch
from vectis_sandbox.connectwise_world import seeded, simulate_activity
from vectis_sandbox.kit.errors import VendorError
from vectis_sandbox.kit.resources import Fixed, json_body
from vectis_sandbox.kit.vendor import SandboxVendor, vendor_app

__all__ = [
    "CODEBASE",
    "SANDBOX",
    "ConnectWiseState",
    "base_url_for",
    "callback_body",
    "create_app",
    "deliver",
    "seeded",
    "sign",
    "simulate_activity",
]

CODEBASE = "v4_6_release"
API = f"/{CODEBASE}/apis/3.0"
EXPIRED = (401, {"code": "Unauthorized", "message": "The API member's keys have expired"})
PATCHABLE = ("board", "status", "priority", "owner", "contact", "summary", "externalXRef")
SYSTEM_INFO = {
    "version": "v2025.1.104123",
    "isCloud": True,
    "serverTimeZone": "Eastern Standard Time",
    "cloudRegion": "NA",
}


def base_url_for(server_url: str) -> str:
    """What an operator types as the integration's base URL: host plus codebase."""
    return f"{server_url.rstrip('/')}/{CODEBASE}"


def create_app(state: ConnectWiseState) -> falcon.asgi.App:  # type: ignore[type-arg]
    app = vendor_app(state, expired=EXPIRED, middleware=[_Auth(state)])
    app.add_route(f"{API}/system/info", Fixed(lambda: SYSTEM_INFO))
    app.add_route(f"{API}/service/boards", _Listing(state.boards.values))
    app.add_route(
        f"{API}/service/boards/{{board_id:int}}/statuses",
        _Listing(lambda board_id: _statuses(state, board_id)),
    )
    app.add_route(f"{API}/service/priorities", _Listing(state.priorities.values))
    app.add_route(f"{API}/system/members", _Listing(state.members.values))
    app.add_route(f"{API}/company/companies", _Listing(state.companies.values))
    app.add_route(
        f"{API}/company/companies/{{company_id:int}}/sites",
        _Listing(lambda company_id: _sites(state, company_id)),
    )
    app.add_route(f"{API}/company/contacts", _Listing(state.contacts.values))
    app.add_route(f"{API}/company/configurations", _Listing(state.configurations.values))
    app.add_route(f"{API}/finance/agreements", _Listing(state.agreements.values))
    app.add_route(
        f"{API}/finance/agreements/{{agreement_id:int}}/additions",
        _Listing(lambda agreement_id: _additions(state, agreement_id)),
    )
    app.add_route(f"{API}/service/tickets", _Tickets(state))
    app.add_route(f"{API}/service/tickets/{{ticket_id:int}}", _Ticket(state))
    app.add_route(f"{API}/service/tickets/{{ticket_id:int}}/notes", _Notes(state))
    app.add_route(f"{API}/system/callbacks", _Callbacks(state))
    app.add_route(f"/{CODEBASE}/system/callbackkey/index.rails", _CallbackKey(state))
    return app


class _Auth:
    def __init__(self, state: ConnectWiseState) -> None:
        self._state = state

    async def process_request(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        if req.path.startswith(f"/{CODEBASE}/system/callbackkey"):
            return  # key URLs are fetched with the clientId only, as ConnectWise allows
        expected = f"{self._state.company_id}+{self._state.public_key}:{self._state.private_key}"
        header = req.get_header("Authorization") or ""
        scheme, _, encoded = header.partition(" ")
        try:
            presented = base64.b64decode(encoded).decode()
        except ValueError:
            presented = ""
        if scheme != "Basic" or not hmac.compare_digest(presented, expected):
            raise _error(401, "Unauthorized", "The credentials are not valid")
        if req.get_header("clientId") != self._state.client_id:
            raise _error(401, "Unauthorized", "A valid clientId header is required")


class _Listing:
    """A ``GET`` list: the records a function gives, filtered, ordered and paged."""

    def __init__(self, records: Callable[..., Iterable[Document]]) -> None:
        self._records = records

    async def on_get(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, **ids: int
    ) -> None:
        _list(req, resp, self._records(**ids))


class _Tickets:
    def __init__(self, state: ConnectWiseState) -> None:
        self._state = state

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        _list(req, resp, self._state.tickets.values())

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        state = self._state
        body = await _body(req, dict)
        summary = str(body.get("summary") or "").strip()
        if not summary or len(summary) > 100:
            raise _invalid("summary", "summary is required and at most 100 characters")
        company = _find(state.companies, body.get("company"), "company", keys=("identifier",))
        board = _find(state.boards, body.get("board"), "board", keys=("name",), optional=True)
        priority = _find(state.priorities, body.get("priority"), "priority", optional=True)
        contact = _find(state.contacts, body.get("contact"), "contact", optional=True)
        reference = body.get("externalXRef")
        if reference is not None and (not isinstance(reference, str) or len(reference) > 100):
            raise _invalid("externalXRef", "externalXRef is a string of at most 100 characters")
        ticket = state.add_ticket(
            company["id"],
            summary,
            board=(board or {}).get("name", "Service Desk"),
            priority=(priority or {}).get("name", "Priority 3 - Normal"),
            contact=contact,
            external_reference=reference,
            entered_by=state.api_member["identifier"],
        )
        if body.get("status") is not None:
            _set_status(state, ticket, _find(state.statuses, body["status"], "status"))
        if body.get("initialDescription"):
            state.add_note(ticket["id"], str(body["initialDescription"]))
        # Tickets posted here stand for portal entries in the demo: always pushed.
        deliver(state, "added", ticket)
        resp.status = falcon.HTTP_201
        resp.media = ticket


class _Ticket:
    def __init__(self, state: ConnectWiseState) -> None:
        self._state = state

    async def on_get(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, ticket_id: int
    ) -> None:
        resp.media = _ticket(self._state, ticket_id)

    async def on_patch(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, ticket_id: int
    ) -> None:
        state = self._state
        ticket = _ticket(state, ticket_id)
        operations = await _body(req, list)
        changed = dict(ticket)
        status: Document | None = None
        tables = {
            "board": state.boards,
            "priority": state.priorities,
            "owner": state.members,
            "contact": state.contacts,
        }
        for operation in operations:
            if not isinstance(operation, dict):
                raise _invalid("op", "each operation is a JSON object")
            path = str(operation.get("path", "")).strip("/")
            if operation.get("op") not in ("replace", "add") or path not in PATCHABLE:
                raise _invalid(path or "op", f"cannot {operation.get('op')} {path!r}")
            value = operation.get("value")
            if path in ("summary", "externalXRef"):
                changed[path] = value
            elif path == "status":
                status = _find(state.statuses, value, "status")
            else:
                extra = ("identifier",) if path == "owner" else ()
                changed[path] = ref(_find(tables[path], value, path), *extra)
        board_id = changed["board"]["id"]
        if status is None and board_id != ticket["board"]["id"]:
            status = state.default_status(board_id)
        if status is not None and status["board"]["id"] != board_id:
            raise _invalid("status", f"status {status['id']} is not on board {board_id}")
        ticket.update(changed)
        if status is not None:
            _set_status(state, ticket, status)
        touch(ticket, state.api_member["identifier"])
        deliver(state, "updated", ticket, by_api=True)
        resp.media = ticket


class _Notes:
    def __init__(self, state: ConnectWiseState) -> None:
        self._state = state

    async def on_get(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, ticket_id: int
    ) -> None:
        _ticket(self._state, ticket_id)
        _list(req, resp, self._state.notes.get(ticket_id, []))

    async def on_post(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, ticket_id: int
    ) -> None:
        ticket = _ticket(self._state, ticket_id)
        body = await _body(req, dict)
        if not str(body.get("text", "")).strip():
            raise _invalid("text", "text is required")
        internal = bool(body.get("internalAnalysisFlag"))
        note = self._state.add_note(ticket_id, str(body["text"]), internal=internal)
        note["detailDescriptionFlag"] = note["externalFlag"] = bool(
            body.get("detailDescriptionFlag")
        )
        note["resolutionFlag"] = bool(body.get("resolutionFlag"))
        deliver(self._state, "updated", ticket, by_api=True)
        resp.status = falcon.HTTP_201
        resp.media = note


class _Callbacks:
    def __init__(self, state: ConnectWiseState) -> None:
        self._state = state

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        _list(req, resp, self._state.callbacks.values())

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        body = await _body(req, dict)
        if not body.get("url") or body.get("type") != "ticket":
            raise _invalid("url", "url and type 'ticket' are required")
        callback = {
            "id": self._state.new_id(),
            "url": body["url"],
            "objectId": body.get("objectId", 1),
            "type": body["type"],
            "level": body.get("level", "owner"),
            "memberId": self._state.api_member_id,
            "payloadVersion": body.get("payloadVersion", "3.0.0"),
            "inactiveFlag": bool(body.get("inactiveFlag", False)),
            "isSoapCallbackFlag": False,
            "isSelfSuppressedFlag": bool(body.get("isSelfSuppressedFlag", False)),
            "connectWiseID": str(uuid.uuid4()),
            "_info": {"lastUpdated": now_stamp(), "updatedBy": "sandbox"},
        }
        self._state.callbacks[callback["id"]] = callback
        self._state.signing_keys[callback["connectWiseID"]] = secrets.token_urlsafe(24)
        resp.status = falcon.HTTP_201
        resp.media = callback


class _CallbackKey:
    def __init__(self, state: ConnectWiseState) -> None:
        self._state = state

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        if req.get_header("clientId") != self._state.client_id:
            raise _error(401, "Unauthorized", "A valid clientId header is required")
        key = self._state.signing_keys.get(req.get_param("id") or "")
        if key is None:
            raise _error(404, "NotFound", "No such callback key")
        resp.media = {"signing_key": key}


def _list(
    req: falcon.asgi.Request, resp: falcon.asgi.Response, records: Iterable[Document]
) -> None:
    try:
        wanted = matcher(req.get_param("conditions"))
        chosen = ordered([record for record in records if wanted(record)], req.get_param("orderBy"))
    except QueryError as error:
        raise _error(400, "InvalidObject", str(error)) from None
    page = req.get_param_as_int("page", min_value=1, default=1)
    size = min(1000, req.get_param_as_int("pageSize", min_value=1, default=25))
    params = {k: v for k, v in req.params.items() if k not in ("page", "pageSize")}
    items, link = page_of(chosen, req.prefix + req.path, params, page, size)
    resp.media = items
    if link:
        resp.set_header("Link", link)


async def _body(req: falcon.asgi.Request, kind: type[Any]) -> Any:
    return await json_body(req, kind, lambda reason: _error(400, "InvalidObject", reason))


def _find(
    table: dict[int, Document],
    value: Any,
    what: str,
    *,
    keys: tuple[str, ...] = (),
    optional: bool = False,
) -> Any:
    """The record a reference ``{"id": ..}`` (or ``{"name"|"identifier": ..}``) points at."""
    if value is None and optional:
        return None
    if isinstance(value, dict):
        if isinstance(value.get("id"), int) and value["id"] in table:
            return table[value["id"]]
        for key in keys:
            if value.get(key) is not None:
                for record in table.values():
                    if str(record.get(key, "")).casefold() == str(value[key]).casefold():
                        return record
    raise _invalid(what, f"{what} {value!r} does not exist")


def _set_status(state: ConnectWiseState, ticket: Document, status: Document) -> None:
    ticket["status"] = ref(status)
    if status["closedStatus"] and not ticket["closedFlag"]:
        ticket["closedFlag"] = True
        ticket["closedDate"] = now_stamp()
        ticket["closedBy"] = state.api_member["identifier"]
    elif not status["closedStatus"]:
        ticket["closedFlag"] = False
        ticket.pop("closedDate", None)
        ticket.pop("closedBy", None)


def _ticket(state: ConnectWiseState, ticket_id: int) -> Document:
    ticket = state.tickets.get(ticket_id)
    if ticket is None:
        raise _error(404, "NotFound", f"Ticket with id {ticket_id} not found")
    return ticket


def _statuses(state: ConnectWiseState, board_id: int) -> list[Document]:
    if board_id not in state.boards:
        raise _error(404, "NotFound", f"Board with id {board_id} not found")
    return [s for s in state.statuses.values() if s["board"]["id"] == board_id]


def _sites(state: ConnectWiseState, company_id: int) -> list[Document]:
    if company_id not in state.companies:
        raise _error(404, "NotFound", f"Company with id {company_id} not found")
    return [s for s in state.sites.values() if s["company"]["id"] == company_id]


def _additions(state: ConnectWiseState, agreement_id: int) -> list[Document]:
    if agreement_id not in state.agreements:
        raise _error(404, "NotFound", f"Agreement with id {agreement_id} not found")
    return state.additions.get(agreement_id, [])


def _error(status: int, code: str, message: str) -> VendorError:
    """An error ConnectWise answers with: ``{"code": ..., "message": ...}``."""
    return VendorError(status, {"code": code, "message": message})


def _invalid(field: str, message: str) -> VendorError:
    return _error(400, "InvalidObject", f"{field}: {message}")


SANDBOX = SandboxVendor(
    key="connectwise",
    label="ConnectWise Manage (sandbox)",
    seeded=seeded,
    base_url_for=base_url_for,
    create_app=create_app,
    simulate_activity=simulate_activity,
)
