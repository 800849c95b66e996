"""The benchmark's Autotask tickets and notes, built from their index instead of stored."""

from __future__ import annotations

import bisect
import math
from datetime import datetime, timedelta

from vectis_sandbox import world as demo
from vectis_sandbox.autotask_records import COMPLETE, SERVICE_DESK_ROLE_ID, Directory, at
from vectis_sandbox.autotask_tables import GeneratedTable, Row

_HISTORY = timedelta(days=demo.HISTORY_DAYS)


class Generated:
    """``count`` tickets with ``per_ticket`` notes each, built from their index on request.

    Ticket ``i`` was last active at ``start + (i + 1) * step``; its notes just before, so both
    streams' times rise with their ids and a time filter is a bisection, not a scan.
    """

    def __init__(
        self,
        count: int,
        per_ticket: int,
        now: datetime,
        ids: Directory,
        first_ticket_id: int,
        first_note_id: int,
    ) -> None:
        self.count, self.per_ticket = count, max(1, per_ticket)
        self.step = max(self.per_ticket, int(_HISTORY.total_seconds()) // max(1, count))
        self.start = now.replace(microsecond=0) - timedelta(hours=1, seconds=count * self.step)
        self.first_ticket_id, self.first_note_id = first_ticket_id, first_note_id
        self._companies = [
            (company_id, ids.company_contacts(key), ids.company_locations(key))
            for key, company_id in ids.companies.items()
        ]
        self._resources = list(ids.resources.values())

    def tickets(self) -> GeneratedTable:
        return GeneratedTable(
            count=self.count,
            first_id=self.first_ticket_id,
            make=self.ticket,
            index_since=self._ticket_index_since,
            constants={"externalID": ""},
        )

    def notes(self) -> GeneratedTable:
        return GeneratedTable(
            count=self.count * self.per_ticket,
            first_id=self.first_note_id,
            make=self.note,
            index_since=self._note_index_since,
            parent_range=self._notes_of,
        )

    def ticket(self, index: int) -> Row:
        mix = _mix(index)
        company_id, contacts, locations = self._companies[index % len(self._companies)]
        active = self._ticket_time(index)
        opened = active - timedelta(hours=1 + (mix >> 20) % 48)
        closed = (mix >> 4) % 10 < 7
        title, description = demo.PROBLEMS[(mix >> 16) % len(demo.PROBLEMS)]
        return {
            "id": self.first_ticket_id + index,
            "ticketNumber": f"T{opened:%Y%m%d}.{index:06d}",
            "title": title,
            "description": description,
            "companyID": company_id,
            "companyLocationID": locations[(mix >> 8) % len(locations)] if locations else None,
            "contactID": contacts[mix % len(contacts)] if contacts else None,
            "assignedResourceID": self._resources[(mix >> 12) % len(self._resources)],
            "assignedResourceRoleID": SERVICE_DESK_ROLE_ID,
            "queueID": 29682833 if mix % 3 else 29682834,
            "status": COMPLETE if closed else (1, 7, 8, 10)[(mix >> 6) % 4],
            "priority": (2, 2, 2, 1, 3, 4)[(mix >> 24) % 6],
            "ticketType": 1,
            "source": 2,
            "createDate": at(opened),
            "lastActivityDate": at(active),
            "completedDate": at(active) if closed else None,
            "externalID": "",
        }

    def note(self, index: int) -> Row:
        ticket_index, position = divmod(index, self.per_ticket)
        ticket = self.ticket(ticket_index)
        mix = _mix(index)
        from_customer = position % 2 == 0
        internal = not from_customer and position > 1 and mix % 3 == 0
        if position == 0:
            text = ticket["description"]
        elif from_customer:
            text = demo.CUSTOMER_REPLIES[mix % len(demo.CUSTOMER_REPLIES)]
        else:
            replies = demo.INTERNAL_NOTES if internal else demo.TECH_REPLIES
            text = replies[mix % len(replies)]
        moment = at(self._note_time(index))
        return {
            "id": self.first_note_id + index,
            "ticketID": ticket["id"],
            "title": "Customer reply"
            if from_customer
            else ("Internal note" if internal else "Reply"),
            "description": text,
            "noteType": 1,
            "publish": 2 if internal else 1,
            "createDateTime": moment,
            "lastActivityDate": moment,
            "creatorResourceID": None if from_customer else ticket["assignedResourceID"],
            "createdByContactID": ticket["contactID"] if from_customer else None,
        }

    def _ticket_time(self, index: int) -> datetime:
        return self.start + timedelta(seconds=(index + 1) * self.step)

    def _note_time(self, index: int) -> datetime:
        ticket_index, position = divmod(index, self.per_ticket)
        return self._ticket_time(ticket_index) - timedelta(seconds=self.per_ticket - 1 - position)

    def _ticket_index_since(self, moment: datetime) -> int:
        seconds = (moment - self.start).total_seconds()
        return min(self.count, max(0, math.ceil(seconds / self.step) - 1))

    def _note_index_since(self, moment: datetime) -> int:
        notes = range(self.count * self.per_ticket)
        return bisect.bisect_left(notes, moment, key=self._note_time)

    def _notes_of(self, ticket_id: int) -> tuple[int, int]:
        index = ticket_id - self.first_ticket_id
        if not 0 <= index < self.count:
            return 0, 0
        return index * self.per_ticket, (index + 1) * self.per_ticket


def _mix(index: int) -> int:
    """A cheap, deterministic scramble of an index (Knuth's multiplicative hash)."""
    return (index * 2654435761 + 97) & 0xFFFFFFFF
