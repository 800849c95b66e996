"""Operators' notes on customers, with every text each note has had."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from vectis.adapters.postgres.tables import customer_note_revisions, customer_notes
from vectis.domain.notes import CustomerNote, NoteFormat, NoteRevision


class PostgresNoteRepository:
    def __init__(self, connection: AsyncConnection, tenant_id: UUID | None) -> None:
        self._connection = connection
        self._tenant_id = tenant_id

    async def add(self, note: CustomerNote) -> CustomerNote:
        """Store a new note, unless its idempotency key wrote one already: then that one."""
        statement = (
            pg_insert(customer_notes)
            .values(
                id=note.id,
                tenant_id=note.tenant_id,
                customer_id=note.customer_id,
                body=note.body,
                format=note.format,
                author=note.author,
                edited_by=note.edited_by,
                created_at=note.created_at,
                updated_at=note.updated_at,
                revision=note.revision,
                idempotency_key=note.idempotency_key,
            )
            .on_conflict_do_nothing(
                index_elements=[customer_notes.c.tenant_id, customer_notes.c.idempotency_key],
                index_where=customer_notes.c.idempotency_key.is_not(None),
            )
            .returning(customer_notes.c.id)
        )
        if (await self._connection.execute(statement)).first() is None:
            existing = select(customer_notes).where(
                customer_notes.c.idempotency_key == note.idempotency_key
            )
            return _note_of((await self._connection.execute(existing)).one())
        await self._add_revision(note)
        return note

    async def get(self, note_id: UUID, *, for_update: bool = False) -> CustomerNote | None:
        statement = select(customer_notes).where(customer_notes.c.id == note_id)
        if for_update:
            statement = statement.with_for_update()
        row = (await self._connection.execute(statement)).first()
        return _note_of(row) if row else None

    async def save(self, note: CustomerNote) -> None:
        """Store an edited note: its new text, and that text as its next revision."""
        await self._connection.execute(
            update(customer_notes)
            .where(customer_notes.c.id == note.id)
            .values(
                body=note.body,
                format=note.format,
                edited_by=note.edited_by,
                updated_at=note.updated_at,
                revision=note.revision,
            )
        )
        await self._add_revision(note)

    async def for_customer(self, customer_id: UUID, *, limit: int) -> list[CustomerNote]:
        statement = (
            select(customer_notes)
            .where(customer_notes.c.customer_id == customer_id)
            .order_by(customer_notes.c.created_at.desc(), customer_notes.c.id)
            .limit(limit)
        )
        return [_note_of(row) for row in await self._connection.execute(statement)]

    async def revisions(self, note_id: UUID) -> list[NoteRevision]:
        """Every text the note has had, newest first."""
        statement = (
            select(customer_note_revisions)
            .where(customer_note_revisions.c.note_id == note_id)
            .order_by(customer_note_revisions.c.revision.desc())
        )
        return [
            NoteRevision(
                revision=row.revision,
                body=row.body,
                format=NoteFormat(row.format),
                author=row.author,
                written_at=row.written_at,
            )
            for row in await self._connection.execute(statement)
        ]

    async def _add_revision(self, note: CustomerNote) -> None:
        await self._connection.execute(
            insert(customer_note_revisions).values(
                tenant_id=note.tenant_id,
                note_id=note.id,
                revision=note.revision,
                body=note.body,
                format=note.format,
                author=note.edited_by,
                written_at=note.updated_at,
            )
        )


def _note_of(row: Any) -> CustomerNote:
    return CustomerNote(
        id=row.id,
        tenant_id=row.tenant_id,
        customer_id=row.customer_id,
        body=row.body,
        format=NoteFormat(row.format),
        author=row.author,
        edited_by=row.edited_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
        revision=row.revision,
        idempotency_key=row.idempotency_key,
    )
