"""Inbound vendor webhooks at ``/webhooks/{integration_id}``, verified before anything is kept."""

from __future__ import annotations

from uuid import UUID

import falcon
import falcon.asgi

from vectis.application.services import Services
from vectis.entrypoints.http.edge import MAX_BODY_BYTES, check_delivery


class WebhookReceiver:
    auth = "public"

    def __init__(self, services: Services) -> None:
        self._services = services

    async def on_post(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, integration_id: UUID
    ) -> None:
        if req.content_length is not None and req.content_length > MAX_BODY_BYTES:
            raise falcon.HTTPContentTooLarge(description="webhook bodies are limited to 1 MiB")
        body = await req.stream.read(MAX_BODY_BYTES + 1)
        if len(body) > MAX_BODY_BYTES:
            raise falcon.HTTPContentTooLarge(description="webhook bodies are limited to 1 MiB")
        check_delivery(body)
        headers = {name.lower(): value for name, value in req.headers.items()}
        accepted = await self._services.inbox.receive_webhook(integration_id, headers, body)
        resp.status = falcon.HTTP_202
        resp.media = {"accepted": accepted}
