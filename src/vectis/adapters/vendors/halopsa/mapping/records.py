"""HaloPSA objects → Vectis records: tickets, notes, clients, sites, users, assets, contracts."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from attrs import field, frozen

from vectis.adapters.vendors._kit.records import amount
from vectis.adapters.vendors.halopsa import wire
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

CLOSED_STATUS_IDS = frozenset({9})
"""Halo's built-in "Closed" status; tenants may add more (setting ``closed_status_ids``)."""
CUSTOMER_WHO_TYPES = frozenset({2})
"""UNCONFIRMED: ``who_type`` of actions an end user made (0 system, 1 agent, 2 end user);
overridable with the setting ``customer_who_types``."""
UNASSIGNED_AGENT_ID = 1
"""Halo's placeholder agent for "unassigned" (agent 1 is no person)."""
EARLIEST_REAL_YEAR = 1980
"""Halo writes 1899-12-30, 1900-01-01 or 0001-01-01 for "no date"."""
_TAGS = re.compile(r"<[^>]+>")


@frozen(kw_only=True)
class Names:
    """Display names of the references a ticket row names only by id."""

    statuses: Mapping[int, str] = field(factory=dict)
    priorities: Mapping[int, str] = field(factory=dict)
    teams: Mapping[int, str] = field(factory=dict)
    agents: Mapping[int, str] = field(factory=dict)


def parse_time(value: str | None) -> datetime | None:
    """A Halo time (UTC, often without a zone, up to 7 fractional digits) or None for "no date"
    and for text that is no time at all."""
    try:
        return read_time(value)
    except InvalidValue:
        return None


def read_time(value: str | None) -> datetime | None:
    """A Halo time or None for "no date"; ``InvalidValue`` for text that is no time at all, or
    one no calendar holds (year 99999)."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidValue(f"{value[:40]!r} is not a HaloPSA time") from None
    if parsed.year < EARLIEST_REAL_YEAR:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def listed_time(row: Any, name: str) -> datetime | None:
    """The time a list row states under ``name``, or None (not an object, no such time)."""
    value = row.get(name) if isinstance(row, Mapping) else None
    return parse_time(value) if isinstance(value, str) else None


def ticket_updated_at(ticket: wire.Ticket) -> datetime | None:
    return (
        parse_time(ticket.last_update)
        or parse_time(ticket.lastupdate)
        or parse_time(ticket.flastupdate)
        or parse_time(ticket.lastactiondate)
    )


def ticket(
    row: wire.Ticket,
    *,
    base_url: str,
    names: Names | None = None,
    closed_status_ids: Iterable[int] = CLOSED_STATUS_IDS,
) -> Ticket:
    names = names or Names()
    opened = parse_time(row.dateoccurred) or parse_time(row.datecreated)
    if opened is None:
        raise InvalidValue(f"ticket {row.id} has no opening date")
    updated = ticket_updated_at(row) or opened
    closed = row.status_id is not None and row.status_id in set(closed_status_ids)
    priority_id = row.priority_id
    if priority_id is None and row.priority is not None:
        priority_id = row.priority.priorityid
    priority_name = row.priority.name if row.priority and row.priority.name else None
    owner = None
    if row.agent_id is not None and row.agent_id > UNASSIGNED_AGENT_ID:
        owner = _named(row.agent_id, row.agent_name, names.agents)
    return Ticket(
        id=str(row.id),
        company_id=_positive(row.client_id),
        summary=(row.summary or "").strip() or f"Ticket {row.id}",
        description=row.details or "",
        opened_at=opened,
        updated_at=max(updated, opened),
        number=str(row.id),
        board=_named(row.team_id, row.team, names.teams) if row.team_id or row.team else None,
        status=_named(row.status_id, row.status_name, names.statuses),
        priority=_named(priority_id, priority_name, names.priorities),
        owner=owner,
        contact_id=_positive(row.user_id),
        site_id=_positive(row.site_id),
        closed=closed,
        closed_at=(parse_time(row.dateclosed) or updated) if closed else None,
        url=row.web_url or ticket_url(base_url, row.id),
        sla=ticket_sla(row),
    )


def ticket_sla(row: wire.Ticket) -> TicketSla | None:
    """Halo's response and fix-by targets; a ticket excluded from SLA has none."""
    if row.excludefromsla or not row.sla_id:
        return None
    return TicketSla(
        name=row.sla_name or "",
        respond_by=parse_time(row.respondbydate),
        responded_at=parse_time(row.responsedate),
        resolve_by=parse_time(row.fixbydate),
    )


def ticket_url(base_url: str, ticket_id: int | str) -> str:
    return f"{base_url.rstrip('/')}/tickets?id={ticket_id}"


def note(
    action: wire.Action, *, customer_who_types: Iterable[int] = CUSTOMER_WHO_TYPES
) -> TicketNote:
    text = action.note or _TAGS.sub("", action.note_html or "")
    return TicketNote(
        id=note_id(action.ticket_id, action.id),
        ticket_id=str(action.ticket_id),
        text=text.strip(),
        internal=bool(action.hiddenfromuser),
        created_at=parse_time(action.datetime) or parse_time(action.actiondatecreated),
        author=action.who or "",
        from_customer=action.who_type is not None and action.who_type in set(customer_who_types),
    )


def note_id(ticket_id: int | str, action_id: int | str) -> str:
    """Halo numbers actions per ticket, so a note's id carries its ticket's."""
    return f"{ticket_id}-{action_id}"


def references(
    statuses: Sequence[wire.Status],
    priorities: Sequence[wire.Priority],
    teams: Sequence[wire.Team],
    agents: Sequence[wire.Agent],
    *,
    closed_status_ids: Iterable[int] = CLOSED_STATUS_IDS,
) -> list[Reference]:
    closed = set(closed_status_ids)
    found = [
        Reference(kind=ReferenceKind.STATUS, id=str(s.id), name=s.name, closed=s.id in closed)
        for s in statuses
        if s.type in (None, 0)  # other types are opportunity/project statuses
    ]
    seen: set[int] = set()
    for priority in priorities:
        if priority.priorityid not in seen and not priority.ishidden:
            seen.add(priority.priorityid)
            key = str(priority.priorityid)
            found.append(Reference(kind=ReferenceKind.PRIORITY, id=key, name=priority.name))
    found += [
        Reference(kind=ReferenceKind.BOARD, id=str(team.id), name=team.name)
        for team in teams
        if not team.inactive
    ]
    found += [
        Reference(kind=ReferenceKind.MEMBER, id=str(agent.id), name=agent.name)
        for agent in agents
        if not agent.isdisabled and agent.id > UNASSIGNED_AGENT_ID
    ]
    return found


def names_of(references_: Iterable[Reference]) -> Names:
    by_kind: dict[str, dict[int, str]] = {}
    for reference in references_:
        if reference.id.isdigit():
            by_kind.setdefault(reference.kind, {})[int(reference.id)] = reference.name
    return Names(
        statuses=by_kind.get(ReferenceKind.STATUS, {}),
        priorities=by_kind.get(ReferenceKind.PRIORITY, {}),
        teams=by_kind.get(ReferenceKind.BOARD, {}),
        agents=by_kind.get(ReferenceKind.MEMBER, {}),
    )


def company(client: wire.Client) -> VendorCompany:
    return VendorCompany(
        id=str(client.id),
        name=client.name,
        identifier=client.ref or "",
        updated_at=parse_time(client.alastupdate),
    )


def site(row: wire.Site) -> VendorSite:
    company_id = _positive(row.client_id)
    if company_id is None:
        raise InvalidValue(f"site {row.id} names no client")
    return VendorSite(
        id=str(row.id), company_id=company_id, name=row.name, updated_at=parse_time(row.slastupdate)
    )


def contact(user: wire.User) -> Contact:
    company_id = _positive(user.client_id)
    if company_id is None:
        raise InvalidValue(f"user {user.id} names no client")
    return Contact(
        id=str(user.id),
        company_id=company_id,
        name=(user.name or "").strip() or (user.emailaddress or f"User {user.id}"),
        email=user.emailaddress or "",
        phone=user.phonenumber or user.sitephonenumber or "",
        updated_at=parse_time(user.ulastupdate),
    )


def device(asset: wire.Asset, *, base_url: str) -> Device:
    return Device(
        id=str(asset.id),
        company_id=_positive(asset.client_id),
        name=asset.key_field or asset.inventory_number or f"Asset {asset.id}",
        kind=(asset.assettype_name or "").lower(),
        site=asset.site_name or "",
        updated_at=asset_updated_at(asset),
        url=f"{base_url.rstrip('/')}/assets?id={asset.id}",
    )


def company_updated_at(client: wire.Client) -> datetime | None:
    return parse_time(client.alastupdate)


def site_updated_at(row: wire.Site) -> datetime | None:
    return parse_time(row.slastupdate)


def contact_updated_at(user: wire.User) -> datetime | None:
    return parse_time(user.ulastupdate)


def asset_updated_at(asset: wire.Asset) -> datetime | None:
    return parse_time(asset.dlastupdate) or parse_time(asset.last_modified)


def contract(header: wire.Contract, lines: Sequence[wire.InvoiceLine] = ()) -> Contract:
    company_id = _positive(header.client_id)
    if company_id is None:
        raise InvalidValue(f"contract {header.id} names no client")
    starts, ends = parse_time(header.start_date), parse_time(header.end_date)
    # Any: mypy cannot type attrs' ``converter=tuple`` on Contract.lines.
    contract_lines: Any = [
        ContractLine(
            id=str(line.id),
            description=line.item_shortdescription or "",
            quantity=amount(line.qty_order) or Decimal(1),
            unit_price=amount(line.unit_price),
        )
        for line in lines
    ]
    return Contract(
        id=str(header.id),
        company_id=company_id,
        name=header.ref or f"Contract {header.id}",
        kind=header.contracttype_name or "",
        status=(header.contract_status or "active").strip().lower(),
        starts_on=_day(starts),
        ends_on=_day(ends),
        lines=contract_lines,
        updated_at=parse_time(header.last_modified),
    )


def _named(ref_id: int | None, name: str | None, known: Mapping[int, str]) -> Named | None:
    if ref_id is None:
        return Named(id="", name=name) if name else None
    return Named(id=str(ref_id), name=name or known.get(ref_id) or f"#{ref_id}")


def _positive(value: int | None) -> str | None:
    return str(value) if value is not None and value > 0 else None


def _day(moment: datetime | None) -> date | None:
    return moment.date() if moment else None
