"""The demo world in HaloPSA's shapes: clients, sites, users, tickets with actions, assets,
client contracts with recurring-invoice lines, and the reference lists agents pick from.

Times are written as Halo writes them: UTC with seven fractional digits and a ``Z`` on tickets
and actions, without a zone on clients, sites, users and assets.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from vectis_sandbox.world import (
    BOARDS,
    MEMBERS,
    PRIORITIES,
    Company,
    World,
)
from vectis_sandbox.world import Ticket as WorldTicket

STATUS_IDS = {"New": 1, "In Progress": 2, "Waiting on Customer": 3, "Scheduled": 4, "Closed": 9}
CLOSED_STATUS = 9
TEAM_IDS = {board: 26 + index for index, board in enumerate(BOARDS)}
PRIORITY_IDS = {name: index + 1 for index, name in enumerate(PRIORITIES)}
AGENT_IDS = {member.name: 2 + index for index, member in enumerate(MEMBERS)}
API_AGENT_ID = 13
API_AGENT = {"id": API_AGENT_ID, "name": "Vectis API", "email": "api@harborpoint.example"}
NO_DATE = "1900-01-01T00:00:00"
SLA_ID = 1


def halo_time(moment: datetime) -> str:
    """Halo's ticket times: ``2024-06-20T14:45:15.9746271Z``."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def local_time(moment: datetime) -> str:
    """Halo's times without a zone (``2024-06-27T08:24:23.933``), UTC all the same."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]


def statuses() -> list[dict[str, Any]]:
    return [
        {"id": status_id, "name": name, "shortname": name[:4].upper(), "type": 0, "sequence": n}
        for n, (name, status_id) in enumerate(STATUS_IDS.items())
    ] + [{"id": 50, "name": "Proposal Sent", "shortname": "PROP", "type": 1, "sequence": 9}]


def priorities() -> list[dict[str, Any]]:
    return [
        {
            "id": f"aeb80996-724c-e811-892e-b01041c8667{priority_id}",
            "slaid": SLA_ID,
            "priorityid": priority_id,
            "name": name,
            "fixtime": 5.0,
            "fixunits": "D",
            "ishidden": False,
        }
        for name, priority_id in PRIORITY_IDS.items()
    ]


def teams() -> list[dict[str, Any]]:
    return [
        {"id": team_id, "name": name, "forrequests": True, "inactive": False}
        for name, team_id in TEAM_IDS.items()
    ]


def agents() -> list[dict[str, Any]]:
    return [
        {
            "id": AGENT_IDS[member.name],
            "name": member.name,
            "email": member.email,
            "isdisabled": False,
        }
        for member in MEMBERS
    ]


class Seeder:
    """Builds the Halo objects of one world, remembering the ids it gave."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.client_ids: dict[str, int] = {}
        self.site_ids: dict[tuple[str, str], int] = {}
        self.user_ids: dict[str, int] = {}
        self.stamp = local_time(world.now - timedelta(days=30))

    def clients(self) -> dict[int, dict[str, Any]]:
        clients = {}
        for index, company in enumerate(self.world.companies):
            client_id = 12 + index
            self.client_ids[company.key] = client_id
            clients[client_id] = {
                "id": client_id,
                "name": company.name,
                "ref": company.identifier,
                "toplevel_id": 1,
                "toplevel_name": "Clients",
                "inactive": False,
                "main_phonenumber": company.phone,
                "alastupdate": self.stamp,
            }
        return clients

    def sites(self) -> dict[int, dict[str, Any]]:
        sites, next_id = {}, 18
        for company in self.world.companies:
            for site in company.sites:
                self.site_ids[(company.key, site.name)] = next_id
                sites[next_id] = {
                    "id": next_id,
                    "name": site.name,
                    "client_id": float(self.client_ids[company.key]),
                    "client_name": company.name,
                    "clientsite_name": f"{company.name}/{site.name}",
                    "inactive": False,
                    "delivery_address_line1": site.address,
                    "slastupdate": self.stamp,
                }
                next_id += 1
        return sites

    def users(self) -> dict[int, dict[str, Any]]:
        users, next_id = {}, 38
        for company in self.world.companies:
            site = company.sites[0]
            for person in company.contacts:
                self.user_ids[person.email] = next_id
                first, _, last = person.name.partition(" ")
                users[next_id] = {
                    "id": next_id,
                    "name": person.name,
                    "firstname": first,
                    "surname": last,
                    "site_id": float(self.site_ids[(company.key, site.name)]),
                    "site_id_int": self.site_ids[(company.key, site.name)],
                    "site_name": site.name,
                    "client_id": self.client_ids[company.key],
                    "client_name": company.name,
                    "emailaddress": person.email,
                    "phonenumber": person.phone,
                    "inactive": False,
                    "use": "user",
                    "ulastupdate": self.stamp,
                }
                next_id += 1
        return users

    def tickets(self) -> tuple[dict[int, dict[str, Any]], dict[int, list[dict[str, Any]]]]:
        tickets, actions = {}, {}
        companies = {company.key: company for company in self.world.companies}
        for source in self.world.tickets:
            company = companies[source.company]
            tickets[source.key] = self.ticket(source, company)
            actions[source.key] = self.actions(source)
        return tickets, actions

    def ticket(self, source: WorldTicket, company: Company) -> dict[str, Any]:
        contact = source.contact
        status_id = STATUS_IDS[source.status]
        # The world can date a ticket's last change past its "now"; Halo never would.
        updated = min(source.updated_at, self.world.now)
        return {
            "id": source.key,
            "summary": source.summary,
            "details": source.description,
            "client_id": self.client_ids[company.key],
            "client_name": company.name,
            "site_id": self.site_ids[(company.key, source.site)],
            "site_name": source.site,
            "user_id": self.user_ids.get(contact.email, 0) if contact else 0,
            "user_name": contact.name if contact else "",
            "agent_id": AGENT_IDS[source.owner] if source.owner else 1,
            "team": source.board,
            "team_id": TEAM_IDS[source.board],
            "status_id": status_id,
            "priority_id": PRIORITY_IDS[source.priority],
            "tickettype_id": 36,
            "sla_id": SLA_ID,
            "dateoccurred": halo_time(source.opened_at),
            "datecreated": halo_time(source.opened_at),
            "last_update": halo_time(updated),
            "lastactiondate": halo_time(updated),
            "dateclosed": halo_time(source.closed_at) if source.closed_at else NO_DATE,
            **self.service_level(source),
            "third_party_id_string": "",
            "reportedby": contact.email if contact else "",
            "deleted": False,
        }

    def service_level(self, source: WorldTicket) -> dict[str, Any]:
        level = source.service_level(self.world.now)
        return {
            "sla_name": level.name,
            "excludefromsla": False,
            "respondbydate": halo_time(level.respond_by),
            "responsedate": halo_time(level.responded_at) if level.responded_at else NO_DATE,
            "fixbydate": halo_time(level.resolve_by),
        }

    def actions(self, source: WorldTicket) -> list[dict[str, Any]]:
        found = [
            action(
                source.key,
                1,
                note="Matched Rules Changed: Add default team to new ticket",
                who="System",
                who_type=0,
                at=source.opened_at,
                hidden=True,
                outcome="Rule Applied",
            )
        ]
        for note in source.notes:
            if note.from_customer:
                outcome, who_type, agent = "End-User Update", 2, 0
            else:
                outcome = "Private Note" if note.internal else "Email User"
                who_type, agent = 1, AGENT_IDS.get(note.author, 0)
            found.append(
                action(
                    source.key,
                    len(found) + 1,
                    note=note.text,
                    who=note.author,
                    who_type=who_type,
                    who_agentid=agent,
                    at=note.created_at,
                    hidden=note.internal,
                    outcome=outcome,
                )
            )
        return found

    def assets(self) -> dict[int, dict[str, Any]]:
        assets = {}
        for device in self.world.devices:
            company = next(c for c in self.world.companies if c.key == device.company)
            assets[device.key] = {
                "id": device.key,
                "inventory_number": f"AST{device.key:05d}",
                "key_field": device.name,
                "key_field2": device.os,
                "client_id": self.client_ids[device.company],
                "client_name": company.name,
                "site_id": self.site_ids[(device.company, device.site)],
                "site_name": device.site,
                "assettype_id": 1 if device.kind == "server" else 2,
                "assettype_name": device.kind.capitalize(),
                "inactive": False,
                "dlastupdate": local_time(device.last_seen_at),
            }
        return assets

    def contracts(self) -> tuple[dict[int, dict[str, Any]], dict[int, dict[str, Any]]]:
        contracts, invoices = {}, {}
        for contract in self.world.contracts:
            client_id = self.client_ids[contract.company]
            contracts[contract.key] = {
                "id": contract.key,
                "client_id": client_id,
                "ref": contract.name,
                "contracttype_name": contract.kind,
                "contract_status": "Active",
                "start_date": f"{contract.starts_on.isoformat()}T00:00:00",
                "end_date": f"{contract.ends_on.isoformat()}T00:00:00",
                "last_modified": self.stamp,
            }
            invoice_id = 700 + contract.key
            invoices[invoice_id] = {
                "id": invoice_id,
                "client_id": client_id,
                "contract_id": contract.key,
                "lines": [
                    {
                        "id": line.key,
                        "ihid": invoice_id,
                        "item_shortdescription": line.description,
                        "qty_order": float(line.quantity),
                        "unit_price": float(line.unit_price),
                        "contract_id": contract.key,
                    }
                    for line in contract.lines
                ],
            }
        return contracts, invoices


def action(
    ticket_id: int,
    action_id: int,
    *,
    note: str,
    who: str,
    who_type: int,
    at: datetime,
    hidden: bool,
    outcome: str,
    who_agentid: int = 0,
) -> dict[str, Any]:
    return {
        "ticket_id": ticket_id,
        "id": action_id,
        "outcome": outcome,
        "who": who,
        "who_type": who_type,
        "who_agentid": who_agentid,
        "datetime": halo_time(at),
        "actiondatecreated": halo_time(at),
        "note": note,
        "note_html": note,
        "hiddenfromuser": hidden,
        "important": False,
    }
