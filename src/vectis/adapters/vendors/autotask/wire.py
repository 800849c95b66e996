"""Autotask REST JSON, as attrs shaped like the vendor's records (lenient on extra keys).

Only the fields Vectis reads are declared. A ``str`` field is required: ``null`` fails it (the
record is then skipped); fields Autotask may leave ``null`` are ``str | None``.
"""

from __future__ import annotations

from typing import Any, TypeVar

import attrs
import cattrs
from attrs import define, field

from vectis.adapters.vendors._kit.records import UnreadableRecord

T = TypeVar("T")


@define
class Company:
    id: int
    companyName: str
    companyNumber: str | None = None
    isActive: bool = True
    lastActivityDate: str | None = None
    lastTrackedModifiedDateTime: str | None = None


@define
class CompanyLocation:
    id: int
    companyID: int
    name: str
    isActive: bool = True


@define
class Contact:
    id: int
    companyID: int
    firstName: str | None = None
    lastName: str | None = None
    emailAddress: str | None = None
    phone: str | None = None
    mobilePhone: str | None = None
    lastActivityDate: str | None = None
    lastModifiedDate: str | None = None


@define
class Ticket:
    id: int
    title: str
    createDate: str
    companyID: int | None = None
    ticketNumber: str | None = None
    description: str | None = None
    companyLocationID: int | None = None
    contactID: int | None = None
    assignedResourceID: int | None = None
    queueID: int | None = None
    status: int | None = None
    priority: int | None = None
    lastActivityDate: str | None = None
    completedDate: str | None = None
    externalID: str | None = None
    serviceLevelAgreementID: int | None = None
    firstResponseDueDateTime: str | None = None
    firstResponseDateTime: str | None = None
    resolvedDueDateTime: str | None = None


@define
class TicketNote:
    id: int
    ticketID: int
    description: str | None = None
    title: str | None = None
    noteType: int | None = None
    publish: int | None = None
    createDateTime: str | None = None
    lastActivityDate: str | None = None
    creatorResourceID: int | None = None
    createdByContactID: int | None = None


@define
class Resource:
    id: int
    firstName: str | None = None
    lastName: str | None = None
    email: str | None = None
    userName: str | None = None
    isActive: bool = True


@define
class PicklistValue:
    value: str
    label: str
    isActive: bool = True
    sortOrder: int | None = None


@define
class FieldInfo:
    """One entry of ``{Entity}/entityInformation/fields``."""

    name: str
    isPickList: bool = False
    picklistValues: list[PicklistValue] | None = None


@define
class Contract:
    id: int
    companyID: int
    contractName: str
    contractType: int | None = None
    status: int | None = None
    startDate: str | None = None
    endDate: str | None = None


@define
class ContractService:
    id: int
    contractID: int
    serviceID: int | None = None
    invoiceDescription: str | None = None
    internalDescription: str | None = None
    unitPrice: float | None = None
    adjustedPrice: float | None = None


@define
class ContractServiceUnit:
    """Units of a contract service for one period (the current period gives the quantity)."""

    contractServiceID: int
    units: float | None = None


@define
class ConfigurationItem:
    id: int
    companyID: int | None = None
    referenceTitle: str | None = None
    serialNumber: str | None = None
    isActive: bool = True
    lastModifiedTime: str | None = None
    createDate: str | None = None
    rmmDeviceAuditHostname: str | None = None
    rmmDeviceAuditOperatingSystem: str | None = None
    rmmDeviceAuditMissingPatchCount: int | None = None


@define
class WebhookDelivery:
    """A webhook callout body: ``Action`` is ``Create``, ``Update`` or ``Delete``."""

    Action: str
    EntityType: str
    Id: int
    EventTime: str
    Guid: str | None = None
    Fields: dict[str, Any] = field(factory=dict)
    SequenceNumber: int | None = None
    PersonID: int | None = None


@define
class ServiceDeskRole:
    """``ResourceServiceDeskRoles``: a resource's role on the service desk."""

    id: int
    resourceID: int
    roleID: int
    isDefault: bool = False
    isActive: bool = True


@define
class TicketWebhook:
    id: int
    webhookUrl: str | None = None


@define
class WebhookField:
    """A field a ticket webhook names (``TicketWebhooks/{id}/Fields``)."""

    id: int
    fieldID: int
    isSubscribedField: bool = False
    isDisplayAlwaysField: bool = False


@define
class FieldList:
    """``{Entity}/entityInformation/fields``."""

    fields: list[FieldInfo]


def names(kind: type[Any]) -> tuple[str, ...]:
    """The fields a wire class declares: a query's ``IncludeFields``, so Autotask sends only
    what the mapping reads."""
    return tuple(attribute.name for attribute in attrs.fields(kind))


def _text(value: Any, _: type) -> str:
    """A required string: Autotask's ``null`` is missing, not the text ``"None"``."""
    if value is None or isinstance(value, dict | list):
        raise TypeError(f"expected text, not {value!r}")
    return str(value)


def register_hooks(converter: cattrs.Converter) -> cattrs.Converter:
    converter.register_structure_hook(str, _text)
    return converter


converter = register_hooks(cattrs.Converter(forbid_extra_keys=False))


def structure(data: Any, kind: type[T]) -> T:
    """Build one wire object; raise ``UnreadableRecord`` or ``cattrs.BaseValidationError``."""
    if not isinstance(data, dict):
        raise UnreadableRecord(f"expected a JSON object, not {type(data).__name__}")
    return converter.structure(data, kind)
