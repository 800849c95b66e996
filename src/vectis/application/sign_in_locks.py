"""An owner's view of the tenant's throttled sign-ins, and lifting a lock (hub, API and CLI)."""

from __future__ import annotations

from uuid import UUID

from vectis.application.audit import record
from vectis.application.errors import NotFound
from vectis.application.identity import require
from vectis.application.ports import Clock
from vectis.application.unit_of_work import UnitOfWork, UnitOfWorkFactory
from vectis.domain.audit import Actor, ActorKind, AuditTarget, Outcome
from vectis.domain.identity import Principal
from vectis.domain.sign_in_throttle import SignInLock, ThrottleRules
from vectis.domain.tenancy import Operator, Permission, normalize_email

_CLI = Actor(kind=ActorKind.SYSTEM, id=None, label="cli")


class SignInLockService:
    """Owners see which of their operators are throttled and clear them; each clear is audited."""

    def __init__(
        self, uow: UnitOfWorkFactory, clock: Clock, rules: ThrottleRules | None = None
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._rules = rules or ThrottleRules()

    @property
    def rules(self) -> ThrottleRules:
        return self._rules

    async def list_locks(self, principal: Principal) -> list[SignInLock]:
        """The tenant's operators with failed sign-ins in the throttle window."""
        require(principal, Permission.MANAGE_TENANT)
        async with self._uow(principal.tenant_id) as uow:
            return await uow.throttle.locks(self._rules, self._clock.now())

    async def clear(self, principal: Principal, operator_id: UUID) -> Operator:
        """Lift an operator's cool-down and per-address counts, so they can sign in at once."""
        require(principal, Permission.MANAGE_TENANT)
        async with self._uow(principal.tenant_id) as uow:
            operator = await uow.operators.get(operator_id)
            if operator is None:
                raise NotFound(f"no operator {operator_id} in this tenant")
            await self._clear(uow, operator, principal.actor)
            await uow.commit()
        return operator

    async def clear_by_email(self, email: str, *, actor: Actor = _CLI) -> Operator:
        """``clear`` for the command line, which names the operator by e-mail address."""
        async with self._uow() as uow:
            found = await uow.operators.find_for_login(normalize_email(email))
            if found is None:
                raise NotFound(f"no operator with the e-mail address {email}")
            operator = found[0]
            await uow.bind_tenant(operator.tenant_id)
            await self._clear(uow, operator, actor)
            await uow.commit()
        return operator

    async def _clear(self, uow: UnitOfWork, operator: Operator, actor: Actor) -> None:
        cleared = await uow.throttle.clear(operator.id)
        await record(
            uow,
            self._clock,
            actor=actor,
            action="operator.unlock",
            target=AuditTarget(system="vectis", object_id=str(operator.id)),
            outcome=Outcome.SUCCEEDED,
            payload={"email": operator.email, "counters_cleared": cleared},
        )
