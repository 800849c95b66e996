"""``/healthz`` (the process answers) and ``/readyz`` (database up, migrations current)."""

from __future__ import annotations

import falcon
import falcon.asgi

from vectis.application.services import Services


class Liveness:
    auth = "public"

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.media = {"status": "ok"}


class Readiness:
    auth = "public"

    def __init__(self, services: Services) -> None:
        self._services = services

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        readiness = await self._services.health.readiness()
        resp.status = falcon.HTTP_200 if readiness.ready else falcon.HTTP_503
        resp.media = {
            "status": "ready" if readiness.ready else "not ready",
            "database": readiness.database_ok,
            "migrations_current": readiness.schema_current,
            "detail": readiness.detail,
        }
