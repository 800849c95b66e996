"""ConnectWise Manage JSON, as attrs shaped like the vendor's documents (lenient on extras)."""

from __future__ import annotations

from typing import Any

import cattrs
from attrs import define, field
from cattrs.gen import make_dict_structure_fn, override


@define
class Reference:
    """The ``{"id", "name"|"identifier"}`` objects ConnectWise nests for boards, companies…"""

    id: int
    name: str | None = None
    identifier: str | None = None


@define
class Info:
    lastUpdated: str | None = None
    dateEntered: str | None = None


@define
class Ticket:
    id: int
    summary: str = ""
    board: Reference | None = None
    status: Reference | None = None
    company: Reference | None = None
    priority: Reference | None = None
    closedFlag: bool = False
    info: Info = field(factory=Info)


@define
class TicketNote:
    id: int
    ticketId: int
    text: str = ""
    detailDescriptionFlag: bool = False
    internalAnalysisFlag: bool = False
    resolutionFlag: bool = False
    dateCreated: str | None = None


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


def register_hooks(converter: cattrs.Converter) -> cattrs.Converter:
    converter.register_structure_hook(
        Ticket, make_dict_structure_fn(Ticket, converter, info=override(rename="_info"))
    )
    return converter


converter = register_hooks(cattrs.Converter(forbid_extra_keys=False))


def structure(data: Any, kind: type[Any]) -> Any:
    return converter.structure(data, kind)
