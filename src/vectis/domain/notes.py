"""Internal notes operators keep on a customer: what no vendor system knows.

A note keeps every earlier text as a revision, so an edit never loses what was written.
"""

from __future__ import annotations

import enum
from datetime import datetime
from uuid import UUID

import attrs
from attrs import frozen

from vectis.domain.errors import InvalidValue

MAX_NOTE_LENGTH = 20_000
SUMMARY_LENGTH = 160


class NoteFormat(enum.StrEnum):
    TEXT = "text"
    MARKDOWN = "markdown"

    @classmethod
    def parse(cls, value: str | None) -> NoteFormat:
        try:
            return cls((value or cls.TEXT).strip().lower())
        except ValueError:
            raise InvalidValue("a note is plain text or markdown") from None


@frozen(kw_only=True)
class NoteRevision:
    """One text a note had, and who wrote it when."""

    revision: int
    body: str
    format: NoteFormat
    author: str
    written_at: datetime


@frozen(kw_only=True)
class CustomerNote:
    id: UUID
    tenant_id: UUID
    customer_id: UUID
    body: str
    format: NoteFormat
    author: str
    edited_by: str
    """Who wrote the current text (the author, until someone else edits it)."""
    created_at: datetime
    updated_at: datetime
    revision: int = 1
    """1 for a note never edited; each edit adds one."""
    idempotency_key: str | None = None
    """The submission that wrote it: the same key again finds this note, not a second one."""

    @property
    def edited(self) -> bool:
        return self.revision > 1

    @property
    def summary(self) -> str:
        """The first non-empty line, shortened: what the timeline shows of the note."""
        first = next((line.strip() for line in self.body.splitlines() if line.strip()), "")
        first = first.lstrip("#>*- ").strip() or first
        if len(first) > SUMMARY_LENGTH:
            return first[: SUMMARY_LENGTH - 1].rstrip() + "…"
        return first


def revise(
    note: CustomerNote, body: str, format: NoteFormat, *, by: str, at: datetime
) -> CustomerNote:
    """The note with a new text, as its next revision."""
    return attrs.evolve(
        note,
        body=note_body(body),
        format=format,
        edited_by=by,
        updated_at=at,
        revision=note.revision + 1,
    )


def note_body(text: str) -> str:
    """A note's text as stored: trailing blanks trimmed, never empty, never huge."""
    body = "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").split("\n")).strip("\n")
    if not body.strip():
        raise InvalidValue("the note is empty")
    if len(body) > MAX_NOTE_LENGTH:
        raise InvalidValue(f"a note holds at most {MAX_NOTE_LENGTH:,} characters")
    return body
