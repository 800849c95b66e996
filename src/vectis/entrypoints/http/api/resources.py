"""REST resources: parse at the edge, call one application service, shape the answer."""

from __future__ import annotations

import json
from datetime import datetime
from importlib import resources as package_files
from typing import Any
from uuid import UUID

import falcon
import falcon.asgi

from vectis.application.services import Services
from vectis.domain.errors import InvalidValue
from vectis.domain.timeline import (
    MAX_PAGE_SIZE,
    PAGE_SIZE,
    TimelinePosition,
    TimelineQuery,
    parse_topics,
)
from vectis.entrypoints.http.api.schema import (
    MAX_IDEMPOTENCY_KEY_LENGTH,
    RequestWriteBack,
    WriteNote,
    audit_json,
    customer_json,
    event_json,
    note_json,
    parse_command,
    principal_json,
    revision_json,
    sign_in_lock_json,
    writeback_json,
)
from vectis.entrypoints.http.cursors import PageCursors, timeline_scope

OPENAPI = json.loads(
    package_files.files("vectis.entrypoints.http.api").joinpath("openapi.json").read_text()
)


class OpenApiDocument:
    auth = "public"

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.media = OPENAPI


class Me:
    auth = "token"

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.media = principal_json(req.context.principal)


class Customers:
    auth = "token"

    def __init__(self, services: Services) -> None:
        self._services = services

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        customers = await self._services.tenancy.list_customers(
            req.context.principal, search=req.get_param("search") or None
        )
        resp.media = {"items": [customer_json(customer) for customer in customers]}


class Customer:
    auth = "token"

    def __init__(self, services: Services) -> None:
        self._services = services

    async def on_get(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, customer_id: UUID
    ) -> None:
        customer = await self._services.tenancy.get_customer(req.context.principal, customer_id)
        resp.media = customer_json(customer)


class Timeline:
    """A customer's timeline, newest first, a page at a time (``next`` names the next page)."""

    auth = "token"

    def __init__(self, services: Services, cursors: PageCursors) -> None:
        self._services = services
        self._cursors = cursors

    async def on_get(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, customer_id: UUID
    ) -> None:
        scope = timeline_scope(customer_id)
        page = await self._services.timeline.page(
            req.context.principal,
            TimelineQuery(
                customer_id=customer_id,
                since=_moment(req.get_param("since"), "since"),
                until=_moment(req.get_param("until"), "until"),
                sources=frozenset(req.get_param_as_list("source") or ()),
                topics=parse_topics(req.get_param_as_list("topic") or ()),
                site=req.get_param("site") or None,
                after=self._cursors.read(req.get_param("after"), scope, TimelinePosition.decode),
                limit=req.get_param_as_int(
                    "limit", min_value=1, max_value=MAX_PAGE_SIZE, default=PAGE_SIZE
                ),
            ),
        )
        resp.media = {
            "items": [event_json(event) for event in page.entries],
            "next": self._cursors.issue(page.next, scope) if page.next else None,
        }


class Notes:
    auth = "token"

    def __init__(self, services: Services) -> None:
        self._services = services

    async def on_get(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, customer_id: UUID
    ) -> None:
        notes = await self._services.timeline.notes(req.context.principal, customer_id)
        resp.media = {"items": [note_json(note) for note in notes]}

    async def on_post(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, customer_id: UUID
    ) -> None:
        command: WriteNote = parse_command(await _json_body(req), WriteNote)
        note = await self._services.timeline.add_note(
            req.context.principal,
            customer_id,
            command.body,
            format=command.format,
            idempotency_key=_idempotency_key(req),
        )
        resp.status = falcon.HTTP_201
        resp.location = f"/api/v1/customers/{customer_id}/notes/{note.id}"
        resp.media = note_json(note)


class Note:
    """One note with every text it has had (GET), or a new text for it (PUT)."""

    auth = "token"

    def __init__(self, services: Services) -> None:
        self._services = services

    async def on_get(
        self,
        req: falcon.asgi.Request,
        resp: falcon.asgi.Response,
        customer_id: UUID,
        note_id: UUID,
    ) -> None:
        note, history = await self._services.timeline.note(
            req.context.principal, customer_id, note_id
        )
        resp.media = {**note_json(note), "revisions": [revision_json(r) for r in history]}

    async def on_put(
        self,
        req: falcon.asgi.Request,
        resp: falcon.asgi.Response,
        customer_id: UUID,
        note_id: UUID,
    ) -> None:
        command: WriteNote = parse_command(await _json_body(req), WriteNote)
        note = await self._services.timeline.edit_note(
            req.context.principal, customer_id, note_id, command.body, format=command.format
        )
        resp.media = note_json(note)


class WriteBacks:
    auth = "token"

    def __init__(self, services: Services) -> None:
        self._services = services

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        command: RequestWriteBack = parse_command(await _json_body(req), RequestWriteBack)
        writeback = await self._services.writebacks.request(
            req.context.principal,
            command.integration_id,
            command.to_action(),
            idempotency_key=command.idempotency_key,
        )
        resp.status = falcon.HTTP_202
        resp.location = f"/api/v1/writebacks/{writeback.id}"
        resp.media = writeback_json(writeback)


class WriteBack:
    auth = "token"

    def __init__(self, services: Services) -> None:
        self._services = services

    async def on_get(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, writeback_id: UUID
    ) -> None:
        writeback = await self._services.writebacks.get(req.context.principal, writeback_id)
        resp.media = writeback_json(writeback)


class AuditEntries:
    auth = "token"

    def __init__(self, services: Services) -> None:
        self._services = services

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        limit = req.get_param_as_int("limit", min_value=1, max_value=500, default=50)
        records = await self._services.audit.recent(req.context.principal, limit=limit)
        resp.media = {"items": [audit_json(record) for record in records]}


class SignInLocks:
    """The tenant's operators with failed sign-ins lately (owners only)."""

    auth = "token"

    def __init__(self, services: Services) -> None:
        self._services = services

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        locks = await self._services.sign_in_locks.list_locks(req.context.principal)
        resp.media = {"items": [sign_in_lock_json(lock) for lock in locks]}


class SignInLock:
    """Clearing one operator's sign-in lock (owners only; audited)."""

    auth = "token"

    def __init__(self, services: Services) -> None:
        self._services = services

    async def on_delete(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, operator_id: UUID
    ) -> None:
        await self._services.sign_in_locks.clear(req.context.principal, operator_id)
        resp.status = falcon.HTTP_204


def _moment(value: str | None, name: str) -> datetime | None:
    """An ISO 8601 time with its zone (``2026-11-20T09:00:00Z``)."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidValue(f"{name} is not an ISO 8601 time: {value!r}") from None
    if moment.tzinfo is None:
        raise InvalidValue(f"{name} must carry a time zone (Z or +hh:mm): {value!r}")
    return moment


async def _json_body(req: falcon.asgi.Request) -> Any:
    if not (req.content_type or "").startswith("application/json"):
        raise falcon.HTTPUnsupportedMediaType(
            description="send the request body as application/json"
        )
    try:
        return await req.get_media()
    except falcon.MediaMalformedError:
        raise InvalidValue("the request body is not valid JSON") from None


def _idempotency_key(req: falcon.asgi.Request) -> str | None:
    """The request's ``Idempotency-Key`` header, kept apart from the hub's submission keys."""
    key = req.get_header("Idempotency-Key")
    if key is None:
        return None
    if not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY_LENGTH:
        raise InvalidValue(
            f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY_LENGTH} characters long"
        )
    return f"api:{key}"
