"""Vectis write-backs → HaloPSA request bodies: tickets, actions (notes) and the webhook."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from vectis.domain.records import TicketDraft


def new_ticket(
    draft: TicketDraft,
    *,
    marker: str,
    ticket_type_id: int | None,
    fields: Mapping[str, Any],
) -> dict[str, Any]:
    """One ``Faults`` object of a ``POST /Tickets`` array that creates a ticket, carrying the
    idempotency marker in ``third_party_id_string`` (a ``Faults`` field of the swagger)."""
    body: dict[str, Any] = {
        "summary": draft.summary,
        "details": draft.description,
        "client_id": vendor_id(draft.company_id),
        "third_party_id_string": marker,
    }
    if ticket_type_id is not None:
        body["tickettype_id"] = ticket_type_id
    return {**body, **fields}


def ticket_change(ticket_id: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    """A ``POST /Tickets`` object that updates a ticket: its id and the absolute new values."""
    return {"id": vendor_id(ticket_id), **fields}


def ticket_fields(
    *,
    status: str | None = None,
    priority: str | None = None,
    owner: str | None = None,
    board: str | None = None,
    teams: Mapping[int, str] | None = None,
) -> dict[str, Any]:
    """The ``Faults`` fields naming a ticket's status, priority, agent and team."""
    fields: dict[str, Any] = {}
    if status:
        fields["status_id"] = vendor_id(status)
    if priority:
        fields["priority_id"] = vendor_id(priority)
    if owner:
        fields["agent_id"] = vendor_id(owner)
    if board:
        fields["team_id"] = team_id = vendor_id(board)
        # Halo has been seen to assign a team by its name; send both.
        team = (teams or {}).get(team_id) if isinstance(team_id, int) else None
        if team:
            fields["team"] = team
    return fields


def new_action(ticket_id: str, text: str, *, internal: bool, outcome: str) -> dict[str, Any]:
    """One ``Actions`` object of a ``POST /Actions`` array: a note on a ticket."""
    return {
        "ticket_id": vendor_id(ticket_id),
        "note": text,
        "outcome": outcome,
        "hiddenfromuser": internal,
    }


def new_webhook(
    receiver_url: str, *, username: str, password: str, events: Iterable[int]
) -> dict[str, Any]:
    """An outbound ``Webhook`` posting Halo's default payload, authenticated with Basic."""
    return {
        "name": "Vectis",
        "type": 0,  # outbound
        "url": receiver_url,
        "method": 0,  # POST
        "content_type": "application/json",
        "authentication_type": 1,  # Basic
        "basic_username": username,
        "basic_password": password,
        "active": True,
        "payload_type": 0,  # Halo's default payload
        "events": [{"eventno": number, "type": -2, "delivery_method": 6} for number in events],
    }


def vendor_id(value: str) -> int | str:
    """Halo's ids are numbers; anything else is passed on for Halo to judge (``isdigit`` alone
    would take ``²``, which ``int`` refuses)."""
    digits = value.strip()
    return int(digits) if digits.isascii() and digits.isdigit() else value


def same_text(left: str, right: str) -> bool:
    """Whether two texts are the same but for their whitespace."""
    return " ".join(left.split()) == " ".join(right.split())
