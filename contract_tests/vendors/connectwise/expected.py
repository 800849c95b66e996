"""What the connector must make of ConnectWise: from the recordings, and from the sandbox's world.

The replayed expectations are written out by hand from ``recordings/*.json``; the sandbox's are
derived from the demo world it serves (ids are the sandbox's, everything else the world's).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from attrs import frozen

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
from vectis_sandbox.connectwise import ConnectWiseState
from vectis_sandbox.world import BOARDS, PRIORITIES, STATUSES, World
from vectis_sandbox.world import Ticket as WorldTicket

TICKET_PAGE = "/services/system_io/Service/fv_sr100_request.rails?service_recid={}&companyName={}"


@frozen(kw_only=True)
class Writes:
    """Where the write-back tests act."""

    company_id: str
    board_id: str
    priority_id: str
    ticket_id: str
    closed_status: Named
    owner: Named


@frozen(kw_only=True)
class Expected:
    references: frozenset[Reference]
    reference_requests: int
    company: VendorCompany
    companies: int
    deleted_companies: tuple[str, ...]
    site: VendorSite
    sites: int
    removed_sites: tuple[str, ...]
    contact: Contact
    removed_contacts: tuple[str, ...]
    open_ticket: Ticket
    closed_ticket: Ticket
    tickets: int
    ticket_pages: int
    notes: tuple[TicketNote, ...]
    """Every note of ``open_ticket``, oldest first."""
    contract: Contract
    device: Device
    retired_devices: tuple[str, ...]
    skipped: Mapping[str, tuple[str | None, ...]]
    writes: Writes


def replayed() -> Expected:
    console = "https://na.myconnectwise.net/v4_6_release"
    service_desk = Named(id="30", name="Service Desk")
    normal = Named(id="8", name="Priority 3 - Normal")
    sam = Named(id="638", name="Sam Okafor")
    return Expected(
        references=frozenset(
            {
                Reference(kind=ReferenceKind.BOARD, id="30", name="Service Desk"),
                Reference(kind=ReferenceKind.BOARD, id="31", name="Projects"),
                Reference(kind=ReferenceKind.STATUS, id="550", name="Service Desk / New"),
                Reference(kind=ReferenceKind.STATUS, id="551", name="Service Desk / In Progress"),
                Reference(
                    kind=ReferenceKind.STATUS, id="562", name="Service Desk / >Closed", closed=True
                ),
                Reference(kind=ReferenceKind.STATUS, id="570", name="Projects / New"),
                Reference(
                    kind=ReferenceKind.STATUS, id="571", name="Projects / Completed", closed=True
                ),
                Reference(kind=ReferenceKind.PRIORITY, id="6", name="Priority 1 - Critical"),
                Reference(kind=ReferenceKind.PRIORITY, id="8", name="Priority 3 - Normal"),
                Reference(kind=ReferenceKind.MEMBER, id="638", name="Sam Okafor"),
            }
        ),
        reference_requests=5,
        company=VendorCompany(
            id="250",
            name="Aldridge & Co.",
            identifier="AldridgeCo",
            updated_at=_at("2026-10-01T09:00:00Z"),
        ),
        companies=2,
        deleted_companies=("19298",),
        site=VendorSite(
            id="5353", company_id="250", name="Head Office", updated_at=_at("2026-09-01T08:00:00Z")
        ),
        sites=2,
        removed_sites=("5354",),
        contact=Contact(
            id="17754",
            company_id="250",
            name="Maria Alvarez",
            email="maria.alvarez@aldridgeco.example",
            phone="+1 555 0100",
            updated_at=_at("2026-10-14T16:20:00Z"),
        ),
        removed_contacts=("17756",),
        open_ticket=Ticket(
            id="945315",
            number="945315",
            company_id="250",
            summary="Outlook keeps asking for the password",
            opened_at=_at("2026-11-26T08:10:00Z"),
            updated_at=_at("2026-11-27T09:39:42Z"),
            board=service_desk,
            status=Named(id="551", name="In Progress"),
            priority=normal,
            owner=sam,
            contact_id="17754",
            site_id="5353",
            url=console + TICKET_PAGE.format(945315, "harborpoint"),
            sla=TicketSla(
                name="Managed Services SLA",
                responded_at=_at("2026-11-26T08:52:10Z"),
                in_sla=True,
            ),
        ),
        closed_ticket=Ticket(
            id="3186",
            number="3186",
            company_id="251",
            summary="New starter: laptop and accounts for Monday",
            opened_at=_at("2026-11-24T15:22:36Z"),
            updated_at=_at("2026-11-25T17:39:20Z"),
            board=service_desk,
            status=Named(id="562", name=">Closed"),
            priority=normal,
            site_id="5360",
            closed=True,
            closed_at=_at("2026-11-25T17:39:20Z"),
            url=console + TICKET_PAGE.format(3186, "harborpoint"),
        ),
        tickets=3,
        ticket_pages=2,
        notes=(
            TicketNote(
                id="91001",
                ticket_id="945315",
                text="Since this morning Outlook prompts for my password every few minutes.",
                internal=False,
                created_at=_at("2026-11-26T08:10:00Z"),
                author="Maria Alvarez",
                from_customer=True,
            ),
            TicketNote(
                id="91002",
                ticket_id="945315",
                text="Thanks for reporting this — I'm looking into it now.",
                internal=False,
                created_at=_at("2026-11-26T09:00:00Z"),
                author="Sam Okafor",
            ),
            TicketNote(
                id="91003",
                ticket_id="945315",
                text="Cleared cached credentials and rebuilt the Outlook profile.",
                internal=True,
                created_at=_at("2026-11-27T09:39:42Z"),
                author="Sam Okafor",
            ),
            TicketNote(
                id="91004",
                ticket_id="945315",
                text="Customer's MFA app was re-registered; the old phone is still enrolled.",
                internal=True,
                created_at=_at("2026-11-27T10:05:00Z"),
                author="Sam Okafor",
            ),
            TicketNote(
                id="91005",
                ticket_id="945315",
                text="Left the old profile folder in place until Friday, just in case.",
                internal=True,
                created_at=_at("2026-11-27T10:20:00Z"),
                author="Sam Okafor",
            ),
        ),
        contract=Contract(
            id="9001",
            company_id="250",
            name="Aldridge & Co. — Managed Services",
            kind="Managed Services",
            status="active",
            starts_on=date(2025, 7, 1),
            ends_on=date(2027, 6, 30),
            lines=(
                ContractLine(
                    id="7001",
                    description="Managed workstation",
                    quantity=Decimal(21),
                    unit_price=Decimal(45),
                ),
                ContractLine(
                    id="7002",
                    description="Managed server",
                    quantity=Decimal(2),
                    unit_price=Decimal(150),
                ),
            ),
            updated_at=_at("2026-11-01T12:00:00Z"),
        ),
        device=Device(
            id="3101",
            company_id="250",
            name="ALD-SRV-01",
            kind="Managed Server",
            os="Windows Server 2022 Standard 21H2",
            site="Head Office",
            updated_at=_at("2026-11-27T07:00:00Z"),
        ),
        retired_devices=("3102",),
        skipped={
            "companies": ("252",),
            "contacts": ("17755",),
            "tickets": ("945399",),
            "notes": (None,),
            "contracts": ("9002",),
        },
        writes=Writes(
            company_id="250",
            board_id="30",
            priority_id="6",
            ticket_id="945315",
            closed_status=Named(id="562", name=">Closed"),
            owner=sam,
        ),
    )


def sandboxed(state: ConnectWiseState, world: World) -> Expected:
    first = world.companies[0]
    company_doc = state.companies[int(state.company_ids[first.key])]
    site_doc = _site(state, company_doc["id"], first.sites[0].name)
    person = first.contacts[0]
    contact_doc = _contact(state, person.email)
    open_ticket = next(
        t
        for t in world.tickets
        if not t.closed and t.owner and t.contact and t.board == "Service Desk"
    )
    closed_ticket = next(t for t in world.tickets if t.closed and t.owner and t.contact)
    contract = world.contracts[0]
    agreement = next(a for a in state.agreements.values() if a["name"] == contract.name)
    device = world.devices[0]
    configuration = next(c for c in state.configurations.values() if c["name"] == device.name)
    service_desk = state.board_named("Service Desk")
    assert service_desk is not None
    closed_status = state.status_named(service_desk["id"], "Closed")
    assert closed_status is not None
    owner = world.members[1]
    return Expected(
        references=_references(state, world),
        reference_requests=3 + len(BOARDS),
        company=VendorCompany(
            id=str(company_doc["id"]),
            name=first.name,
            identifier=first.identifier,
            updated_at=_stamp(company_doc),
        ),
        companies=len(world.companies),
        deleted_companies=(),
        site=VendorSite(
            id=str(site_doc["id"]),
            company_id=str(company_doc["id"]),
            name=first.sites[0].name,
            updated_at=_stamp(site_doc),
        ),
        sites=sum(len(company.sites) for company in world.companies),
        removed_sites=(),
        contact=Contact(
            id=str(contact_doc["id"]),
            company_id=str(company_doc["id"]),
            name=person.name,
            email=person.email,
            phone=person.phone,
            updated_at=_stamp(contact_doc),
        ),
        removed_contacts=(),
        open_ticket=_ticket(state, world, open_ticket),
        closed_ticket=_ticket(state, world, closed_ticket),
        tickets=len(world.tickets),
        ticket_pages=-(-len(world.tickets) // 100),
        notes=tuple(
            TicketNote(
                id=str(note.key),
                ticket_id=str(open_ticket.key),
                text=note.text,
                internal=note.internal,
                created_at=_second(note.created_at),
                author=note.author,
                from_customer=note.from_customer,
            )
            for note in open_ticket.notes
        ),
        contract=Contract(
            id=str(agreement["id"]),
            company_id=state.company_ids[contract.company],
            name=contract.name,
            kind=contract.kind,
            status="active" if contract.ends_on >= world.now.date() else "expired",
            starts_on=contract.starts_on,
            ends_on=contract.ends_on,
            lines=tuple(
                ContractLine(
                    id=str(addition["id"]),
                    description=line.description,
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                )
                for line, addition in zip(
                    contract.lines, state.additions[agreement["id"]], strict=True
                )
            ),
            updated_at=_stamp(agreement),
        ),
        device=Device(
            id=str(configuration["id"]),
            company_id=state.company_ids[device.company],
            name=device.name,
            kind="Managed Server" if device.kind == "server" else "Managed Workstation",
            os=device.os,
            site=device.site,
            updated_at=_second(device.last_seen_at),
        ),
        retired_devices=(),
        skipped={},
        writes=Writes(
            company_id=str(company_doc["id"]),
            board_id=str(service_desk["id"]),
            priority_id=str(next(iter(state.priorities))),
            ticket_id=str(open_ticket.key),
            closed_status=Named(id=str(closed_status["id"]), name="Closed"),
            owner=Named(id=str(_member(state, owner.name)["id"]), name=owner.name),
        ),
    )


def _references(state: ConnectWiseState, world: World) -> frozenset[Reference]:
    references = set()
    for board_name in BOARDS:
        board = state.board_named(board_name)
        assert board is not None
        references.add(Reference(kind=ReferenceKind.BOARD, id=str(board["id"]), name=board_name))
        for status_name in STATUSES:
            status = state.status_named(board["id"], status_name)
            assert status is not None
            references.add(
                Reference(
                    kind=ReferenceKind.STATUS,
                    id=str(status["id"]),
                    name=f"{board_name} / {status_name}",
                    closed=status_name == "Closed",
                )
            )
    for priority_name in PRIORITIES:
        priority = state.priority_named(priority_name)
        assert priority is not None
        references.add(
            Reference(kind=ReferenceKind.PRIORITY, id=str(priority["id"]), name=priority_name)
        )
    for person in world.members:
        member = _member(state, person.name)
        references.add(Reference(kind=ReferenceKind.MEMBER, id=str(member["id"]), name=person.name))
    return frozenset(references)


def _ticket(state: ConnectWiseState, world: World, ticket: WorldTicket) -> Ticket:
    company_id = int(state.company_ids[ticket.company])
    board = state.board_named(ticket.board)
    assert board is not None
    status = state.status_named(board["id"], ticket.status)
    priority = state.priority_named(ticket.priority)
    assert status is not None and priority is not None and ticket.contact and ticket.owner
    owner = _member(state, ticket.owner)
    level = ticket.service_level(world.now)
    return Ticket(
        id=str(ticket.key),
        number=str(ticket.key),
        company_id=str(company_id),
        summary=ticket.summary,
        opened_at=_second(ticket.opened_at),
        updated_at=_second(min(ticket.updated_at, world.now)),
        board=Named(id=str(board["id"]), name=ticket.board),
        status=Named(id=str(status["id"]), name=ticket.status),
        priority=Named(id=str(priority["id"]), name=ticket.priority),
        owner=Named(id=str(owner["id"]), name=ticket.owner),
        contact_id=str(_contact(state, ticket.contact.email)["id"]),
        site_id=str(_site(state, company_id, ticket.site)["id"]),
        closed=ticket.closed,
        closed_at=_second(min(ticket.closed_at, world.now)) if ticket.closed_at else None,
        url=state.base_url + TICKET_PAGE.format(ticket.key, state.company_id),
        sla=TicketSla(
            name=level.name,
            responded_at=_second(level.responded_at) if level.responded_at else None,
            in_sla=level.in_sla,
        ),
    )


def _member(state: ConnectWiseState, name: str) -> dict[str, Any]:
    member = state.member_named(name)
    assert member is not None, name
    return member


def _contact(state: ConnectWiseState, email: str) -> dict[str, Any]:
    return next(
        contact
        for contact in state.contacts.values()
        if any(item["value"] == email for item in contact["communicationItems"])
    )


def _site(state: ConnectWiseState, company_id: int, name: str) -> dict[str, Any]:
    return next(
        site
        for site in state.sites.values()
        if site["company"]["id"] == company_id and site["name"] == name
    )


def _stamp(document: dict[str, Any]) -> datetime:
    return _at(document["_info"]["lastUpdated"])


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _second(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(microsecond=0)
