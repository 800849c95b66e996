"""What the connectors synced for one customer, and the write-backs an operator starts from it."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from attrs import frozen

from vectis.application.errors import NotFound
from vectis.application.identity import require
from vectis.application.integrations import IntegrationService
from vectis.application.unit_of_work import UnitOfWork, UnitOfWorkFactory
from vectis.application.writebacks import WriteBackService
from vectis.domain.errors import InvalidValue
from vectis.domain.identity import Principal
from vectis.domain.integration import Integration
from vectis.domain.records import (
    AlertState,
    Named,
    Reference,
    Ticket,
    TicketNote,
)
from vectis.domain.tenancy import Permission
from vectis.domain.ticketing import Ticketing
from vectis.domain.writeback import AddTicketNote, CreateTicket, ResetAlert, UpdateTicket, WriteBack


@frozen(kw_only=True)
class TicketDesk:
    """A PSA this customer is linked to: where new tickets for it can be opened."""

    integration: Integration
    company_id: str
    references: Sequence[Reference]

    def choices(self, kind: str) -> list[Reference]:
        return [reference for reference in self.references if reference.kind == kind]


@frozen(kw_only=True)
class TicketView:
    integration: Integration
    ticket: Ticket
    notes: Sequence[TicketNote]
    references: Sequence[Reference]
    """The PSA's boards, statuses, priorities and members, for changing the ticket."""

    def choices(self, kind: str) -> list[Reference]:
        return [reference for reference in self.references if reference.kind == kind]


class CustomerRecordsService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        integrations: IntegrationService,
        writebacks: WriteBackService,
    ) -> None:
        self._uow = uow
        self._integrations = integrations
        self._writebacks = writebacks

    async def desks(self, principal: Principal, customer_id: UUID) -> list[TicketDesk]:
        """The PSAs where a ticket for this customer can be opened."""
        require(principal, Permission.READ)
        async with self._uow(principal.tenant_id) as uow:
            companies = await uow.reader.customer_companies(customer_id)
            integrations = {i.id: i for i in await uow.integrations.list_all()}
            return await self._desks(uow, companies, integrations)

    async def _desks(
        self,
        uow: UnitOfWork,
        companies: dict[UUID, str],
        integrations: dict[UUID, Integration],
    ) -> list[TicketDesk]:
        ticketing = self._vendors_offering(Ticketing)
        return [
            TicketDesk(
                integration=integrations[integration_id],
                company_id=company_id,
                references=await uow.reader.references(integration_id),
            )
            for integration_id, company_id in companies.items()
            if integration_id in integrations and integrations[integration_id].vendor in ticketing
        ]

    async def ticket(
        self, principal: Principal, integration_id: UUID, ticket_id: str
    ) -> TicketView:
        require(principal, Permission.READ)
        async with self._uow(principal.tenant_id) as uow:
            integration = await uow.integrations.get(integration_id)
            held = await uow.reader.ticket(integration_id, ticket_id)
            if integration is None or held is None:
                raise NotFound(f"no ticket {ticket_id}")
            return TicketView(
                integration=integration,
                ticket=held.record,
                notes=await uow.reader.notes(integration_id, ticket_id),
                references=await uow.reader.references(integration_id),
            )

    async def open_ticket(
        self,
        principal: Principal,
        customer_id: UUID,
        integration_id: UUID,
        *,
        summary: str,
        description: str = "",
        priority_id: str | None = None,
        board_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> WriteBack:
        """Open a ticket for a customer in a PSA it is linked to."""
        async with self._uow(principal.tenant_id) as uow:
            company_id = (await uow.reader.customer_companies(customer_id)).get(integration_id)
        if company_id is None:
            raise InvalidValue("this customer is not linked to a company in that PSA")
        action = CreateTicket(
            company_id=company_id,
            summary=summary.strip(),
            description=description.strip(),
            priority_id=priority_id or None,
            board_id=board_id or None,
        )
        return await self._writebacks.request(
            principal, integration_id, action, idempotency_key=idempotency_key
        )

    async def reply(
        self,
        principal: Principal,
        integration_id: UUID,
        ticket_id: str,
        text: str,
        *,
        internal: bool,
        idempotency_key: str | None = None,
    ) -> WriteBack:
        await self.ticket(principal, integration_id, ticket_id)
        action = AddTicketNote(ticket_id=ticket_id, text=text, internal=internal)
        return await self._writebacks.request(
            principal, integration_id, action, idempotency_key=idempotency_key
        )

    async def change(
        self,
        principal: Principal,
        integration_id: UUID,
        ticket_id: str,
        *,
        status_id: str | None = None,
        priority_id: str | None = None,
        board_id: str | None = None,
        owner_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> WriteBack:
        """Change what differs from the ticket as synced (status, priority, board, owner)."""
        view = await self.ticket(principal, integration_id, ticket_id)
        ticket = view.ticket

        def changed(wanted: str | None, current: Named | None) -> str | None:
            return wanted if wanted and wanted != (current.id if current else None) else None

        action = UpdateTicket(
            ticket_id=ticket_id,
            status_id=changed(status_id, ticket.status),
            priority_id=changed(priority_id, ticket.priority),
            board_id=changed(board_id, ticket.board),
            owner_id=changed(owner_id, ticket.owner),
        )
        return await self._writebacks.request(
            principal, integration_id, action, idempotency_key=idempotency_key
        )

    async def acknowledge_alert(
        self,
        principal: Principal,
        integration_id: UUID,
        alert_id: str,
        *,
        idempotency_key: str | None = None,
    ) -> WriteBack:
        async with self._uow(principal.tenant_id) as uow:
            held = await uow.reader.alert(integration_id, alert_id)
        if held is None:
            raise NotFound(f"no alert {alert_id}")
        if held.record.state == AlertState.RESOLVED:
            raise InvalidValue("this alert is already cleared")
        return await self._writebacks.request(
            principal,
            integration_id,
            ResetAlert(alert_id=alert_id),
            idempotency_key=idempotency_key,
        )

    def _vendors_offering(self, port: type) -> set[str]:
        return {v.key for v in self._integrations.vendors() if v.offers(port)}
