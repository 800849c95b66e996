"""What the fake ConnectWise knows, as ConnectWise shapes it: reference tables, records, callbacks.

``connectwise_world.seeded`` fills it from the demo world; the app (``connectwise.py``) serves it.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

from attrs import define, field

from vectis_sandbox.kit.state import SandboxState, utc_now
from vectis_sandbox.world import BOARDS, MEMBERS, PRIORITIES, STATUSES, Person

Document = dict[str, Any]
CLOSED = "Closed"


@define
class ConnectWiseState(SandboxState):
    """Everything the fake ConnectWise knows; tests read and change it directly."""

    company_id: str = "harborpoint"
    public_key: str = field(factory=lambda: secrets.token_hex(8))
    private_key: str = field(factory=lambda: secrets.token_hex(16))
    client_id: str = field(factory=lambda: str(uuid.uuid4()))
    boards: dict[int, Document] = field(factory=dict)
    statuses: dict[int, Document] = field(factory=dict)
    priorities: dict[int, Document] = field(factory=dict)
    members: dict[int, Document] = field(factory=dict)
    companies: dict[int, Document] = field(factory=dict)
    sites: dict[int, Document] = field(factory=dict)
    contacts: dict[int, Document] = field(factory=dict)
    tickets: dict[int, Document] = field(factory=dict)
    notes: dict[int, list[Document]] = field(factory=dict)
    agreements: dict[int, Document] = field(factory=dict)
    additions: dict[int, list[Document]] = field(factory=dict)
    configurations: dict[int, Document] = field(factory=dict)
    callbacks: dict[int, Document] = field(factory=dict)
    signing_keys: dict[str, str] = field(factory=dict)
    api_member_id: int = 0
    next_id: int = 200_000

    def __attrs_post_init__(self) -> None:
        if not self.boards:
            add_reference_tables(self, MEMBERS)

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id

    @property
    def credentials(self) -> dict[str, str]:
        return {
            "company_id": self.company_id,
            "public_key": self.public_key,
            "private_key": self.private_key,
            "client_id": self.client_id,
        }

    @property
    def api_member(self) -> Document:
        return self.members[self.api_member_id]

    def board_named(self, name: str) -> Document | None:
        return next((b for b in self.boards.values() if b["name"] == name), None)

    def status_named(self, board_id: int, name: str) -> Document | None:
        return next(
            (
                s
                for s in self.statuses.values()
                if s["board"]["id"] == board_id and s["name"] == name
            ),
            None,
        )

    def default_status(self, board_id: int) -> Document:
        on_board = [s for s in self.statuses.values() if s["board"]["id"] == board_id]
        return next((s for s in on_board if s["defaultFlag"]), on_board[0])

    def priority_named(self, name: str) -> Document | None:
        return next((p for p in self.priorities.values() if p["name"] == name), None)

    def member_named(self, name: str) -> Document | None:
        return next((m for m in self.members.values() if _full_name(m) == name), None)

    def add_company(self, name: str, identifier: str) -> Document:
        company_id = self.new_id()
        company = company_document(company_id, name, identifier, stamp(utc_now()))
        self.companies[company_id] = company
        return company

    def add_ticket(
        self,
        company_id: int,
        summary: str,
        *,
        board: str = "Service Desk",
        priority: str = "Priority 3 - Normal",
        description: str = "",
        contact: Document | None = None,
        external_reference: str | None = None,
        entered_by: str = "portal",
    ) -> Document:
        """A new ticket as a customer (or an integration) opens one: status New, now."""
        company = self.companies[company_id]
        board_doc = self.board_named(board) or next(iter(self.boards.values()))
        now = stamp(utc_now())
        ticket: Document = {
            "id": self.new_id(),
            "summary": summary,
            "recordType": "ServiceTicket",
            "board": ref(board_doc),
            "status": ref(self.default_status(board_doc["id"])),
            "company": ref(company, "identifier"),
            "priority": ref(self.priority_named(priority) or next(iter(self.priorities.values()))),
            "closedFlag": False,
            "_info": {
                "lastUpdated": now,
                "dateEntered": now,
                "enteredBy": entered_by,
                "updatedBy": entered_by,
            },
        }
        if contact is not None:
            ticket["contact"] = ref(contact)
        if external_reference:
            ticket["externalXRef"] = external_reference
        self.tickets[ticket["id"]] = ticket
        self.notes[ticket["id"]] = []
        if description:
            self.add_note(ticket["id"], description, contact=contact)
        return ticket

    def add_note(
        self,
        ticket_id: int,
        text: str,
        *,
        internal: bool = False,
        member: Document | None = None,
        contact: Document | None = None,
    ) -> Document:
        """A note by ``contact`` (a customer reply) or ``member`` (the API member by default)."""
        ticket = self.tickets[ticket_id]
        author = member if contact is None else None
        if contact is None and author is None:
            author = self.api_member
        note = note_document(
            self.new_id(), ticket_id, text, internal=internal, member=author, contact=contact
        )
        note["dateCreated"] = note["_info"]["lastUpdated"] = stamp(utc_now())
        self.notes.setdefault(ticket_id, []).append(note)
        # UNCONFIRMED: that a new note moves its ticket's lastUpdated (undocumented; the
        # connector's notes stream relies on it — see connectwise/sync.py).
        touch(ticket, note["createdBy"])
        return note


def ref(document: Document, *extra: str) -> Document:
    """The nested ``{"id", "name"}`` reference ConnectWise embeds for a record."""
    reference = {"id": document["id"], "name": document.get("name") or _full_name(document)}
    for key in extra:
        reference[key] = document.get(key)
    return reference


def touch(document: Document, by: str = "sandbox") -> None:
    document["_info"]["lastUpdated"] = stamp(utc_now())
    document["_info"]["updatedBy"] = by


def now_stamp() -> str:
    return stamp(utc_now())


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def add_reference_tables(state: ConnectWiseState, members: tuple[Person, ...]) -> None:
    state.boards.clear()
    state.statuses.clear()
    state.priorities.clear()
    state.members.clear()
    for index, name in enumerate(BOARDS):
        board: Document = {
            "id": 30 + index,
            "name": name,
            "inactiveFlag": False,
            "projectFlag": False,
        }
        state.boards[board["id"]] = board
        for order, status in enumerate(STATUSES):
            document: Document = {
                "id": 550 + index * 10 + order,
                "name": status,
                "board": ref(board),
                "sortOrder": order,
                "displayOnBoard": True,
                "inactive": False,
                "closedStatus": status == CLOSED,
                "defaultFlag": order == 0,
            }
            state.statuses[document["id"]] = document
    for order, name in enumerate(PRIORITIES):
        priority: Document = {
            "id": 6 + order,
            "name": name,
            "sortOrder": order + 1,
            "defaultFlag": False,
        }
        state.priorities[priority["id"]] = priority
    for index, person in enumerate(members):
        first, _, last = person.name.partition(" ")
        member: Document = {
            "id": 240 + index,
            "identifier": (first[0] + last).lower(),
            "firstName": first,
            "lastName": last,
            "officeEmail": person.email,
            "licenseClass": "F",
            "inactiveFlag": False,
        }
        state.members[member["id"]] = member
    api: Document = {
        "id": 300,
        "identifier": "vectis",
        "firstName": "Vectis",
        "lastName": "API",
        "licenseClass": "A",
        "inactiveFlag": False,
    }
    state.members[api["id"]] = api
    state.api_member_id = api["id"]


def company_document(company_id: int, name: str, identifier: str, at: str) -> Document:
    return {
        "id": company_id,
        "identifier": identifier,
        "name": name,
        "status": {"id": 1, "name": "Active"},
        "types": [{"id": 1, "name": "Client"}],
        "deletedFlag": False,
        "_info": {"lastUpdated": at, "dateEntered": at, "updatedBy": "sandbox"},
    }


def note_document(
    note_id: int,
    ticket_id: int,
    text: str,
    *,
    internal: bool,
    member: Document | None,
    contact: Document | None,
    at: datetime | None = None,
) -> Document:
    created = stamp(at or utc_now())
    note: Document = {
        "id": note_id,
        "ticketId": ticket_id,
        "text": text,
        "detailDescriptionFlag": not internal,
        "internalAnalysisFlag": internal,
        "resolutionFlag": False,
        "issueFlag": False,
        "dateCreated": created,
        "createdBy": member["identifier"] if member else (contact or {}).get("firstName", ""),
        "internalFlag": internal,
        "externalFlag": not internal,
        "_info": {"lastUpdated": created},
    }
    if member:
        note["member"] = ref(member, "identifier")
    if contact:
        note["contact"] = ref(contact)
    return note


def _full_name(document: Document) -> str:
    return " ".join(part for part in (document.get("firstName"), document.get("lastName")) if part)
