"""Syncing integrations into the unified model: queuing runs, scheduling them, reading how
they went, checking credentials, and running one now.

A run itself is ``SyncRunner`` (``sync_run``); one page of it is ``PageWriter``
(``sync_pages``), stored in its own unit of work with its events and the stream's cursor, so a
sync that stops half-way keeps what it stored and resumes where it stopped.
"""

from __future__ import annotations

from uuid import UUID

from vectis.application.errors import NotFound
from vectis.application.identity import require
from vectis.application.sync_queue import request_sync
from vectis.application.sync_run import Progress, SyncRunner
from vectis.domain.errors import VendorError
from vectis.domain.identity import Principal
from vectis.domain.integration import Integration
from vectis.domain.sync import SyncRun, SyncSource
from vectis.domain.tenancy import Permission

DEFAULT_INTERVAL_MINUTES = 15


class SyncService(SyncRunner):
    """The sync's use cases; the run itself (``run``) is ``SyncRunner``'s."""

    async def request(
        self, principal: Principal, integration_id: UUID, *, full: bool = False
    ) -> bool:
        """Queue a sync; ``False`` when one is already waiting for this integration."""
        require(principal, Permission.MANAGE_INTEGRATIONS)
        async with self._uow(principal.tenant_id) as uow:
            if await uow.integrations.get(integration_id) is None:
                raise NotFound(f"no integration {integration_id}")
            queued = await request_sync(uow, integration_id, full=full)
            await uow.commit()
        return queued

    async def schedule_due(self) -> int:
        """Queue a sync for every integration whose interval has passed (the periodic job)."""
        now = self._clock.now()
        queued = 0
        async with self._uow() as uow:
            tenant_ids = await uow.tenants.ids()
        for tenant_id in tenant_ids:
            async with self._uow(tenant_id) as uow:
                last = await uow.sync_runs.last_started()
                for integration in await uow.integrations.list_all():
                    if not integration.setting("sync_enabled", True):
                        continue
                    minutes = float(
                        integration.setting("sync_interval_minutes", DEFAULT_INTERVAL_MINUTES)
                    )
                    started = last.get(integration.id)
                    if started and (now - started).total_seconds() < minutes * 60:
                        continue
                    queued += await request_sync(uow, integration.id)
                await uow.commit()
        return queued

    async def runs(
        self, principal: Principal, integration_id: UUID, limit: int = 20
    ) -> list[SyncRun]:
        require(principal, Permission.READ)
        async with self._uow(principal.tenant_id) as uow:
            if await uow.integrations.get(integration_id) is None:
                raise NotFound(f"no integration {integration_id}")
            return await uow.sync_runs.latest(integration_id, limit)

    async def check(self, principal: Principal, integration_id: UUID) -> str:
        """Test an integration's credentials with one cheap authenticated call."""
        require(principal, Permission.MANAGE_INTEGRATIONS)
        async with self._uow(principal.tenant_id) as uow:
            integration = await uow.integrations.get(integration_id)
            if integration is None:
                raise NotFound(f"no integration {integration_id}")
            credentials = await self._integrations.open_credentials(uow, integration_id)
        try:
            label = await self._connectors.port(SyncSource, integration, credentials).check()
        except VendorError as error:
            await self._record_health(integration, str(error))
            raise
        await self._record_health(integration, None)
        return label

    async def sync_now(
        self,
        principal: Principal,
        integration_id: UUID,
        *,
        full: bool = False,
        progress: Progress | None = None,
    ) -> SyncRun:
        """An operator's sync, run here rather than queued (``vectis integration sync``)."""
        require(principal, Permission.MANAGE_INTEGRATIONS)
        return await self.run(principal.tenant_id, integration_id, full=full, progress=progress)

    async def _record_health(self, integration: Integration, error: str | None) -> None:
        async with self._uow(integration.tenant_id) as uow:
            await uow.integrations.record_health(integration.id, at=self._clock.now(), error=error)
            await uow.commit()
