"""The public API boundary: one cattrs converter; commands refuse unknown fields."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal, get_args, get_origin
from uuid import UUID

import cattrs
from attrs import field, frozen
from attrs.validators import max_len, min_len, optional
from cattrs.preconf.json import make_converter
from cattrs.v import format_exception

from vectis.domain.audit import AuditRecord
from vectis.domain.customer import Customer
from vectis.domain.errors import InvalidValue
from vectis.domain.events import Event
from vectis.domain.identity import Principal
from vectis.domain.notes import CustomerNote, NoteRevision
from vectis.domain.sign_in_throttle import SignInLock
from vectis.domain.writeback import (
    AddTicketNote,
    CreateTicket,
    ResetAlert,
    UpdateTicket,
    WriteBack,
    WriteBackAction,
)

MAX_IDEMPOTENCY_KEY_LENGTH = 100
"""A client's idempotency key is stored in a unique index; it names a request, briefly."""


@frozen(kw_only=True)
class AddTicketNoteBody:
    type: Literal["ticket.add_note"]
    ticket_id: str
    text: str
    internal: bool = False

    def to_action(self) -> WriteBackAction:
        return AddTicketNote(ticket_id=self.ticket_id, text=self.text, internal=self.internal)


@frozen(kw_only=True)
class CreateTicketBody:
    type: Literal["ticket.create"]
    company_id: str
    summary: str
    description: str = ""
    board_id: str | None = None
    priority_id: str | None = None

    def to_action(self) -> WriteBackAction:
        return CreateTicket(
            company_id=self.company_id,
            summary=self.summary,
            description=self.description,
            board_id=self.board_id,
            priority_id=self.priority_id,
        )


@frozen(kw_only=True)
class UpdateTicketBody:
    type: Literal["ticket.update"]
    ticket_id: str
    status_id: str | None = None
    priority_id: str | None = None
    board_id: str | None = None
    owner_id: str | None = None

    def to_action(self) -> WriteBackAction:
        return UpdateTicket(
            ticket_id=self.ticket_id,
            status_id=self.status_id,
            priority_id=self.priority_id,
            board_id=self.board_id,
            owner_id=self.owner_id,
        )


@frozen(kw_only=True)
class ResetAlertBody:
    type: Literal["alert.reset"]
    alert_id: str

    def to_action(self) -> WriteBackAction:
        return ResetAlert(alert_id=self.alert_id)


ActionBody = AddTicketNoteBody | CreateTicketBody | UpdateTicketBody | ResetAlertBody
ACTION_BODIES: dict[str, type[Any]] = {
    "ticket.add_note": AddTicketNoteBody,
    "ticket.create": CreateTicketBody,
    "ticket.update": UpdateTicketBody,
    "alert.reset": ResetAlertBody,
}


@frozen(kw_only=True)
class WriteNote:
    """A note's text, as a new note or as an edit of one."""

    body: str
    format: Literal["text", "markdown"] = "text"


@frozen(kw_only=True)
class RequestWriteBack:
    integration_id: UUID
    action: ActionBody
    idempotency_key: str | None = field(
        default=None, validator=optional([min_len(1), max_len(MAX_IDEMPOTENCY_KEY_LENGTH)])
    )

    def to_action(self) -> WriteBackAction:
        return self.action.to_action()


def _exactly(kind: type[Any], described: str) -> Any:
    def structure(value: Any, _: Any) -> Any:
        # bool is an int to Python; to JSON they are different types.
        if type(value) is not kind:
            raise _WrongType(f"expected {described}, got {_json_type(value)}")
        return value

    return structure


def _is_literal(kind: Any) -> bool:
    origin: object = get_origin(kind)
    return origin is Literal


def _literal(value: Any, kind: Any) -> Any:
    for allowed in get_args(kind):
        if value == allowed and type(value) is type(allowed):
            return value
    choices = ", ".join(json.dumps(allowed) for allowed in get_args(kind))
    raise _WrongType(f"expected one of {choices}")


def _uuid(value: Any, _: Any) -> UUID:
    if not isinstance(value, str):
        raise _WrongType(f"expected a UUID string, got {_json_type(value)}")
    return UUID(value)


def _json_type(value: Any) -> str:
    names = {bool: "a boolean", int: "a number", float: "a number", str: "a string"}
    names |= {list: "an array", dict: "an object", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _format_problem(error: BaseException, kind: type[Any] | None) -> str:
    if isinstance(error, _UnknownAction | _WrongType):
        return str(error)
    if isinstance(error, ValueError):
        return f"invalid value ({error})"
    return format_exception(error, kind)


def _structure_action(value: Any, _: Any) -> ActionBody:
    kind = value.get("type") if isinstance(value, dict) else None
    body = ACTION_BODIES.get(kind) if isinstance(kind, str) else None
    if body is None:
        raise _UnknownAction(f"type must be one of {', '.join(ACTION_BODIES)}")
    structured: ActionBody = converter.structure(value, body)
    return structured


def register_hooks(converter: cattrs.Converter) -> cattrs.Converter:
    """Strict structuring: a JSON value must already have the type a field declares, so a
    number is not a string, ``null`` is not ``"None"`` and ``"true"`` is not a boolean."""
    converter.register_unstructure_hook(UUID, str)
    converter.register_structure_hook(UUID, _uuid)
    converter.register_structure_hook(str, _exactly(str, "a string"))
    converter.register_structure_hook(bool, _exactly(bool, "true or false"))
    converter.register_structure_hook(int, _exactly(int, "an integer"))
    converter.register_structure_hook_func(_is_literal, _literal)
    converter.register_unstructure_hook(datetime, lambda value: value.isoformat())
    converter.register_structure_hook(ActionBody, _structure_action)
    return converter


converter = register_hooks(make_converter(forbid_extra_keys=True))


def parse_command(media: Any, kind: type[Any]) -> Any:
    """Structure a request body, or refuse it with a message naming the offending fields."""
    if not isinstance(media, dict):
        raise InvalidValue("the request body must be a JSON object")
    try:
        return converter.structure(media, kind)
    except cattrs.BaseValidationError as error:
        problems = "; ".join(
            cattrs.transform_error(error, path="body", format_exception=_format_problem)
        )
        raise InvalidValue(f"the request body is not valid: {problems}") from None
    except (TypeError, ValueError) as error:
        raise InvalidValue(f"the request body is not valid: {error}") from None


class _UnknownAction(ValueError):
    pass


class _WrongType(TypeError):
    pass


def customer_json(customer: Customer) -> dict[str, Any]:
    return {
        "id": str(customer.id),
        "name": customer.name,
        "slug": customer.slug,
        "created_at": customer.created_at.isoformat(),
        "sites": [{"id": str(site.id), "name": site.name} for site in customer.sites],
    }


def writeback_json(writeback: WriteBack) -> dict[str, Any]:
    return {
        "id": str(writeback.id),
        "integration_id": str(writeback.integration_id),
        "action": {"type": writeback.action_name, **converter.unstructure(writeback.action)},
        "idempotency_key": writeback.idempotency_key,
        "status": writeback.status.value,
        "attempts": writeback.attempts,
        "requested_at": writeback.requested_at.isoformat(),
        "finished_at": writeback.finished_at.isoformat() if writeback.finished_at else None,
        "result": dict(writeback.result),
        "error": writeback.error,
    }


def audit_json(record: AuditRecord) -> dict[str, Any]:
    entry = record.entry
    return {
        "id": record.id,
        "seq": record.seq,
        "occurred_at": entry.occurred_at.isoformat(),
        "actor": {"kind": entry.actor.kind.value, "id": entry.actor.id, "label": entry.actor.label},
        "action": entry.action,
        "target": {"system": entry.target.system, "object_id": entry.target.object_id},
        "outcome": entry.outcome.value,
        "payload": entry.payload,
        "hash": record.hash.hex() if record.hash else None,
    }


def sign_in_lock_json(lock: SignInLock) -> dict[str, Any]:
    return {
        "operator_id": str(lock.operator_id),
        "email": lock.email,
        "display_name": lock.display_name,
        "failures": lock.failures,
        "throttled_addresses": lock.throttled_addresses,
        "locked": lock.is_locked,
        "locked_until": lock.locked_until.isoformat() if lock.locked_until else None,
        "last_failure_at": lock.last_failure_at.isoformat() if lock.last_failure_at else None,
    }


def event_json(event: Event) -> dict[str, Any]:
    subject = event.subject
    return {
        "id": event.id,
        "occurred_at": event.occurred_at.isoformat(),
        "source": event.source,
        "kind": event.kind,
        "title": event.title,
        "detail": event.detail,
        "subject": (
            {"system": subject.system, "type": subject.type, "id": subject.id} if subject else None
        ),
        "integration_id": str(event.integration_id) if event.integration_id else None,
        "payload": dict(event.payload),
    }


def note_json(note: CustomerNote) -> dict[str, Any]:
    return {
        "id": str(note.id),
        "customer_id": str(note.customer_id),
        "body": note.body,
        "format": note.format.value,
        "author": note.author,
        "edited_by": note.edited_by,
        "created_at": note.created_at.isoformat(),
        "updated_at": note.updated_at.isoformat(),
        "revision": note.revision,
    }


def revision_json(revision: NoteRevision) -> dict[str, Any]:
    return {
        "revision": revision.revision,
        "body": revision.body,
        "format": revision.format.value,
        "author": revision.author,
        "written_at": revision.written_at.isoformat(),
    }


def principal_json(principal: Principal) -> dict[str, Any]:
    return {
        "tenant_id": str(principal.tenant_id),
        "role": principal.role.value,
        "operator_id": str(principal.operator_id) if principal.operator_id else None,
        "display_name": principal.display_name,
        "actor": {"kind": principal.actor.kind.value, "label": principal.actor.label},
    }
