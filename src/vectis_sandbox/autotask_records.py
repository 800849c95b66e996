"""The demo world as Autotask records (REST field names), and the benchmark's generated tickets.

Ids echo the reference pack's samples (company 174, queue 29682833, contact 29683586…); company 0
is the MSP itself, as in every Autotask database.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from attrs import define, field

from vectis_sandbox import world as demo
from vectis_sandbox.autotask_tables import Row

OWNER = {"id": 0, "companyName": "Harbor Point IT", "companyNumber": "0", "companyType": 5}
FIRST_COMPANY_ID = 174
FIRST_LOCATION_ID = 55
FIRST_CONTACT_ID = 29683586
FIRST_RESOURCE_ID = 29682885
API_RESOURCE_ID = 29682880
FIRST_CONTRACT_ID = 29684183
FIRST_SERVICE_ID = 29684300
SERVICE_DESK_ROLE_ID = 8
COMPLETE = 5
SLA_ID = 1
STATUSES = {1: "New", 5: "Complete", 7: "Waiting Customer", 8: "In Progress", 10: "Scheduled"}
PRIORITIES = {4: "Critical", 1: "High", 2: "Medium", 3: "Low"}
QUEUES = {29682833: "Service Desk", 29682834: "Projects", 29682835: "Alerts", 5: "Client Portal"}
# Ticket fields a TicketWebhook can name, by this tenant's internal FieldID. Autotask documents
# the id as the tenant's own, not a fixed number: the sandbox numbers them unlike any list, and
# lists them only as the picklist of TicketWebhookFields.fieldID (webhook_fields below).
WEBHOOK_FIELDS = {
    3107: "status",
    3111: "priority",
    3093: "queueID",
    3046: "assignedResourceID",
    3052: "companyID",
    3118: "ticketNumber",
    3120: "title",
    3057: "completedDate",
    3061: "lastActivityDate",
}
_WORLD_STATUS = {
    "New": 1,
    "In Progress": 8,
    "Waiting on Customer": 7,
    "Scheduled": 10,
    "Closed": COMPLETE,
}
_WORLD_PRIORITY = dict(zip(demo.PRIORITIES, (4, 1, 2, 3), strict=True))
_WORLD_QUEUE = dict(zip(demo.BOARDS, (29682833, 29682834, 29682835), strict=True))


@define
class Directory:
    """World keys → Autotask ids, filled while the world is converted."""

    companies: dict[str, int] = field(factory=dict)
    locations: dict[tuple[str, str], int] = field(factory=dict)
    contacts: dict[tuple[str, str], int] = field(factory=dict)
    resources: dict[str, int] = field(factory=dict)

    def company_contacts(self, company_key: str) -> list[int]:
        return [id_ for (company, _), id_ in self.contacts.items() if company == company_key]

    def company_locations(self, company_key: str) -> list[int]:
        return [id_ for (company, _), id_ in self.locations.items() if company == company_key]


def at(moment: datetime | date) -> str:
    """Autotask's time format: UTC with milliseconds and ``Z``."""
    if not isinstance(moment, datetime):
        moment = datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def ticket_fields() -> dict[str, Any]:
    """``Tickets/entityInformation/fields``: the picklists Vectis reads, in Autotask's shape."""

    def picklist(name: str, values: dict[int, str], *, required: bool = True) -> Row:
        return {
            "name": name,
            "dataType": "integer",
            "length": 0,
            "isRequired": required,
            "isReadOnly": False,
            "isQueryable": True,
            "isReference": False,
            "referenceEntityType": "",
            "isPickList": True,
            "picklistValues": [
                {
                    "value": str(value),
                    "label": label,
                    "isDefaultValue": value == 1,
                    "sortOrder": order,
                    "parentValue": "",
                    "isActive": True,
                    "isSystem": value in (1, 5),
                }
                for order, (value, label) in enumerate(values.items())
            ],
            "picklistParentValueField": "",
            "isSupportedWebhookField": True,
        }

    plain = [
        {"name": name, "dataType": kind, "isPickList": False, "isRequired": name == "title"}
        for name, kind in (("id", "long"), ("title", "string"), ("lastActivityDate", "datetime"))
    ]
    return {
        "fields": [
            *plain,
            picklist("status", STATUSES),
            picklist("priority", PRIORITIES),
            picklist("queueID", QUEUES, required=False),
        ]
    }


def webhook_fields() -> dict[str, Any]:
    """``TicketWebhookFields/entityInformation/fields``: ``fieldID`` is a picklist of the
    ticket fields a webhook can name. UNCONFIRMED in our reference pack: that Autotask lists
    the internal ids this way, and that each label is the field's API name."""
    values = [
        {"value": str(field_id), "label": name, "isActive": True, "sortOrder": order}
        for order, (field_id, name) in enumerate(WEBHOOK_FIELDS.items())
    ]
    return {
        "fields": [
            {"name": "id", "dataType": "long", "isPickList": False},
            {"name": "webhookID", "dataType": "integer", "isPickList": False},
            {
                "name": "fieldID",
                "dataType": "integer",
                "isPickList": True,
                "picklistValues": values,
            },
            {"name": "isSubscribedField", "dataType": "boolean", "isPickList": False},
            {"name": "isDisplayAlwaysField", "dataType": "boolean", "isPickList": False},
        ]
    }


def world_rows(world: demo.World) -> tuple[dict[str, list[Row]], Directory]:
    """Every entity of the world as Autotask rows, by entity name."""
    ids = Directory()
    created = world.now - timedelta(days=400)
    tables: dict[str, list[Row]] = {name: [] for name in ENTITIES}
    tables["Companies"].append({**OWNER, "isActive": True, **_stamps(created, company=True)})
    tables["Resources"].append(
        _resource(API_RESOURCE_ID, "Vectis", "API", "vectis-api@harborpoint.example")
    )
    for n, member in enumerate(world.members):
        ids.resources[member.name] = FIRST_RESOURCE_ID + n
        first, _, last = member.name.partition(" ")
        tables["Resources"].append(_resource(FIRST_RESOURCE_ID + n, first, last, member.email))
    tables["ResourceServiceDeskRoles"] = [
        {
            "id": 9000 + n,
            "resourceID": row["id"],
            "roleID": SERVICE_DESK_ROLE_ID,
            "isDefault": True,
            "isActive": True,
        }
        for n, row in enumerate(tables["Resources"])
    ]
    for n, company in enumerate(world.companies):
        company_id = FIRST_COMPANY_ID + n
        ids.companies[company.key] = company_id
        tables["Companies"].append(
            {
                "id": company_id,
                "companyName": company.name,
                "companyNumber": company.identifier,
                "companyType": 1,
                "phone": company.phone,
                "isActive": True,
                **_stamps(created, company=True),
            }
        )
        for site in company.sites:
            location_id = FIRST_LOCATION_ID + len(ids.locations)
            ids.locations[(company.key, site.name)] = location_id
            tables["CompanyLocations"].append(
                {
                    "id": location_id,
                    "companyID": company_id,
                    "name": site.name,
                    "address1": site.address,
                    "isActive": True,
                    "isPrimary": site == company.sites[0],
                }
            )
        for person in company.contacts:
            contact_id = FIRST_CONTACT_ID + len(ids.contacts)
            ids.contacts[(company.key, person.email)] = contact_id
            first, _, last = person.name.partition(" ")
            tables["Contacts"].append(
                {
                    "id": contact_id,
                    "companyID": company_id,
                    "firstName": first,
                    "lastName": last,
                    "emailAddress": person.email,
                    "phone": person.phone,
                    "isActive": 1,
                    "createDate": at(created),
                    "lastActivityDate": at(created),
                    "lastModifiedDate": at(created),
                }
            )
    for ticket in world.tickets:
        tables["Tickets"].append(_world_ticket(ticket, ids, world.now))
        tables["TicketNotes"].extend(_world_note(ticket, note, ids) for note in ticket.notes)
    _contracts(world, ids, tables)
    for device in world.devices:
        tables["ConfigurationItems"].append(
            {
                "id": device.key,
                "companyID": ids.companies[device.company],
                "companyLocationID": next(
                    (
                        i
                        for (c, s), i in ids.locations.items()
                        if c == device.company and s == device.site
                    ),
                    None,
                ),
                "referenceTitle": device.name,
                "serialNumber": f"SN{device.key:08d}",
                "configurationItemType": 1,
                "isActive": True,
                "createDate": at(created),
                "lastModifiedTime": at(device.last_seen_at),
                "rmmDeviceAuditHostname": device.name,
                "rmmDeviceAuditOperatingSystem": device.os,
                "rmmDeviceAuditMissingPatchCount": device.patches_pending,
            }
        )
    return tables, ids


ENTITIES = (
    "Companies",
    "CompanyLocations",
    "Contacts",
    "Resources",
    "ResourceServiceDeskRoles",
    "Tickets",
    "TicketNotes",
    "Contracts",
    "ContractServices",
    "ContractServiceUnits",
    "ConfigurationItems",
    "TicketWebhooks",
    "TicketWebhookFields",
)


def _world_ticket(ticket: demo.Ticket, ids: Directory, now: datetime) -> Row:
    # The world may place a ticket's last reply a little after its own "now"; Autotask never
    # shows a future lastActivityDate.
    contact = ids.contacts.get((ticket.company, ticket.contact.email)) if ticket.contact else None
    return {
        "id": ticket.key,
        "ticketNumber": f"T{ticket.opened_at:%Y%m%d}.{ticket.key:04d}",
        "title": ticket.summary,
        "description": ticket.description,
        "companyID": ids.companies[ticket.company],
        "companyLocationID": ids.locations.get((ticket.company, ticket.site)),
        "contactID": contact,
        "assignedResourceID": ids.resources.get(ticket.owner or ""),
        "assignedResourceRoleID": SERVICE_DESK_ROLE_ID if ticket.owner else None,
        "queueID": _WORLD_QUEUE[ticket.board],
        "status": _WORLD_STATUS[ticket.status],
        "priority": _WORLD_PRIORITY[ticket.priority],
        "ticketType": 1,
        "source": 2,
        "createDate": at(ticket.opened_at),
        "lastActivityDate": at(min(ticket.updated_at, now)),
        "completedDate": at(ticket.closed_at) if ticket.closed_at else None,
        "externalID": "",
        **_service_level(ticket.service_level(now)),
    }


def _service_level(level: demo.ServiceLevel) -> Row:
    return {
        "serviceLevelAgreementID": SLA_ID,
        "firstResponseDueDateTime": at(level.respond_by),
        "firstResponseDateTime": at(level.responded_at) if level.responded_at else None,
        "resolvedDueDateTime": at(level.resolve_by),
    }


def _world_note(ticket: demo.Ticket, note: demo.Note, ids: Directory) -> Row:
    contact = ids.contacts.get((ticket.company, ticket.contact.email)) if ticket.contact else None
    return {
        "id": note.key,
        "ticketID": ticket.key,
        "title": "Customer reply"
        if note.from_customer
        else ("Internal note" if note.internal else "Reply"),
        "description": note.text,
        "noteType": 1,
        "publish": 2 if note.internal else 1,
        "createDateTime": at(note.created_at),
        "lastActivityDate": at(note.created_at),
        "creatorResourceID": None if note.from_customer else ids.resources.get(note.author),
        "createdByContactID": contact if note.from_customer else None,
    }


def _contracts(world: demo.World, ids: Directory, tables: dict[str, list[Row]]) -> None:
    period_start = world.now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    period_end = (period_start + timedelta(days=32)).replace(day=1) - timedelta(seconds=1)
    for n, contract in enumerate(world.contracts):
        contract_id = FIRST_CONTRACT_ID + n
        tables["Contracts"].append(
            {
                "id": contract_id,
                "companyID": ids.companies[contract.company],
                "contractName": contract.name,
                "contractNumber": f"C{contract.key:05d}",
                "contractType": 7,
                "status": 1,
                "startDate": at(contract.starts_on),
                "endDate": at(contract.ends_on),
                "isDefaultContract": False,
            }
        )
        for line in contract.lines:
            service_id = FIRST_SERVICE_ID + line.key
            tables["ContractServices"].append(
                {
                    "id": service_id,
                    "contractID": contract_id,
                    "serviceID": 100 + line.key % 10,
                    "invoiceDescription": line.description,
                    "internalDescription": line.description,
                    "unitPrice": float(line.unit_price),
                    "adjustedPrice": float(line.unit_price),
                }
            )
            tables["ContractServiceUnits"].append(
                {
                    "id": 50000 + line.key,
                    "contractID": contract_id,
                    "contractServiceID": service_id,
                    "serviceID": 100 + line.key % 10,
                    "startDate": at(period_start),
                    "endDate": at(period_end),
                    "units": float(line.quantity),
                    "price": float(line.unit_price),
                }
            )


def _resource(resource_id: int, first: str, last: str, email: str) -> Row:
    return {
        "id": resource_id,
        "firstName": first,
        "lastName": last,
        "email": email,
        "userName": email.split("@", 1)[0],
        "isActive": True,
        "resourceType": "Employee",
    }


def _stamps(moment: datetime, *, company: bool = False) -> Row:
    stamps = {"createDate": at(moment), "lastActivityDate": at(moment)}
    if company:
        stamps["lastTrackedModifiedDateTime"] = at(moment)
    return stamps
