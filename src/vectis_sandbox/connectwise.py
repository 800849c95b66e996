"""ConnectWise Manage REST 3.0, served from memory: companies, tickets, notes and callbacks.

Auth is HTTP Basic ``{company}+{public}:{private}`` plus a ``clientId`` header; lists page with
``page``/``pageSize`` and a ``Link`` header; ticket changes are pushed to registered callbacks,
signed like ConnectWise signs them (base64 HMAC-SHA256 with SHA-256 of the signing key).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

import falcon
import falcon.asgi
import httpx
from attrs import define, field

logger = logging.getLogger(__name__)
CODEBASE = "v4_6_release"
API = f"/{CODEBASE}/apis/3.0"


@define
class ConnectWiseState:
    """Everything the fake ConnectWise knows; tests read and change it directly."""

    company_id: str = "harborpoint"
    public_key: str = field(factory=lambda: secrets.token_hex(8))
    private_key: str = field(factory=lambda: secrets.token_hex(16))
    client_id: str = field(factory=lambda: str(uuid.uuid4()))
    base_url: str = ""
    companies: dict[int, dict[str, Any]] = field(factory=dict)
    tickets: dict[int, dict[str, Any]] = field(factory=dict)
    notes: dict[int, list[dict[str, Any]]] = field(factory=dict)
    callbacks: dict[int, dict[str, Any]] = field(factory=dict)
    signing_keys: dict[str, str] = field(factory=dict)
    deliveries: list[asyncio.Task[None]] = field(factory=list)
    next_id: int = 1000

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id

    @property
    def credentials(self) -> dict[str, str]:
        return {
            "company_id": self.company_id,
            "public_key": self.public_key,
            "private_key": self.private_key,
            "client_id": self.client_id,
        }

    def add_company(self, name: str, identifier: str) -> dict[str, Any]:
        company_id = self.new_id()
        company = {"id": company_id, "identifier": identifier, "name": name, "_info": _info()}
        self.companies[company_id] = company
        return company

    def add_ticket(
        self,
        company_id: int,
        summary: str,
        *,
        board: str = "Service Desk",
        priority: str = "Priority 3 - Normal",
    ) -> dict[str, Any]:
        company = self.companies[company_id]
        now = _now()
        ticket_id = self.new_id()
        ticket = {
            "id": ticket_id,
            "summary": summary,
            "recordType": "ServiceTicket",
            "board": {"id": 1, "name": board},
            "status": {"id": 1, "name": "New"},
            "company": {
                "id": company["id"],
                "identifier": company["identifier"],
                "name": company["name"],
            },
            "priority": {"id": 3, "name": priority, "sort": 3},
            "closedFlag": False,
            "_info": {
                "lastUpdated": now,
                "dateEntered": now,
                "enteredBy": "portal",
                "updatedBy": "portal",
            },
        }
        self.tickets[ticket_id] = ticket
        self.notes[ticket_id] = []
        return ticket


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


class _Companies:
    def __init__(self, state: ConnectWiseState) -> None:
        self._state = state

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        _page(req, resp, list(self._state.companies.values()))


class _Tickets:
    def __init__(self, state: ConnectWiseState) -> None:
        self._state = state

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        _page(req, resp, sorted(self._state.tickets.values(), key=lambda ticket: ticket["id"]))

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        body = await req.get_media()
        company = (body.get("company") or {}).get("id")
        if (
            not body.get("summary")
            or not isinstance(company, int)
            or company not in self._state.companies
        ):
            raise _error(400, "InvalidObject", "summary and an existing company are required")
        ticket = self._state.add_ticket(company, body["summary"])
        deliver(self._state, "added", ticket)
        resp.status = falcon.HTTP_201
        resp.media = ticket


class _Ticket:
    def __init__(self, state: ConnectWiseState) -> None:
        self._state = state

    async def on_get(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, ticket_id: int
    ) -> None:
        resp.media = _ticket(self._state, ticket_id)


class _Notes:
    def __init__(self, state: ConnectWiseState) -> None:
        self._state = state

    async def on_get(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, ticket_id: int
    ) -> None:
        _ticket(self._state, ticket_id)
        _page(req, resp, self._state.notes[ticket_id])

    async def on_post(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, ticket_id: int
    ) -> None:
        _ticket(self._state, ticket_id)
        body = await req.get_media()
        if not isinstance(body, dict) or not str(body.get("text", "")).strip():
            raise _error(400, "InvalidObject", "text is required")
        note = {
            "id": self._state.new_id(),
            "ticketId": ticket_id,
            "text": body["text"],
            "detailDescriptionFlag": bool(body.get("detailDescriptionFlag")),
            "internalAnalysisFlag": bool(body.get("internalAnalysisFlag")),
            "resolutionFlag": bool(body.get("resolutionFlag")),
            "issueFlag": False,
            "member": {"id": 1, "identifier": "vectis", "name": "Vectis API"},
            "dateCreated": _now(),
            "createdBy": "vectis",
            "internalFlag": bool(body.get("internalAnalysisFlag")),
            "externalFlag": bool(body.get("detailDescriptionFlag")),
            "_info": _info(),
        }
        self._state.notes[ticket_id].append(note)
        resp.status = falcon.HTTP_201
        resp.media = note


class _Callbacks:
    def __init__(self, state: ConnectWiseState) -> None:
        self._state = state

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        callbacks = list(self._state.callbacks.values())
        conditions = req.get_param("conditions") or ""
        if conditions.startswith('url="') and conditions.endswith('"'):
            callbacks = [callback for callback in callbacks if callback["url"] == conditions[5:-1]]
        _page(req, resp, callbacks)

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        body = await req.get_media()
        if not isinstance(body, dict) or not body.get("url") or body.get("type") != "ticket":
            raise _error(400, "InvalidObject", "url and type 'ticket' are required")
        callback = {
            "id": self._state.new_id(),
            "url": body["url"],
            "objectId": body.get("objectId", 1),
            "type": body["type"],
            "level": body.get("level", "owner"),
            "memberId": 1,
            "payloadVersion": body.get("payloadVersion", "3.0.0"),
            "inactiveFlag": bool(body.get("inactiveFlag", False)),
            "isSoapCallbackFlag": False,
            "isSelfSuppressedFlag": bool(body.get("isSelfSuppressedFlag", False)),
            "connectWiseID": str(uuid.uuid4()),
            "_info": _info(),
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


def create_app(state: ConnectWiseState) -> falcon.asgi.App[Any, Any]:
    app = falcon.asgi.App(middleware=[_Auth(state)])
    app.add_route(f"{API}/company/companies", _Companies(state))
    app.add_route(f"{API}/service/tickets", _Tickets(state))
    app.add_route(f"{API}/service/tickets/{{ticket_id:int}}", _Ticket(state))
    app.add_route(f"{API}/service/tickets/{{ticket_id:int}}/notes", _Notes(state))
    app.add_route(f"{API}/system/callbacks", _Callbacks(state))
    app.add_route(f"/{CODEBASE}/system/callbackkey/index.rails", _CallbackKey(state))
    app.add_error_handler(VendorError, _handle_error)
    return app


def deliver(state: ConnectWiseState, action: str, ticket: dict[str, Any]) -> None:
    """Push a ticket change to every active callback, in the background."""
    for callback in state.callbacks.values():
        if not callback["inactiveFlag"]:
            task = asyncio.get_running_loop().create_task(_post(state, callback, action, ticket))
            state.deliveries.append(task)


def callback_body(
    state: ConnectWiseState, callback: dict[str, Any], action: str, ticket: dict[str, Any]
) -> bytes:
    document = {
        "MessageId": str(uuid.uuid4()),
        "FromUrl": state.base_url.split("//", 1)[-1].split("/", 1)[0],
        "CompanyId": state.company_id,
        "MemberId": "portal",
        "Action": action,
        "Type": "ticket",
        "ID": ticket["id"],
        "ProductInstanceId": "sandbox",
        "PartnerId": "sandbox",
        "Entity": json.dumps(ticket),
        "Metadata": {
            "key_url": f"{state.base_url}/system/callbackkey/index.rails"
            f"?companyName={state.company_id}&id={callback['connectWiseID']}"
        },
        "CallbackObjectRecId": callback["id"],
    }
    return json.dumps(document).encode()


def sign(state: ConnectWiseState, callback: dict[str, Any], body: bytes) -> str:
    key = hashlib.sha256(state.signing_keys[callback["connectWiseID"]].encode()).digest()
    return base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode()


async def _post(
    state: ConnectWiseState, callback: dict[str, Any], action: str, ticket: dict[str, Any]
) -> None:
    body = callback_body(state, callback, action, ticket)
    headers = {
        "Content-Type": "application/json",
        "x-content-signature": sign(state, callback, body),
    }
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.post(callback["url"], content=body, headers=headers)
        logger.info("callback %s → %s", callback["url"], response.status_code)
    except httpx.HTTPError as error:
        logger.warning("callback to %s failed: %s", callback["url"], error)


def _page(
    req: falcon.asgi.Request, resp: falcon.asgi.Response, items: list[dict[str, Any]]
) -> None:
    page = req.get_param_as_int("page", min_value=1, default=1)
    size = req.get_param_as_int("pageSize", min_value=1, max_value=1000, default=25)
    start = (page - 1) * size
    resp.media = items[start : start + size]
    links = []
    if start + size < len(items):
        links.append(f'<{req.path}?page={page + 1}&pageSize={size}>; rel="next"')
    last = max(1, -(-len(items) // size))
    links.append(f'<{req.path}?page={last}&pageSize={size}>; rel="last"')
    resp.set_header("Link", ", ".join(links))


def _ticket(state: ConnectWiseState, ticket_id: int) -> dict[str, Any]:
    ticket = state.tickets.get(ticket_id)
    if ticket is None:
        raise _error(404, "NotFound", f"Ticket with id {ticket_id} not found")
    return ticket


class VendorError(Exception):
    """An error ConnectWise answers with: ``{"code": ..., "message": ...}``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


async def _handle_error(
    req: falcon.asgi.Request, resp: falcon.asgi.Response, error: VendorError, params: Any
) -> None:
    resp.status = error.status
    resp.media = {"code": error.code, "message": error.message}


def _error(status: int, code: str, message: str) -> VendorError:
    return VendorError(status, code, message)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _info() -> dict[str, str]:
    return {"lastUpdated": _now(), "updatedBy": "sandbox"}
