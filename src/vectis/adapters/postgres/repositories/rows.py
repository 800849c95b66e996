"""Synced records to table rows and back: the unified model's explicit mapping.

Most records map field for field (the vendor's ``id`` is the row's ``vendor_id``); a ticket
flattens its named references and SLA into columns, a contract keeps its lines as JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import attrs

from vectis.domain.records import Contract, ContractLine, Named, Ticket, TicketSla

Row = dict[str, Any]
_NAMED = ("board", "status", "priority", "owner")
"""A ticket's references by name, each stored as ``<part>_id`` and ``<part>``."""


def fields_row(record: Any) -> Row:
    """A record whose fields are its columns."""
    return attrs.asdict(record, recurse=False)


def of_fields(cls: type[Any], **computed: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """The reverse of ``fields_row`` for records of ``cls``: each field from its column, but
    those ``computed`` from the row by the function given."""
    names = [field.name for field in attrs.fields(cls) if field.name not in {"id", *computed}]

    def of_row(row: Any) -> Any:
        return cls(
            id=row.vendor_id,
            **{name: getattr(row, name) for name in names},
            **{name: compute(row) for name, compute in computed.items()},
        )

    return of_row


def ticket_row(ticket: Ticket) -> Row:
    row = fields_row(ticket)
    for part in _NAMED:
        row.update(_named(part, row.pop(part)))
    row.update(_sla_row(row.pop("sla")))
    return row


def contract_row(contract: Contract) -> Row:
    row = fields_row(contract)
    row["lines"] = [
        {
            "id": line.id,
            "description": line.description,
            "quantity": str(line.quantity),
            "unit_price": None if line.unit_price is None else str(line.unit_price),
        }
        for line in contract.lines
    ]
    return row


def _named(prefix: str, value: Named | None) -> Row:
    return {f"{prefix}_id": value.id if value else None, prefix: value.name if value else None}


def _sla_row(sla: TicketSla | None) -> Row:
    sla = sla or TicketSla()
    return {
        "sla_name": sla.name or None,
        "sla_respond_by": sla.respond_by,
        "sla_responded_at": sla.responded_at,
        "sla_resolve_by": sla.resolve_by,
        "sla_in_sla": sla.in_sla,
    }


def _named_of(prefix: str) -> Callable[[Any], Named | None]:
    def named(row: Any) -> Named | None:
        identifier, name = getattr(row, f"{prefix}_id"), getattr(row, prefix)
        return Named(id=identifier, name=name) if identifier is not None else None

    return named


def _lines_of(row: Any) -> list[ContractLine]:
    return [
        ContractLine(
            id=line["id"],
            description=line["description"],
            quantity=Decimal(line["quantity"]),
            unit_price=None if line["unit_price"] is None else Decimal(line["unit_price"]),
        )
        for line in row.lines
    ]


def _sla_of(row: Any) -> TicketSla | None:
    sla = TicketSla(
        name=row.sla_name or "",
        respond_by=row.sla_respond_by,
        responded_at=row.sla_responded_at,
        resolve_by=row.sla_resolve_by,
        in_sla=row.sla_in_sla,
    )
    return sla if sla.known or sla.name else None


ticket_of = of_fields(Ticket, **{part: _named_of(part) for part in _NAMED}, sla=_sla_of)
contract_of = of_fields(Contract, lines=_lines_of)
