"""A customer's timeline and the internal notes operators keep on it.

Notes join the timeline as events of their own (``note.added``, ``note.edited``), written in
the same unit of work as the note and its audit entry, so the three never disagree.
"""

from __future__ import annotations

from uuid import UUID, uuid4

from vectis.application.audit import record
from vectis.application.errors import Conflict, NotFound
from vectis.application.identity import require
from vectis.application.ports import Clock
from vectis.application.tenancy import require_customer
from vectis.application.unit_of_work import UnitOfWork, UnitOfWorkFactory
from vectis.domain.audit import AuditTarget, Outcome
from vectis.domain.events import Event, EventKind, SubjectRef
from vectis.domain.identity import Principal
from vectis.domain.notes import CustomerNote, NoteFormat, NoteRevision, note_body, revise
from vectis.domain.tenancy import Permission
from vectis.domain.timeline import TimelinePage, TimelinePosition, TimelineQuery

NOTES_SHOWN = 200
VECTIS = "vectis"


class TimelineService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def page(self, principal: Principal, query: TimelineQuery) -> TimelinePage:
        """One page of a customer's timeline, and where the next (older) one starts."""
        require(principal, Permission.READ)
        async with self._uow(principal.tenant_id) as uow:
            # One extra entry says whether an older page exists, without counting; it is read
            # past the query's own limit, so a page of the largest size still has one.
            entries = await uow.events.timeline(query, look_ahead=1)
            if not entries:
                # Entries are this tenant's (row-level security), so finding some proves the
                # customer is too; only an empty page needs the check that tells "no such
                # customer" (404) from "nothing happened".
                await require_customer(uow, query.customer_id)
        shown = entries[: query.limit]
        more = len(entries) > query.limit
        last = shown[-1] if shown else None
        following = (
            TimelinePosition(occurred_at=last.occurred_at, event_id=last.id)
            if more and last is not None and last.id is not None
            else None
        )
        return TimelinePage(entries=shown, next=following)

    async def notes(self, principal: Principal, customer_id: UUID) -> list[CustomerNote]:
        require(principal, Permission.READ)
        async with self._uow(principal.tenant_id) as uow:
            await require_customer(uow, customer_id)
            return await uow.notes.for_customer(customer_id, limit=NOTES_SHOWN)

    async def note(
        self, principal: Principal, customer_id: UUID, note_id: UUID
    ) -> tuple[CustomerNote, list[NoteRevision]]:
        """A note on this customer with every text it has had, newest first."""
        require(principal, Permission.READ)
        async with self._uow(principal.tenant_id) as uow:
            note = await _note_of(uow, customer_id, note_id)
            return note, await uow.notes.revisions(note_id)

    async def add_note(
        self,
        principal: Principal,
        customer_id: UUID,
        body: str,
        *,
        format: str = "text",
        idempotency_key: str | None = None,
    ) -> CustomerNote:
        """Write a note on a customer; it is audited and appears in the timeline. Asked again
        with the same ``idempotency_key``, it answers the note written the first time."""
        require(principal, Permission.WRITE_BACK)
        now = self._clock.now()
        author = principal.display_name or principal.actor.label
        note = CustomerNote(
            id=uuid4(),
            tenant_id=principal.tenant_id,
            customer_id=customer_id,
            body=note_body(body),
            format=NoteFormat.parse(format),
            author=author,
            edited_by=author,
            created_at=now,
            updated_at=now,
            idempotency_key=idempotency_key,
        )
        async with self._uow(principal.tenant_id) as uow:
            await require_customer(uow, customer_id)
            stored = await uow.notes.add(note)
            if stored.id != note.id:
                if (stored.customer_id, stored.body) != (note.customer_id, note.body):
                    raise Conflict(
                        "This note was already sent once with other text, so it was not sent "
                        "again. Open the form afresh to write this one."
                    )
                return stored  # written before under this key: nothing new to record
            await self._record(uow, principal, note, EventKind.NOTE_ADDED, "note.add")
            await uow.commit()
        return note

    async def edit_note(
        self,
        principal: Principal,
        customer_id: UUID,
        note_id: UUID,
        body: str,
        *,
        format: str = "text",
    ) -> CustomerNote:
        """Replace the text of a note on this customer; the earlier text stays in its history."""
        require(principal, Permission.WRITE_BACK)
        async with self._uow(principal.tenant_id) as uow:
            note = await _note_of(uow, customer_id, note_id, for_update=True)
            changed = revise(
                note,
                body,
                NoteFormat.parse(format),
                by=principal.display_name or principal.actor.label,
                at=self._clock.now(),
            )
            if (changed.body, changed.format) == (note.body, note.format):
                return note  # nothing new to keep
            await uow.notes.save(changed)
            await self._record(uow, principal, changed, EventKind.NOTE_EDITED, "note.edit")
            await uow.commit()
        return changed

    async def _record(
        self,
        uow: UnitOfWork,
        principal: Principal,
        note: CustomerNote,
        kind: str,
        action: str,
    ) -> None:
        verb = "added" if kind == EventKind.NOTE_ADDED else "edited"
        await uow.events.append(
            [
                Event(
                    tenant_id=note.tenant_id,
                    source=VECTIS,
                    kind=kind,
                    occurred_at=note.updated_at,
                    title=f"Note {verb} by {note.edited_by}",
                    detail=note.summary,
                    customer_id=note.customer_id,
                    subject=SubjectRef(system=VECTIS, type="note", id=str(note.id)),
                    payload={"revision": note.revision},
                )
            ]
        )
        await record(
            uow,
            self._clock,
            actor=principal.actor,
            action=action,
            target=AuditTarget(system=VECTIS, object_id=str(note.id)),
            outcome=Outcome.SUCCEEDED,
            payload={
                "customer_id": str(note.customer_id),
                "revision": note.revision,
                "format": note.format.value,
                "length": len(note.body),
            },
        )


async def _note_of(
    uow: UnitOfWork, customer_id: UUID, note_id: UUID, *, for_update: bool = False
) -> CustomerNote:
    """The note, when it is this customer's (another customer's note is not found here)."""
    note = await uow.notes.get(note_id, for_update=for_update)
    if note is None or note.customer_id != customer_id:
        raise NotFound(f"no note {note_id}")
    return note
