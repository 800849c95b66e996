"""Recording to the audit log, verifying its chains and taking checkpoints of them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from attrs import frozen

from vectis.application.errors import PermissionDenied
from vectis.application.ports import AuditChainer, Clock
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
) -> AuditEntry:
    """Append an entry in the caller's unit of work, so it commits with the change it records.

    Its link in the tenant's hash chain is added right after the unit of work commits."""
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
    await uow.audit.append(entry)
    return entry


@frozen(kw_only=True)
class VerificationReport:
    tenants: int
    entries: int
    breaks: tuple[ChainBreak, ...]

    @property
    def ok(self) -> bool:
        return not self.breaks


class AuditService:
    def __init__(self, uow: UnitOfWorkFactory, chainer: AuditChainer) -> None:
        self._uow = uow
        self._chainer = chainer

    async def seal_all(self) -> int:
        """Link every tenant's pending entries (those whose writer stopped before linking)."""
        linked = 0
        for tenant_id in await self._tenant_ids():
            linked += await self._chainer.seal(tenant_id)
        return linked

    async def verify(
        self, checkpoints: Mapping[UUID, ChainHead] | None = None
    ) -> VerificationReport:
        """Walk every tenant's chain; report the first broken entry of each broken chain.

        Pending entries are linked first, so the walk covers everything committed so far.
        """
        checkpoints = checkpoints or {}
        tenant_ids = await self._tenant_ids()
        breaks: list[ChainBreak] = []
        entries = 0
        for tenant_id in tenant_ids:
            await self._chainer.seal(tenant_id)
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
        heads = []
        for tenant_id in await self._tenant_ids():
            await self._chainer.seal(tenant_id)
            async with self._uow(tenant_id) as uow:
                head = await uow.audit.head()
            heads.append(head or ChainHead.genesis(tenant_id))
        return heads

    async def recent(self, principal: Principal, limit: int = 50) -> list[AuditRecord]:
        if not principal.can(Permission.READ):
            raise PermissionDenied
        async with self._uow(principal.tenant_id) as uow:
            return await uow.audit.latest(limit)

    async def _tenant_ids(self) -> list[UUID]:
        async with self._uow() as uow:
            return await uow.tenants.ids()

    async def _walk(self, tenant_id: UUID, walker: ChainWalker) -> ChainBreak | None:
        async with self._uow(tenant_id) as uow:
            orphans = await uow.audit.unlinked()
            if orphans:
                return ChainBreak(
                    tenant_id=tenant_id,
                    seq=0,
                    record_id=orphans[0],
                    reason="the entry is neither in the chain nor waiting to be linked",
                )
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
                after = batch[-1].seq or up_to
            return walker.finish(head)
