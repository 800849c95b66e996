"""What the hub shows of customers: the list's health badges, the overview's figures, and
each tab's table (sorted, filtered, searched, keyset-paged)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from attrs import frozen

from vectis.application.identity import require
from vectis.application.ports import Clock
from vectis.application.tenancy import require_customer
from vectis.application.unit_of_work import UnitOfWork, UnitOfWorkFactory
from vectis.domain.customer import Customer
from vectis.domain.events import EventKind
from vectis.domain.identity import Principal
from vectis.domain.integration import Integration
from vectis.domain.listing import Listed, ListQuery
from vectis.domain.records import Alert, Contract, Device, Held, PatchState, Severity, Ticket
from vectis.domain.tenancy import Permission

ACTIVITY_DAYS = 30
_ACTIVITY_KINDS = (EventKind.TICKET_OPENED, EventKind.TICKET_CLOSED, EventKind.ALERT_RAISED)


@frozen(kw_only=True)
class CustomerHealth:
    """The badges of the customer list."""

    open_tickets: int = 0
    active_alerts: int = 0


@frozen(kw_only=True)
class DailyActivity:
    day: date
    tickets_opened: int = 0
    tickets_closed: int = 0
    alerts_raised: int = 0


@frozen(kw_only=True)
class CustomerWiring:
    """A customer and the integrations its records come from (every tab needs both)."""

    customer: Customer
    integrations: Sequence[Integration]

    def vendors(self) -> set[str]:
        return {integration.vendor for integration in self.integrations}


@frozen(kw_only=True)
class Overview:
    """How a customer is doing, at a glance."""

    open_tickets_by_priority: Sequence[tuple[str, int]]
    open_tickets_breaching_sla: int
    active_alerts_by_severity: Sequence[tuple[str, int]]
    devices_by_patch_state: dict[str, int]
    next_renewal: Held[Contract] | None
    activity: Sequence[DailyActivity]
    """The last ``ACTIVITY_DAYS`` local days, oldest first, days without activity included
    (counted from the event stream, so alerts cleared since still count on their day)."""

    @property
    def open_tickets(self) -> int:
        return sum(count for _, count in self.open_tickets_by_priority)

    @property
    def active_alerts(self) -> int:
        return sum(count for _, count in self.active_alerts_by_severity)

    @property
    def devices_needing_patches(self) -> int:
        return self.devices_by_patch_state.get(PatchState.PENDING, 0) + (
            self.devices_by_patch_state.get(PatchState.FAILED, 0)
        )

    @property
    def devices_with_patch_state(self) -> int:
        return sum(
            count for state, count in self.devices_by_patch_state.items() if state != "unknown"
        )


class CustomerHubService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    def now(self) -> datetime:
        """The hub's clock (the timeline's "today" and "this week" are cut by it)."""
        return self._clock.now()

    async def health(
        self, principal: Principal, customer_ids: Sequence[UUID]
    ) -> dict[UUID, CustomerHealth]:
        require(principal, Permission.READ)
        async with self._uow(principal.tenant_id) as uow:
            counts = await uow.listings.health(customer_ids)
        return {
            customer: CustomerHealth(open_tickets=tickets, active_alerts=alerts)
            for customer, (tickets, alerts) in counts.items()
        }

    async def wiring(self, principal: Principal, customer_id: UUID) -> CustomerWiring:
        require(principal, Permission.READ)
        async with self._uow(principal.tenant_id) as uow:
            return await _wiring(uow, customer_id)

    async def overview(self, principal: Principal, customer_id: UUID) -> Overview:
        require(principal, Permission.READ)
        zone = ZoneInfo(principal.time_zone)
        today = self._clock.now().astimezone(zone).date()
        first = today - timedelta(days=ACTIVITY_DAYS - 1)
        since = datetime(first.year, first.month, first.day, tzinfo=zone)
        async with self._uow(principal.tenant_id) as uow:
            await require_customer(uow, customer_id)
            by_severity = await uow.listings.active_alerts_by_severity(customer_id)
            activity = await uow.events.daily_counts(
                customer_id, _ACTIVITY_KINDS, since, principal.time_zone
            )
            contracts = await uow.reader.contracts(customer_id)
            return Overview(
                open_tickets_by_priority=await uow.listings.open_tickets_by_priority(customer_id),
                open_tickets_breaching_sla=await uow.listings.open_tickets_breaching_sla(
                    customer_id
                ),
                active_alerts_by_severity=[
                    (severity, by_severity[severity])
                    for severity in Severity.ORDER
                    if severity in by_severity
                ],
                devices_by_patch_state=await uow.listings.devices_by_patch_state(customer_id),
                next_renewal=_next_renewal(contracts, today),
                activity=[
                    DailyActivity(
                        day=day,
                        tickets_opened=activity.get(day, {}).get(EventKind.TICKET_OPENED, 0),
                        tickets_closed=activity.get(day, {}).get(EventKind.TICKET_CLOSED, 0),
                        alerts_raised=activity.get(day, {}).get(EventKind.ALERT_RAISED, 0),
                    )
                    for day in (first + timedelta(days=n) for n in range(ACTIVITY_DAYS))
                ],
            )

    async def tickets(self, principal: Principal, query: ListQuery) -> Listed[Held[Ticket]]:
        require(principal, Permission.READ)
        async with self._uow(principal.tenant_id) as uow:
            await require_customer(uow, query.customer_id)
            return await uow.listings.tickets(query)

    async def alerts(self, principal: Principal, query: ListQuery) -> Listed[Held[Alert]]:
        require(principal, Permission.READ)
        async with self._uow(principal.tenant_id) as uow:
            await require_customer(uow, query.customer_id)
            return await uow.listings.alerts(query)

    async def devices(self, principal: Principal, query: ListQuery) -> Listed[Held[Device]]:
        require(principal, Permission.READ)
        async with self._uow(principal.tenant_id) as uow:
            await require_customer(uow, query.customer_id)
            return await uow.listings.devices(query)

    async def contracts(self, principal: Principal, customer_id: UUID) -> list[Held[Contract]]:
        require(principal, Permission.READ)
        async with self._uow(principal.tenant_id) as uow:
            await require_customer(uow, customer_id)
            return await uow.reader.contracts(customer_id)


async def _wiring(uow: UnitOfWork, customer_id: UUID) -> CustomerWiring:
    customer = await require_customer(uow, customer_id)
    linked = await uow.reader.customer_companies(customer_id)
    integrations = [i for i in await uow.integrations.list_all() if i.id in linked]
    return CustomerWiring(customer=customer, integrations=integrations)


def _next_renewal(contracts: Sequence[Held[Contract]], today: date) -> Held[Contract] | None:
    """The running contract that ends soonest (what the account manager must renew next)."""
    ending = [
        held
        for held in contracts
        if held.record.ends_on is not None and held.record.ends_on >= today
    ]
    return min(ending, key=lambda held: held.record.ends_on or today, default=None)
