"""Receiving inbound events from connectors and turning them into the event stream.

Receiving stores events in the inbox (dropping ones seen before) and queues at most one
processing job per tenant; that job drains the inbox in batches, so a burst of a thousand
webhooks costs a handful of jobs, not a thousand.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from uuid import UUID

from vectis.application.automation import acknowledge_new_ticket
from vectis.application.errors import NotFound
from vectis.application.integrations import IntegrationService
from vectis.application.ports import Clock, Connectors, WebhookParser
from vectis.application.sync_queue import request_sync
from vectis.application.unit_of_work import InboxItem, UnitOfWork, UnitOfWorkFactory
from vectis.application.writebacks import WriteBackService
from vectis.domain.changes import to_event
from vectis.domain.events import EventKind, InboundEvent
from vectis.domain.integration import Integration

PROCESS_INBOX = "vectis:process_inbox"
DELETION_KINDS = frozenset({EventKind.TICKET_DELETED})
BATCH_SIZE = 500


class InboxService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        integrations: IntegrationService,
        connectors: Connectors,
        writebacks: WriteBackService,
        clock: Clock,
    ) -> None:
        self._uow = uow
        self._integrations = integrations
        self._connectors = connectors
        self._writebacks = writebacks
        self._clock = clock

    async def receive_webhook(
        self, integration_id: UUID, headers: Mapping[str, str], body: bytes
    ) -> int:
        """Verify a vendor's delivery, then store its events; a rejected one stores nothing."""
        async with self._uow() as uow:
            integration = await uow.integrations.find_for_webhook(integration_id)
            if integration is None:
                raise NotFound(f"no integration {integration_id}")
            await uow.bind_tenant(integration.tenant_id)
            credentials = await self._integrations.open_credentials(uow, integration.id)
        # Verification may fetch a signing key over HTTP: outside any transaction.
        parser = self._connectors.port(WebhookParser, integration, credentials)
        events = await parser.parse(headers, body, self._clock.now())
        return await self.receive(integration.tenant_id, integration.id, events)

    async def receive(
        self, tenant_id: UUID, integration_id: UUID, events: Sequence[InboundEvent]
    ) -> int:
        """Store what is new and make sure a job will process it; return how many were new."""
        async with self._uow(tenant_id) as uow:
            if await uow.integrations.get(integration_id) is None:
                raise NotFound(f"no integration {integration_id}")
            added = await uow.inbox.add(integration_id, events, self._clock.now())
            if added:
                await uow.jobs.defer(
                    PROCESS_INBOX, {"tenant_id": str(tenant_id)}, queueing_lock=f"inbox:{tenant_id}"
                )
            await uow.commit()
        return added

    async def process(self, tenant_id: UUID, *, max_batches: int = 20) -> int:
        """Drain the tenant's inbox: events into the stream, automations' write-backs queued."""
        processed = 0
        for _ in range(max_batches):
            async with self._uow(tenant_id) as uow:
                items = await uow.inbox.claim(BATCH_SIZE)
                if not items:
                    break
                await self._process_batch(uow, tenant_id, items)
                await uow.commit()
            processed += len(items)
        else:
            async with self._uow(tenant_id) as uow:
                await uow.jobs.defer(
                    PROCESS_INBOX, {"tenant_id": str(tenant_id)}, queueing_lock=f"inbox:{tenant_id}"
                )
                await uow.commit()
        return processed

    async def _process_batch(
        self, uow: UnitOfWork, tenant_id: UUID, items: list[InboxItem]
    ) -> None:
        by_integration: dict[UUID, list[InboxItem]] = defaultdict(list)
        for item in items:
            by_integration[item.integration_id].append(item)
        for integration_id, batch in by_integration.items():
            integration = await uow.integrations.get(integration_id)
            if integration is None:
                continue
            refs = [item.event.company_ref for item in batch if item.event.company_ref]
            customers = await uow.integrations.linked_customers(integration_id, refs)
            events = [to_event(integration, item.event, customers) for item in batch]
            await self._apply_deletions(uow, integration, batch)
            await uow.events.append(events)
            # The delivery says what changed; the sync fetches the records it changed.
            await request_sync(uow, integration.id)
            for event in events:
                decision = acknowledge_new_ticket(event, integration)
                if decision:
                    await self._writebacks.request_in(
                        uow,
                        decision.actor,
                        integration.id,
                        decision.action,
                        idempotency_key=decision.idempotency_key,
                    )
        await uow.inbox.mark_processed([item.id for item in items], self._clock.now())

    async def _apply_deletions(
        self, uow: UnitOfWork, integration: Integration, batch: Sequence[InboxItem]
    ) -> None:
        for item in batch:
            event = item.event
            if event.kind in DELETION_KINDS:
                await uow.records.delete(
                    integration.id, event.subject.type, event.subject.id, item.received_at
                )
