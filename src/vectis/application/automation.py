"""Built-in automations that react to new events until the rules engine arrives.

Acknowledge new tickets: when a PSA integration has ``acknowledge_new_tickets`` switched on,
every ticket opened there gets a customer-facing reply, through the audited write-back path.
"""

from __future__ import annotations

from attrs import frozen

from vectis.domain.audit import Actor, ActorKind
from vectis.domain.events import Event, EventKind
from vectis.domain.integration import Integration
from vectis.domain.writeback import AddTicketNote

DEFAULT_ACKNOWLEDGEMENT = (
    "Thank you, we have received your request. A technician will be in touch shortly."
)
ACKNOWLEDGER = Actor(
    kind=ActorKind.SYSTEM, id="acknowledge-new-tickets", label="Acknowledge new tickets"
)


@frozen(kw_only=True)
class Decision:
    """A write-back an automation wants, with the key that makes asking twice harmless."""

    actor: Actor
    action: AddTicketNote
    idempotency_key: str


def acknowledge_new_ticket(event: Event, integration: Integration) -> Decision | None:
    if event.kind != EventKind.TICKET_OPENED or event.subject is None:
        return None
    if not integration.setting("acknowledge_new_tickets", False):
        return None
    text = str(integration.setting("acknowledgement_text") or DEFAULT_ACKNOWLEDGEMENT)
    return Decision(
        actor=ACKNOWLEDGER,
        action=AddTicketNote(ticket_id=event.subject.id, text=text, internal=False),
        idempotency_key=f"acknowledge:{integration.id}:{event.subject.id}",
    )
