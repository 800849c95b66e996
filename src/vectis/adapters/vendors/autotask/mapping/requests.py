"""Vectis write-backs → Autotask request bodies: tickets, notes and the ticket webhook."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from vectis.adapters.vendors.autotask import wire
from vectis.domain.errors import VendorRejected
from vectis.domain.records import TicketChange, TicketDraft


def new_ticket(
    draft: TicketDraft, *, status: str, priority: str, queue: str | None, marker: str
) -> dict[str, Any]:
    """``POST /Tickets``; ``externalID`` carries the write-back's idempotency marker."""
    body: dict[str, Any] = {
        "companyID": number(draft.company_id, "company"),
        "title": draft.summary,
        "description": draft.description,
        "status": number(draft.status_id or status, "status"),
        "priority": number(draft.priority_id or priority, "priority"),
        "externalID": marker,
    }
    if draft.board_id or queue:
        body["queueID"] = number(draft.board_id or queue or "", "queue")
    return body


def ticket_update(ticket_id: str, change: TicketChange, role_id: int | None) -> dict[str, Any]:
    """``PATCH /Tickets`` with absolute values; an owner goes with one of its desk roles."""
    body: dict[str, Any] = {"id": number(ticket_id, "ticket")}
    for name, value in (
        ("status", change.status_id),
        ("priority", change.priority_id),
        ("queueID", change.board_id),
    ):
        if value:
            body[name] = number(value, name)
    if change.owner_id:
        body["assignedResourceID"] = number(change.owner_id, "owner")
        body["assignedResourceRoleID"] = role_id
    return body


def new_note(
    ticket_id: int, *, title: str, text: str, note_type: int, publish: int
) -> dict[str, Any]:
    return {
        "ticketID": ticket_id,
        "title": title,
        "description": text,
        "noteType": note_type,
        "publish": publish,
    }


def new_webhook(
    *, url: str, deactivation_url: str, secret: str, notify: str | None
) -> dict[str, Any]:
    """``POST /TicketWebhooks``: the receiver, where deactivation is reported, and the key."""
    body: dict[str, Any] = {
        "IsActive": True,
        "Name": "Vectis",
        "WebhookUrl": url,
        "DeactivationUrl": deactivation_url,
        "SecretKey": secret,
        "IsSubscribedToCreateEvents": True,
        "IsSubscribedToUpdateEvents": True,
        "IsSubscribedToDeleteEvents": True,
        "SendThresholdExceededNotification": bool(notify),
    }
    if notify:
        body["NotificationEmailAddress"] = notify
    return body


def webhook_reactivation(webhook_id: int, secret: str) -> dict[str, Any]:
    return {"id": webhook_id, "IsActive": True, "SecretKey": secret}


def webhook_field(field_id: int, *, subscribed: bool) -> dict[str, Any]:
    return {
        "FieldID": field_id,
        "IsSubscribedField": subscribed,
        "IsDisplayAlwaysField": not subscribed,
    }


def webhook_field_ids(fields: Iterable[wire.FieldInfo]) -> dict[str, int]:
    """Ticket field name (lower case) → the tenant's webhook field id, from the ``fieldID``
    picklist of ``TicketWebhookFields/entityInformation/fields``. UNCONFIRMED: that Autotask
    labels each value with the field's API name (``status``), as the sandbox does."""
    found: dict[str, int] = {}
    for info in fields:
        if info.name.lower() == "fieldid":
            for value in info.picklistValues or ():
                found[value.label.lower()] = number(value.value, "webhook field")
    return found


def number(value: str, what: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise VendorRejected(f"Autotask {what} ids are numbers, not {value!r}") from None
