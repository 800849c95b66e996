"""HaloPSA JSON, as attrs shaped like the vendor's objects (field names from its swagger and
captured responses); lenient on extra keys and on numbers Halo sends as floats (``18.0``)."""

from __future__ import annotations

from typing import Any

import cattrs
from attrs import define, field


@define
class PriorityRef:
    """The ``priority`` object a full ticket carries (``id`` is a GUID; ``priorityid`` the key)."""

    priorityid: int | None = None
    name: str | None = None


@define
class Ticket:
    """A ``Faults`` row of ``GET /Tickets`` or the object ``POST /Tickets`` answers with."""

    id: int
    summary: str | None = None
    details: str | None = None
    client_id: int | None = None
    client_name: str | None = None
    site_id: int | None = None
    site_name: str | None = None
    user_id: int | None = None
    user_name: str | None = None
    agent_id: int | None = None
    agent_name: str | None = None
    team: str | None = None
    team_id: int | None = None
    status_id: int | None = None
    status_name: str | None = None
    priority_id: int | None = None
    priority: PriorityRef | None = None
    tickettype_id: int | None = None
    dateoccurred: str | None = None
    datecreated: str | None = None
    last_update: str | None = None
    lastupdate: str | None = None
    """Halo names the last-change time ``last_update`` in lists and ``lastupdate`` elsewhere."""
    flastupdate: str | None = None
    lastactiondate: str | None = None
    dateclosed: str | None = None
    third_party_id_string: str | None = None
    web_url: str | None = None
    sla_id: int | None = None
    sla_name: str | None = None
    excludefromsla: bool = False
    respondbydate: str | None = None
    responsedate: str | None = None
    fixbydate: str | None = None
    deleted: bool | None = None


@define
class Action:
    """An ``Actions`` object: a note, e-mail or update on a ticket (ids unique per ticket)."""

    id: int
    ticket_id: int
    note: str | None = None
    note_html: str | None = None
    outcome: str | None = None
    who: str | None = None
    who_type: int | None = None
    who_agentid: int | None = None
    datetime: str | None = None
    actiondatecreated: str | None = None
    hiddenfromuser: bool | None = None


@define
class Status:
    id: int
    name: str
    type: int | None = None


@define
class Priority:
    """A ``Policy`` row: one priority of one SLA, keyed by ``priorityid``."""

    priorityid: int
    name: str
    slaid: int | None = None
    ishidden: bool | None = None


@define
class Team:
    id: int
    name: str
    inactive: bool | None = None


@define
class Agent:
    id: int
    name: str
    email: str | None = None
    isdisabled: bool | None = None


@define
class Client:
    id: int
    name: str
    ref: str | None = None
    inactive: bool | None = None
    alastupdate: str | None = None


@define
class Site:
    id: int
    name: str
    client_id: int | None = None
    inactive: bool | None = None
    slastupdate: str | None = None


@define
class User:
    id: int
    name: str | None = None
    client_id: int | None = None
    site_id: int | None = None
    emailaddress: str | None = None
    phonenumber: str | None = None
    sitephonenumber: str | None = None
    inactive: bool | None = None
    ulastupdate: str | None = None


@define
class Asset:
    id: int
    inventory_number: str | None = None
    key_field: str | None = None
    client_id: int | None = None
    site_id: int | None = None
    site_name: str | None = None
    assettype_name: str | None = None
    inactive: bool | None = None
    dlastupdate: str | None = None
    last_modified: str | None = None


@define
class Contract:
    """A ``ContractHeader`` row of ``GET /ClientContract``."""

    id: int
    client_id: int | None = None
    ref: str | None = None
    contracttype_name: str | None = None
    contract_status: str | None = None
    start_date: str | None = None
    end_date: str | None = None
    last_modified: str | None = None


@define
class InvoiceLine:
    """An ``InvoiceDetail``: one line of a recurring invoice."""

    id: int
    item_shortdescription: str | None = None
    qty_order: float | None = None
    unit_price: float | None = None
    contract_id: int | None = None


@define
class RecurringInvoice:
    """An ``InvoiceHeader`` of ``GET /RecurringInvoice?includelines=true``."""

    id: int
    client_id: int | None = None
    contract_id: int | None = None
    lines: list[InvoiceLine] = field(factory=list)


@define
class Webhook:
    id: str
    name: str | None = None
    url: str | None = None
    active: bool | None = None


def register_hooks(converter: cattrs.Converter) -> cattrs.Converter:
    converter.register_structure_hook(int, _to_int)
    converter.register_structure_hook(float, lambda value, _: float(value))
    converter.register_structure_hook(str, _to_str)
    converter.register_structure_hook(bool, _to_bool)
    # Lists and details do not always carry a full priority object; anything else is None.
    converter.register_structure_hook(
        PriorityRef | None,
        lambda value, _: (
            converter.structure(value, PriorityRef) if isinstance(value, dict) else None
        ),
    )
    converter.register_structure_hook_func(
        lambda kind: kind == list[InvoiceLine],
        lambda value, _: [
            converter.structure(line, InvoiceLine)
            for line in value or []
            if isinstance(line, dict) and line.get("id") is not None
        ],
    )
    return converter


def structure(data: Any, kind: type[Any]) -> Any:
    return converter.structure(data, kind)


def _to_int(value: Any, _: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("a flag is not a number")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"{value} is not a whole number")
        return int(value)
    return int(value)


def _to_str(value: Any, _: Any) -> str:
    if isinstance(value, (dict, list)):
        raise ValueError("an object is not text")
    return str(value)


def _to_bool(value: Any, _: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


converter = register_hooks(cattrs.Converter(forbid_extra_keys=False))
