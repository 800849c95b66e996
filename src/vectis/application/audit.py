"""Recording to the audit log, verifying its chains and taking checkpoints of them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from attrs import frozen

from vectis.application.errors import PermissionDenied
from vectis.application.ports import Clock
from vectis.application.unit_of_work import UnitOfWork, UnitOfWorkFactory
from vectis.domain.audit import (
    Actor,
    AuditEntry,
    AuditRecord,
    AuditTarget,
    ChainBreak,
    ChainHead,
    ChainWalker,
    Outcome,
    genesis_hash,
)
from vectis.domain.identity import Principal
from vectis.domain.tenancy import Permission

_BATCH = 2_000


async def record(
    uow: UnitOfWork,
    clock: Clock,
    *,
    actor: Actor,
    action: str,
    target: AuditTarget,
    outcome: Outcome,
    payload: Mapping[str, Any] | None = None,
) -> AuditRecord:
    """Append an entry in the caller's unit of work, so it commits with the change it records."""
    if uow.tenant_id is None:
        raise RuntimeError("audit entries belong to a tenant; bind the unit of work first")
    entry = AuditEntry.record(
        tenant_id=uow.tenant_id,
        occurred_at=clock.now(),
        actor=actor,
        action=action,
        target=target,
        outcome=outcome,
        payload=payload,
    )
    return await uow.audit.append(entry)


@frozen(kw_only=True)
class VerificationReport:
    tenants: int
    entries: int
    breaks: tuple[ChainBreak, ...]

    @property
    def ok(self) -> bool:
        return not self.breaks


class AuditService:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def verify(
        self, checkpoints: Mapping[UUID, ChainHead] | None = None
    ) -> VerificationReport:
        """Walk every tenant's chain; report the first broken entry of each broken chain."""
        checkpoints = checkpoints or {}
        async with self._uow() as uow:
            tenant_ids = [tenant.id for tenant in await uow.tenants.list_all()]
        breaks: list[ChainBreak] = []
        entries = 0
        for tenant_id in tenant_ids:
            walker = ChainWalker(tenant_id, checkpoint=checkpoints.get(tenant_id))
            found = await self._walk(tenant_id, walker)
            entries += walker.checked
            if found:
                breaks.append(found)
        for missing in sorted(set(checkpoints) - set(tenant_ids), key=str):
            breaks.append(
                ChainBreak(
                    tenant_id=missing,
                    seq=checkpoints[missing].seq,
                    record_id=None,
                    reason="the checkpoint names a tenant the database no longer has",
                )
            )
        return VerificationReport(tenants=len(tenant_ids), entries=entries, breaks=tuple(breaks))

    async def checkpoint(self) -> list[ChainHead]:
        """Each tenant's current chain head, to be kept somewhere the database cannot reach."""
        async with self._uow() as uow:
            tenant_ids = [tenant.id for tenant in await uow.tenants.list_all()]
        heads = []
        for tenant_id in tenant_ids:
            async with self._uow(tenant_id) as uow:
                head = await uow.audit.head()
            heads.append(
                head or ChainHead(tenant_id=tenant_id, seq=0, hash=genesis_hash(tenant_id))
            )
        return heads

    async def recent(self, principal: Principal, limit: int = 50) -> list[AuditRecord]:
        if not principal.can(Permission.READ):
            raise PermissionDenied
        async with self._uow(principal.tenant_id) as uow:
            return await uow.audit.latest(limit)

    async def _walk(self, tenant_id: UUID, walker: ChainWalker) -> ChainBreak | None:
        async with self._uow(tenant_id) as uow:
            head = await uow.audit.head()
            up_to = head.seq if head else 0
            after = 0
            while after < up_to:
                batch = await uow.audit.records_after(after, up_to=up_to, limit=_BATCH)
                if not batch:
                    break
                for audit_record in batch:
                    found = walker.step(audit_record)
                    if found:
                        return found
                after = batch[-1].seq
            return walker.finish(head)
