"""Queuing a sync of one integration, inside the caller's unit of work."""

from __future__ import annotations

from uuid import UUID

from vectis.application.unit_of_work import UnitOfWork

SYNC_INTEGRATION = "vectis:sync_integration"


async def request_sync(uow: UnitOfWork, integration_id: UUID, *, full: bool = False) -> bool:
    """Queue a sync of one integration in the caller's unit of work (coalesced per integration)."""
    assert uow.tenant_id is not None
    return await uow.jobs.defer(
        SYNC_INTEGRATION,
        {"tenant_id": str(uow.tenant_id), "integration_id": str(integration_id), "full": full},
        queueing_lock=f"sync:{integration_id}",
        lock=f"sync:{integration_id}",
    )
