"""ConnectWise Manage JSON, as attrs shaped like the vendor's documents (lenient on extras).

Field names are ConnectWise's own (camelCase); ``_info`` (the record's metadata) is ``info``.
Almost everything is optional: ConnectWise leaves out what is empty, and one odd record must
not fail a page.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import cattrs
from attrs import define, field
from cattrs.gen import make_dict_structure_fn, override

from vectis.adapters.vendors._kit.records import UnreadableRecord


@define
class Reference:
    """The ``{"id", "name"|"identifier"}`` objects ConnectWise nests for boards, companies…"""

    id: int
    name: str | None = None
    identifier: str | None = None

    @property
    def label(self) -> str:
        return self.name or self.identifier or str(self.id)


@define
class Info:
    lastUpdated: str | None = None
    dateEntered: str | None = None


@define
class SystemInfo:
    """``GET /system/info``: what the cheap authenticated check reads."""

    version: str | None = None
    isCloud: bool | None = None
    cloudRegion: str | None = None


@define
class Board:
    id: int
    name: str | None = None
    inactiveFlag: bool = False
    info: Info = field(factory=Info)


@define
class BoardStatus:
    id: int
    name: str | None = None
    board: Reference | None = None
    closedStatus: bool = False
    inactive: bool = False
    sortOrder: int | None = None


@define
class Priority:
    id: int
    name: str | None = None
    sortOrder: int | None = None


@define
class Member:
    id: int
    identifier: str | None = None
    firstName: str | None = None
    lastName: str | None = None
    inactiveFlag: bool = False
    licenseClass: str | None = None
    """``F`` full member, ``A`` API member, ``C`` StreamlineIT, ``X`` subcontractor."""


@define
class Parent:
    """Just enough of a company to fetch its sites, however odd the rest of it is."""

    id: int
    deletedFlag: bool = False


@define
class Company:
    id: int
    name: str
    identifier: str | None = None
    deletedFlag: bool = False
    info: Info = field(factory=Info)


@define
class Site:
    id: int
    name: str | None = None
    company: Reference | None = None
    inactiveFlag: bool = False
    info: Info = field(factory=Info)


@define
class CommunicationItem:
    value: str | None = None
    communicationType: str | None = None
    """``Email``, ``Phone`` or ``Fax``."""
    defaultFlag: bool = False
    type: Reference | None = None


@define
class Contact:
    id: int
    firstName: str | None = None
    lastName: str | None = None
    company: Reference | None = None
    site: Reference | None = None
    inactiveFlag: bool = False
    communicationItems: list[CommunicationItem] = field(factory=list)
    info: Info = field(factory=Info)


@define
class Ticket:
    id: int
    summary: str = ""
    board: Reference | None = None
    status: Reference | None = None
    company: Reference | None = None
    site: Reference | None = None
    contact: Reference | None = None
    priority: Reference | None = None
    owner: Reference | None = None
    closedFlag: bool = False
    closedDate: str | None = None
    externalXRef: str | None = None
    sla: Reference | None = None
    isInSla: bool | None = None
    dateResponded: str | None = None
    info: Info = field(factory=Info)


@define
class TicketNote:
    id: int
    ticketId: int | None = None
    text: str | None = ""
    detailDescriptionFlag: bool = False
    internalAnalysisFlag: bool = False
    resolutionFlag: bool = False
    internalFlag: bool = False
    externalFlag: bool = False
    member: Reference | None = None
    contact: Reference | None = None
    dateCreated: str | None = None
    createdBy: str | None = None
    info: Info = field(factory=Info)


@define
class Agreement:
    id: int
    name: str | None = None
    type: Reference | None = None
    company: Reference | None = None
    startDate: str | None = None
    endDate: str | None = None
    noEndingDateFlag: bool = False
    cancelledFlag: bool = False
    agreementStatus: str | None = None
    """``Active``, ``Cancelled``, ``Expired`` or ``Inactive`` (newer codebases only)."""
    info: Info = field(factory=Info)


@define
class Addition:
    id: int
    product: Reference | None = None
    description: str | None = None
    invoiceDescription: str | None = None
    quantity: float | None = None
    unitPrice: float | None = None
    cancelledDate: str | None = None
    info: Info = field(factory=Info)


@define
class Configuration:
    id: int
    name: str | None = None
    type: Reference | None = None
    status: Reference | None = None
    company: Reference | None = None
    site: Reference | None = None
    osType: str | None = None
    osInfo: str | None = None
    activeFlag: bool = True
    info: Info = field(factory=Info)


@define
class CallbackMetadata:
    key_url: str


@define
class Callback:
    """A callback delivery; ``Entity`` is the object as a JSON-encoded string (null on delete)."""

    MessageId: str
    Action: str
    Type: str
    ID: int
    Metadata: CallbackMetadata
    FromUrl: str | None = None
    CompanyId: str | None = None
    Entity: str | None = None


@define
class CallbackRegistration:
    """A registered callback as ``/system/callbacks`` lists it."""

    id: int
    url: str | None = None
    inactiveFlag: bool = False


def register_hooks(converter: cattrs.Converter) -> cattrs.Converter:
    """Every record class reads its ``info`` from ConnectWise's ``_info``."""

    def structure_fn(cls: type[Any]) -> Any:
        if "info" in attrs.fields_dict(cls):
            return make_dict_structure_fn(cls, converter, info=override(rename="_info"))
        return make_dict_structure_fn(cls, converter)

    converter.register_structure_hook_factory(attrs.has, structure_fn)
    return converter


converter = register_hooks(cattrs.Converter(forbid_extra_keys=False))


def structure(data: Any, kind: type[Any]) -> Any:
    """``data`` as ``kind``; a document that is no JSON object is an unreadable record."""
    if not isinstance(data, Mapping):
        raise UnreadableRecord(f"not a JSON object: {type(data).__name__}")
    return converter.structure(data, kind)
