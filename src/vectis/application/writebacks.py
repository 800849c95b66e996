"""The one audited path for every change Vectis makes in a vendor system.

``request`` refuses an action aimed at an id the vendor can never have, then stores the
write-back, its audit entry and its job in the caller's unit of work; ``perform`` (the job body)
runs the action through the vendor's port and records the outcome. Only a vendor outage is
retried: any other failure, a request Vectis could not even build included, is final at once.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from uuid import UUID, uuid4

import attrs

from vectis.application.audit import record
from vectis.application.errors import Conflict, NotFound
from vectis.application.identity import require
from vectis.application.integrations import IntegrationService
from vectis.application.ports import Clock, Connectors, WebhookSubscriptions
from vectis.application.sync_queue import request_sync
from vectis.application.unit_of_work import UnitOfWork, UnitOfWorkFactory
from vectis.domain.alerting import Alerting
from vectis.domain.audit import Actor, AuditTarget, Outcome
from vectis.domain.errors import VendorError
from vectis.domain.identity import Principal
from vectis.domain.integration import Credentials, Integration
from vectis.domain.tenancy import Permission
from vectis.domain.ticketing import Ticketing
from vectis.domain.writeback import (
    AddTicketNote,
    CreateTicket,
    ResetAlert,
    SubscribeWebhooks,
    UpdateTicket,
    WriteBack,
    WriteBackAction,
    WriteBackStatus,
)

logger = logging.getLogger(__name__)
PERFORM_WRITEBACK = "vectis:perform_writeback"
MAX_ATTEMPTS = 5

Handler = Callable[[Connectors, Integration, Credentials, WriteBack], Awaitable[dict[str, Any]]]


async def create_ticket(
    connectors: Connectors, integration: Integration, credentials: Credentials, writeback: WriteBack
) -> dict[str, Any]:
    action = writeback.action
    assert isinstance(action, CreateTicket)
    ticket = await connectors.port(Ticketing, integration, credentials).create_ticket(
        action.draft, idempotency_key=writeback.idempotency_key
    )
    return {"ticket_id": ticket.id, "number": ticket.number, "url": ticket.url}


async def update_ticket(
    connectors: Connectors, integration: Integration, credentials: Credentials, writeback: WriteBack
) -> dict[str, Any]:
    action = writeback.action
    assert isinstance(action, UpdateTicket)
    ticket = await connectors.port(Ticketing, integration, credentials).update_ticket(
        action.ticket_id, action.change, idempotency_key=writeback.idempotency_key
    )
    return {
        "ticket_id": ticket.id,
        "status": ticket.status.name if ticket.status else None,
        "priority": ticket.priority.name if ticket.priority else None,
    }


async def reset_alert(
    connectors: Connectors, integration: Integration, credentials: Credentials, writeback: WriteBack
) -> dict[str, Any]:
    action = writeback.action
    assert isinstance(action, ResetAlert)
    await connectors.port(Alerting, integration, credentials).reset_alert(
        action.alert_id, idempotency_key=writeback.idempotency_key
    )
    return {"alert_id": action.alert_id}


async def add_ticket_note(
    connectors: Connectors, integration: Integration, credentials: Credentials, writeback: WriteBack
) -> dict[str, Any]:
    action = writeback.action
    assert isinstance(action, AddTicketNote)
    note = await connectors.port(Ticketing, integration, credentials).add_note(
        action.ticket_id,
        action.text,
        internal=action.internal,
        idempotency_key=writeback.idempotency_key,
    )
    return {"note_id": note.id}


async def subscribe_webhooks(
    connectors: Connectors, integration: Integration, credentials: Credentials, writeback: WriteBack
) -> dict[str, Any]:
    action = writeback.action
    assert isinstance(action, SubscribeWebhooks)
    subscriptions = connectors.port(WebhookSubscriptions, integration, credentials)
    subscription = await subscriptions.ensure_subscribed(action.receiver_url)
    return {"subscription_id": subscription}


HANDLERS: Mapping[type[WriteBackAction], Handler] = {
    CreateTicket: create_ticket,
    UpdateTicket: update_ticket,
    AddTicketNote: add_ticket_note,
    ResetAlert: reset_alert,
    SubscribeWebhooks: subscribe_webhooks,
}


class WriteBackService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        integrations: IntegrationService,
        connectors: Connectors,
        clock: Clock,
    ) -> None:
        self._uow = uow
        self._integrations = integrations
        self._connectors = connectors
        self._clock = clock

    async def request(
        self,
        principal: Principal,
        integration_id: UUID,
        action: WriteBackAction,
        *,
        idempotency_key: str | None = None,
    ) -> WriteBack:
        """An operator or token asks for a change; it runs in the background."""
        require(principal, Permission.WRITE_BACK)
        async with self._uow(principal.tenant_id) as uow:
            writeback = await self.request_in(
                uow, principal.actor, integration_id, action, idempotency_key=idempotency_key
            )
            await uow.commit()
        return writeback

    async def request_in(
        self,
        uow: UnitOfWork,
        actor: Actor,
        integration_id: UUID,
        action: WriteBackAction,
        *,
        idempotency_key: str | None = None,
    ) -> WriteBack:
        """Request a write-back inside the caller's unit of work (automations use this)."""
        assert uow.tenant_id is not None
        integration = await uow.integrations.get(integration_id)
        if integration is None:
            raise NotFound(f"no integration {integration_id}")
        if action.target_kind is not None:
            vendor = self._integrations.vendor(integration.vendor)
            vendor.check_record_id(action.target_kind, action.target_id)
        writeback = WriteBack(
            id=uuid4(),
            tenant_id=uow.tenant_id,
            integration_id=integration_id,
            action=action,
            idempotency_key=idempotency_key or uuid4().hex,
            requested_by=actor,
            requested_at=self._clock.now(),
        )
        stored = await uow.writebacks.add(writeback)
        if stored.id != writeback.id:
            if (stored.integration_id, stored.action) != (integration_id, action):
                # The key was sent before with another change (a form edited after sending):
                # making this change under it would be lost, making the first again is wrong.
                raise Conflict(
                    "This was already sent once with other details, so it was not sent again. "
                    "Open the form afresh to send this change."
                )
            return stored  # asked for before under this key: nothing new to do
        await record(
            uow,
            self._clock,
            actor=actor,
            action=f"writeback.{writeback.action_name}",
            target=AuditTarget(system=integration.vendor, object_id=action.target_id),
            outcome=Outcome.REQUESTED,
            payload=_audit_payload(writeback),
        )
        await uow.jobs.defer(
            PERFORM_WRITEBACK,
            {"tenant_id": str(writeback.tenant_id), "writeback_id": str(writeback.id)},
            lock=f"writeback:{writeback.id}",
        )
        return writeback

    async def perform(self, tenant_id: UUID, writeback_id: UUID) -> WriteBack:
        """Run one write-back (the job body). Vendor outages are retried; refusals, and requests
        that could not be built, are final."""
        async with self._uow(tenant_id) as uow:
            writeback = await uow.writebacks.get(writeback_id, for_update=True)
            if writeback is None:
                raise NotFound(f"no write-back {writeback_id}")
            if writeback.status.is_final:
                return writeback
            integration = await uow.integrations.get(writeback.integration_id)
            assert integration is not None
            credentials = await self._integrations.open_credentials(uow, integration.id)
            writeback = attrs.evolve(
                writeback, status=WriteBackStatus.RUNNING, attempts=writeback.attempts + 1
            )
            await uow.writebacks.save(writeback)
            await uow.commit()
        try:
            result = await HANDLERS[type(writeback.action)](
                self._connectors, integration, credentials, writeback
            )
        except VendorError as error:
            if error.retriable and writeback.attempts < MAX_ATTEMPTS:
                await self._finish(
                    writeback, integration, WriteBackStatus.PENDING, error=str(error)
                )
                raise
            return await self._finish(
                writeback, integration, WriteBackStatus.FAILED, error=str(error)
            )
        except Exception as error:
            # Not the vendor's answer but our own failure to build or read the request (a
            # mapping that cannot take this action): every attempt would fail alike, so the
            # write-back fails now instead of staying "running" with nothing left to run it.
            logger.exception("write-back %s could not be performed", writeback.id)
            reason = f"Vectis could not make this request of {integration.vendor}: {error}"
            return await self._finish(writeback, integration, WriteBackStatus.FAILED, error=reason)
        return await self._finish(writeback, integration, WriteBackStatus.SUCCEEDED, result=result)

    async def get(self, principal: Principal, writeback_id: UUID) -> WriteBack:
        require(principal, Permission.READ)
        async with self._uow(principal.tenant_id) as uow:
            writeback = await uow.writebacks.get(writeback_id)
        if writeback is None:
            raise NotFound(f"no write-back {writeback_id}")
        return writeback

    async def _finish(
        self,
        writeback: WriteBack,
        integration: Integration,
        status: WriteBackStatus,
        *,
        result: Mapping[str, Any] | None = None,
        error: str | None = None,
    ) -> WriteBack:
        now = self._clock.now()
        finished = attrs.evolve(
            writeback,
            status=status,
            finished_at=now if status.is_final else None,
            result=dict(result or {}),
            error=error,
        )
        async with self._uow(writeback.tenant_id) as uow:
            await uow.writebacks.save(finished)
            await uow.integrations.record_health(integration.id, at=now, error=error)
            if status is WriteBackStatus.SUCCEEDED and not isinstance(
                writeback.action, SubscribeWebhooks
            ):
                # Bring the change (a new ticket, a cleared alert) into the unified model now.
                await request_sync(uow, integration.id)
            await record(
                uow,
                self._clock,
                actor=writeback.requested_by,
                action=f"writeback.{writeback.action_name}",
                target=AuditTarget(system=integration.vendor, object_id=writeback.action.target_id),
                outcome=Outcome.SUCCEEDED
                if status is WriteBackStatus.SUCCEEDED
                else Outcome.FAILED,
                payload={
                    **_audit_payload(finished),
                    "attempt": finished.attempts,
                    "result": dict(finished.result),
                    "error": error,
                },
            )
            await uow.commit()
        return finished


def _audit_payload(writeback: WriteBack) -> dict[str, Any]:
    return {
        "writeback_id": str(writeback.id),
        "integration_id": str(writeback.integration_id),
        "action": writeback.action_name,
        "params": attrs.asdict(writeback.action),
        "idempotency_key": writeback.idempotency_key,
        "status": writeback.status.value,
    }
