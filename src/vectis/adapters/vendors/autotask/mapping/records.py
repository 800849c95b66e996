"""Autotask rows → Vectis records: companies, tickets, notes, contracts, devices, references."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from attrs import field, frozen

from vectis.adapters.vendors._kit.records import amount
from vectis.adapters.vendors.autotask import wire
from vectis.domain.errors import InvalidValue
from vectis.domain.records import (
    Contact,
    Contract,
    ContractLine,
    Device,
    Named,
    Reference,
    ReferenceKind,
    Ticket,
    TicketNote,
    TicketSla,
    VendorCompany,
    VendorSite,
)

# Contracts.contractType as Autotask labels it.
CONTRACT_TYPES = {
    1: "Time & Materials",
    3: "Fixed Price",
    4: "Block Hours",
    6: "Retainer",
    7: "Recurring Service",
    8: "Per Ticket",
}
_REFERENCE_FIELDS = {
    "status": ReferenceKind.STATUS,
    "priority": ReferenceKind.PRIORITY,
    "queueid": ReferenceKind.BOARD,
}


@frozen(kw_only=True)
class Lookups:
    """Picklist labels and resource names that turn Autotask's numeric ids into ``Named``."""

    statuses: Mapping[str, str] = field(factory=dict)
    priorities: Mapping[str, str] = field(factory=dict)
    queues: Mapping[str, str] = field(factory=dict)
    members: Mapping[str, str] = field(factory=dict)
    closed_statuses: frozenset[str] = frozenset({"5"})
    web_url: str = ""

    @classmethod
    def build(
        cls,
        fields: Iterable[wire.FieldInfo],
        resources: Iterable[wire.Resource],
        *,
        closed_statuses: frozenset[str],
        web_url: str,
    ) -> Lookups:
        labels: dict[str, dict[str, str]] = {name: {} for name in _REFERENCE_FIELDS}
        for info in fields:
            if info.name.lower() in labels:
                labels[info.name.lower()].update(
                    (value.value, value.label) for value in info.picklistValues or ()
                )
        return cls(
            statuses=labels["status"],
            priorities=labels["priority"],
            queues=labels["queueid"],
            members={str(resource.id): resource_name(resource) for resource in resources},
            closed_statuses=closed_statuses,
            web_url=web_url,
        )


def references(
    fields: Iterable[wire.FieldInfo],
    resources: Iterable[wire.Resource],
    closed_statuses: frozenset[str],
) -> list[Reference]:
    """Statuses, priorities and queues (boards) from the ticket picklists; active resources."""
    found: list[Reference] = []
    for info in fields:
        kind = _REFERENCE_FIELDS.get(info.name.lower())
        if kind is None:
            continue
        for value in info.picklistValues or ():
            if value.isActive:
                found.append(
                    Reference(
                        kind=kind,
                        id=value.value,
                        name=value.label,
                        closed=kind == ReferenceKind.STATUS and value.value in closed_statuses,
                    )
                )
    found.extend(
        Reference(kind=ReferenceKind.MEMBER, id=str(resource.id), name=resource_name(resource))
        for resource in resources
        if resource.isActive
    )
    return found


def company(record: wire.Company) -> VendorCompany:
    return VendorCompany(
        id=str(record.id),
        name=_required(record.companyName, "companyName"),
        identifier=record.companyNumber or "",
        updated_at=parse_time(record.lastTrackedModifiedDateTime)
        or parse_time(record.lastActivityDate),
    )


def site(record: wire.CompanyLocation) -> VendorSite:
    return VendorSite(
        id=str(record.id),
        company_id=str(record.companyID),
        name=_required(record.name, "name"),
    )


def contact(record: wire.Contact) -> Contact:
    name = " ".join(part for part in (record.firstName, record.lastName) if part)
    return Contact(
        id=str(record.id),
        company_id=str(record.companyID),
        name=_required(name, "firstName/lastName"),
        email=record.emailAddress or "",
        phone=record.phone or record.mobilePhone or "",
        updated_at=parse_time(record.lastModifiedDate) or parse_time(record.lastActivityDate),
    )


def ticket(record: wire.Ticket, lookups: Lookups) -> Ticket:
    opened = required_time(record.createDate, "createDate")
    status = None if record.status is None else str(record.status)
    closed = status in lookups.closed_statuses
    return Ticket(
        id=str(record.id),
        company_id=optional_id(record.companyID),
        summary=_required(record.title, "title"),
        opened_at=opened,
        updated_at=parse_time(record.lastActivityDate) or opened,
        number=record.ticketNumber or "",
        description=record.description or "",
        board=_named(record.queueID, lookups.queues),
        status=_named(record.status, lookups.statuses),
        priority=_named(record.priority, lookups.priorities),
        owner=_named(record.assignedResourceID, lookups.members),
        contact_id=optional_id(record.contactID),
        site_id=optional_id(record.companyLocationID),
        closed=closed,
        closed_at=parse_time(record.completedDate) if closed else None,
        url=ticket_url(lookups.web_url, record.id),
        sla=ticket_sla(record),
    )


def ticket_sla(record: wire.Ticket) -> TicketSla | None:
    """The targets Autotask computes from the ticket's service level agreement, if it has one.

    ``serviceLevelAgreementHasBeenMet`` is left aside: the docs do not say what it holds while
    a ticket is still open, and the times tell the same story.
    """
    if record.serviceLevelAgreementID is None:
        return None
    return TicketSla(
        respond_by=parse_time(record.firstResponseDueDateTime),
        responded_at=parse_time(record.firstResponseDateTime),
        resolve_by=parse_time(record.resolvedDueDateTime),
    )


def ticket_note(record: wire.TicketNote, lookups: Lookups, publish_external: int) -> TicketNote:
    """A note; one written by a contact (``createdByContactID``) is the customer's reply."""
    text = record.description or record.title or ""
    from_customer = bool(record.createdByContactID)
    return TicketNote(
        id=str(record.id),
        ticket_id=str(record.ticketID),
        text=_required(text, "description"),
        internal=record.publish != publish_external,
        created_at=parse_time(record.createDateTime) or parse_time(record.lastActivityDate),
        author=""
        if from_customer
        else lookups.members.get(str(record.creatorResourceID or ""), ""),
        from_customer=from_customer,
    )


def contract(
    record: wire.Contract,
    services: Sequence[wire.ContractService],
    units: Mapping[int, Decimal],
) -> Contract:
    """A contract with one line per contract service; quantity is the current period's units."""
    lines = [
        ContractLine(
            id=str(service.id),
            description=service.invoiceDescription
            or service.internalDescription
            or f"Service {service.serviceID}",
            quantity=units.get(service.id, Decimal(1)),
            unit_price=amount(
                service.adjustedPrice if service.adjustedPrice is not None else service.unitPrice
            ),
        )
        for service in services
    ]
    return Contract(
        id=str(record.id),
        company_id=str(record.companyID),
        name=_required(record.contractName, "contractName"),
        kind=CONTRACT_TYPES.get(record.contractType or 0, ""),
        status="active" if record.status == 1 else "inactive",
        starts_on=_day(record.startDate),
        ends_on=_day(record.endDate),
        lines=lines,
    )


def device(record: wire.ConfigurationItem, web_url: str) -> Device:
    name = record.referenceTitle or record.rmmDeviceAuditHostname or record.serialNumber
    return Device(
        id=str(record.id),
        company_id=optional_id(record.companyID),
        name=_required(name or "", "referenceTitle"),
        os=record.rmmDeviceAuditOperatingSystem or "",
        patches_pending=record.rmmDeviceAuditMissingPatchCount or 0,
        updated_at=parse_time(record.lastModifiedTime) or parse_time(record.createDate),
        url=f"{web_url}/Autotask/AutotaskExtend/ExecuteCommand.aspx"
        f"?Code=OpenInstalledProduct&InstalledProductID={record.id}"
        if web_url
        else "",
    )


def ticket_url(web_url: str, ticket_id: int | str) -> str:
    if not web_url:
        return ""
    return (
        f"{web_url}/Autotask/AutotaskExtend/ExecuteCommand.aspx"
        f"?Code=OpenTicketDetail&TicketID={ticket_id}"
    )


def resource_name(resource: wire.Resource) -> str:
    name = " ".join(part for part in (resource.firstName, resource.lastName) if part)
    return name or resource.userName or resource.email or f"Resource {resource.id}"


def parse_time(value: str | None) -> datetime | None:
    """Autotask's UTC times: ``2019-09-23T11:00:00.000Z``, two to seven fraction digits, or none
    and no zone at all (the API stores and returns UTC)."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())  # 3.11 reads "Z" and any fraction
    except ValueError:
        raise InvalidValue(f"{value!r} is not an Autotask time") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def required_time(value: str | None, name: str) -> datetime:
    """The time ``name`` holds; ``InvalidValue`` for a record without it."""
    moment = parse_time(value)
    if moment is None:
        raise InvalidValue(f"the record has no {name}")
    return moment


def optional_id(value: Any) -> str | None:
    """An id as Vectis stores it; None for an absent or empty one."""
    return None if value is None or value == "" else str(value)


def format_time(moment: datetime) -> str:
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


def units_by_service(units: Iterable[wire.ContractServiceUnit]) -> dict[int, Decimal]:
    found: dict[int, Decimal] = {}
    for unit in units:
        if unit.units is not None:
            found[unit.contractServiceID] = found.get(unit.contractServiceID, Decimal(0)) + (
                amount(unit.units) or Decimal(0)
            )
    return found


def _named(value: int | None, labels: Mapping[str, str]) -> Named | None:
    if value is None:
        return None
    key = str(value)
    return Named(id=key, name=labels.get(key, key))


def _required(value: str, name: str) -> str:
    if not value or not value.strip():
        raise InvalidValue(f"the record has no {name}")
    return value


def _day(value: str | None) -> date | None:
    moment = parse_time(value)
    return moment.date() if moment else None
