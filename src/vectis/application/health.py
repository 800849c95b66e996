"""Liveness and readiness, for load balancers and orchestrators."""

from __future__ import annotations

from vectis.application.ports import DatabaseProbe, Readiness


class HealthService:
    def __init__(self, probe: DatabaseProbe) -> None:
        self._probe = probe

    async def readiness(self) -> Readiness:
        return await self._probe.readiness()
