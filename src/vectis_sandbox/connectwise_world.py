"""The demo world in ConnectWise's shapes (companies with sites and contacts, tickets with notes,
agreements with additions, configurations), and the customers' activity that changes it.

ConnectWise ids are the sandbox's own: companies from 250, sites from 1000, contacts from 17700,
tickets and notes keep the world's keys, agreements 9000 + key, configurations 3000 + key.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from vectis_sandbox.connectwise_callbacks import deliver
from vectis_sandbox.connectwise_state import (
    ConnectWiseState,
    Document,
    add_reference_tables,
    company_document,
    note_document,
    ref,
    stamp,
)
from vectis_sandbox.world import CUSTOMER_REPLIES, HISTORY_DAYS, PROBLEMS, Contract, Person, World
from vectis_sandbox.world import Ticket as WorldTicket

SLA_ID = 3


def seeded(world: World) -> ConnectWiseState:
    """The demo world as ConnectWise would hold it."""
    state = ConnectWiseState()
    add_reference_tables(state, world.members)
    listed_at = stamp(world.now - timedelta(days=HISTORY_DAYS + 30))
    contacts_by_email: dict[str, Document] = {}
    sites_by_name: dict[tuple[str, str], Document] = {}
    for index, company in enumerate(world.companies):
        document = company_document(250 + index, company.name, company.identifier, listed_at)
        document["phoneNumber"] = company.phone
        state.companies[document["id"]] = document
        state.company_ids[company.key] = str(document["id"])
        for number, site in enumerate(company.sites):
            site_doc: Document = {
                "id": 1000 + len(state.sites),
                "name": site.name,
                "addressLine1": site.address,
                "company": ref(document, "identifier"),
                "primaryAddressFlag": number == 0,
                "inactiveFlag": False,
                "_info": {"lastUpdated": listed_at, "dateEntered": listed_at},
            }
            state.sites[site_doc["id"]] = sites_by_name[(company.key, site.name)] = site_doc
        for person in company.contacts:
            contact = _contact(17700 + len(state.contacts), person, document, listed_at)
            state.contacts[contact["id"]] = contacts_by_email[person.email] = contact
    for ticket in world.tickets:
        document = _world_ticket(state, world.now, ticket, contacts_by_email, sites_by_name)
        state.tickets[ticket.key] = document
        state.notes[ticket.key] = [
            note_document(
                note.key,
                ticket.key,
                note.text,
                internal=note.internal,
                member=None if note.from_customer else state.member_named(note.author),
                contact=contacts_by_email.get(ticket.contact.email)
                if note.from_customer and ticket.contact
                else None,
                at=note.created_at,
            )
            for note in ticket.notes
        ]
    for contract in world.contracts:
        _add_agreement(state, world, contract)
    for device in world.devices:
        company_doc = state.companies[int(state.company_ids[device.company])]
        device_site = sites_by_name.get((device.company, device.site))
        kind = "Managed Server" if device.kind == "server" else "Managed Workstation"
        configuration: Document = {
            "id": 3000 + device.key,
            "name": device.name,
            "type": {"id": 1 if device.kind == "server" else 2, "name": kind},
            "status": {"id": 2, "name": "Active"},
            "company": ref(company_doc, "identifier"),
            "site": ref(device_site) if device_site else None,
            "osType": device.os,
            "activeFlag": True,
            "_info": {"lastUpdated": stamp(device.last_seen_at), "dateEntered": listed_at},
        }
        state.configurations[configuration["id"]] = configuration
    return state


def simulate_activity(state: ConnectWiseState, rng: random.Random) -> None:
    """One thing a customer does: open a ticket, or reply on an open one."""
    waiting = sorted(
        (t for t in state.tickets.values() if not t["closedFlag"] and t.get("contact")),
        key=lambda ticket: ticket["id"],
    )
    if waiting and rng.random() < 0.5:
        ticket = rng.choice(waiting)
        contact = state.contacts.get(ticket["contact"]["id"])
        state.add_note(ticket["id"], rng.choice(CUSTOMER_REPLIES), contact=contact)
        deliver(state, "updated", ticket)
        return
    company_id = rng.choice(sorted(state.companies))
    contacts = [c for c in state.contacts.values() if c["company"]["id"] == company_id]
    summary, description = rng.choice(PROBLEMS)
    ticket = state.add_ticket(
        company_id,
        summary,
        description=description,
        contact=rng.choice(contacts) if contacts else None,
    )
    deliver(state, "added", ticket)


def _contact(contact_id: int, person: Person, company: Document, at: str) -> Document:
    first, _, last = person.name.partition(" ")
    return {
        "id": contact_id,
        "firstName": first,
        "lastName": last,
        "company": ref(company, "identifier"),
        "inactiveFlag": False,
        "communicationItems": [
            {
                "id": contact_id * 10 + 1,
                "type": {"id": 1, "name": "Email"},
                "value": person.email,
                "defaultFlag": True,
                "communicationType": "Email",
            },
            {
                "id": contact_id * 10 + 2,
                "type": {"id": 2, "name": "Direct"},
                "value": person.phone,
                "defaultFlag": True,
                "communicationType": "Phone",
            },
        ],
        "_info": {"lastUpdated": at, "dateEntered": at},
    }


def _world_ticket(
    state: ConnectWiseState,
    now: datetime,
    ticket: WorldTicket,
    contacts: dict[str, Document],
    sites: dict[tuple[str, str], Document],
) -> Document:
    company = state.companies[int(state.company_ids[ticket.company])]
    board = state.board_named(ticket.board)
    assert board is not None, ticket.board
    status = state.status_named(board["id"], ticket.status) or state.default_status(board["id"])
    document: Document = {
        "id": ticket.key,
        "summary": ticket.summary,
        "recordType": "ServiceTicket",
        "board": ref(board),
        "status": ref(status),
        "company": ref(company, "identifier"),
        "priority": ref(state.priority_named(ticket.priority) or state.priorities[8]),
        "closedFlag": ticket.closed,
        "_info": {
            # A few world tickets were last touched "after" world.now; no vendor does that.
            "lastUpdated": stamp(min(ticket.updated_at, now)),
            "dateEntered": stamp(ticket.opened_at),
            "enteredBy": "portal",
            "updatedBy": "sandbox",
        },
    }
    site = sites.get((ticket.company, ticket.site))
    if site:
        document["site"] = ref(site)
        document["siteName"] = site["name"]
    contact = contacts.get(ticket.contact.email) if ticket.contact else None
    if contact:
        document["contact"] = ref(contact)
        document["contactName"] = contact["firstName"] + " " + contact["lastName"]
    owner = state.member_named(ticket.owner) if ticket.owner else None
    if owner:
        document["owner"] = ref(owner, "identifier")
    if ticket.closed_at:
        document["closedDate"] = stamp(min(ticket.closed_at, now))
        document["closedBy"] = owner["identifier"] if owner else "sandbox"
    level = ticket.service_level(now)
    document["sla"] = {"id": SLA_ID, "name": level.name}
    document["isInSla"] = level.in_sla
    if level.responded_at:
        document["dateResponded"] = stamp(level.responded_at)
    return document


def _add_agreement(state: ConnectWiseState, world: World, contract: Contract) -> None:
    company = state.companies[int(state.company_ids[contract.company])]
    started = stamp(datetime.combine(contract.starts_on, time(9), UTC))
    agreement: Document = {
        "id": 9000 + contract.key,
        "name": contract.name,
        "type": {"id": 3, "name": contract.kind},
        "company": ref(company, "identifier"),
        "startDate": _day(contract.starts_on),
        "endDate": _day(contract.ends_on),
        "noEndingDateFlag": False,
        "cancelledFlag": False,
        "agreementStatus": "Active" if contract.ends_on >= world.now.date() else "Expired",
        "billAmount": float(sum(line.quantity * line.unit_price for line in contract.lines)),
        "_info": {"lastUpdated": started, "dateEntered": started},
    }
    state.agreements[agreement["id"]] = agreement
    state.additions[agreement["id"]] = [
        {
            "id": 7000 + line.key,
            "product": {"id": 300 + line.key, "identifier": line.description},
            "description": line.description,
            "quantity": float(line.quantity),
            "unitPrice": float(line.unit_price),
            "billCustomer": "Billable",
            "effectiveDate": _day(contract.starts_on),
            "agreementId": agreement["id"],
            "_info": {"lastUpdated": started},
        }
        for line in contract.lines
    ]


def _day(day: date) -> str:
    return f"{day.isoformat()}T00:00:00Z"
