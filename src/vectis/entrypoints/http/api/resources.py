"""REST resources: parse at the edge, call one application service, shape the answer."""

from __future__ import annotations

import json
from importlib import resources as package_files
from typing import Any
from uuid import UUID

import falcon
import falcon.asgi

from vectis.application.services import Services
from vectis.domain.errors import InvalidValue
from vectis.entrypoints.http.api.schema import (
    RequestWriteBack,
    audit_json,
    customer_json,
    parse_command,
    principal_json,
    writeback_json,
)

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


async def _json_body(req: falcon.asgi.Request) -> Any:
    if not (req.content_type or "").startswith("application/json"):
        raise InvalidValue("send the request body as application/json")
    try:
        return await req.get_media()
    except falcon.MediaMalformedError:
        raise InvalidValue("the request body is not valid JSON") from None
