"""Autotask PSA behind Vectis's capability ports: sync, ticketing and webhook registration."""

from __future__ import annotations

import hashlib
from typing import Any

from vectis.adapters.vendors.autotask import mapping, wire
from vectis.adapters.vendors.autotask.client import AutotaskClient, AutotaskSettings
from vectis.adapters.vendors.autotask.sync import UNREADABLE, AutotaskSync, Catalog, structure
from vectis.domain.errors import VendorRejected
from vectis.domain.records import Ticket, TicketChange, TicketDraft, TicketNote

__all__ = [
    "AutotaskSync",
    "AutotaskTicketing",
    "AutotaskWebhookSubscriptions",
    "external_marker",
    "note_ref",
    "webhook_key",
]

MARKER_PREFIX = "vectis:"
EXTERNAL_ID_LENGTH = 50


class AutotaskTicketing:
    """``Ticketing`` on Autotask.

    Creating looks first for a ticket whose ``externalID`` carries the idempotency key; a note
    carries a short hash of its key in its title and is looked up the same way. Updates set
    absolute values with ``PATCH``, so repeating one is harmless.
    """

    def __init__(self, client: AutotaskClient, settings: AutotaskSettings) -> None:
        self._client = client
        self._settings = settings
        self._catalog = Catalog(client, settings)

    async def create_ticket(self, draft: TicketDraft, *, idempotency_key: str) -> Ticket:
        marker = external_marker(idempotency_key)
        existing = await self._client.first("Tickets", [_eq("externalID", marker)])
        if existing is not None:
            return await self._ticket(existing)
        body: dict[str, Any] = {
            "companyID": _number(draft.company_id, "company"),
            "title": draft.summary,
            "description": draft.description,
            "status": _number(draft.status_id or self._settings.default_status_id, "status"),
            "priority": _number(
                draft.priority_id or self._settings.default_priority_id, "priority"
            ),
            "externalID": marker,
        }
        queue = draft.board_id or self._settings.default_queue_id
        if queue:
            body["queueID"] = _number(queue, "queue")
        ticket_id = await self._client.create("Tickets", body)
        return await self._ticket(await self._client.get_item("Tickets", ticket_id))

    async def update_ticket(
        self, ticket_id: str, change: TicketChange, *, idempotency_key: str
    ) -> Ticket:
        body: dict[str, Any] = {"id": _number(ticket_id, "ticket")}
        for name, value in (
            ("status", change.status_id),
            ("priority", change.priority_id),
            ("queueID", change.board_id),
        ):
            if value:
                body[name] = _number(value, name)
        if change.owner_id:
            # Autotask assigns a resource together with one of its service desk roles.
            body["assignedResourceID"] = _number(change.owner_id, "owner")
            body["assignedResourceRoleID"] = await self._default_role(change.owner_id)
        await self._client.update("Tickets", body)
        return await self._ticket(await self._client.get_item("Tickets", ticket_id))

    async def add_note(
        self, ticket_id: str, text: str, *, internal: bool, idempotency_key: str
    ) -> TicketNote:
        title = f"{self._settings.note_title} · ref {note_ref(idempotency_key)}"[:250]
        number = _number(ticket_id, "ticket")
        existing = await self._client.first(
            "TicketNotes", [_eq("ticketID", number), _eq("title", title)]
        )
        if existing is not None and _key(existing, "id") is not None:
            # The earlier attempt of this write-back got through: answer with that note.
            note_id = str(_key(existing, "id"))
            return TicketNote(id=note_id, ticket_id=str(number), text=text, internal=internal)
        publish = (
            self._settings.note_publish_internal
            if internal
            else self._settings.note_publish_external
        )
        note_id = await self._client.create(
            f"Tickets/{number}/Notes",
            {
                "ticketID": number,
                "title": title,
                "description": text,
                "noteType": self._settings.note_type,
                "publish": publish,
            },
        )
        return TicketNote(id=note_id, ticket_id=str(number), text=text, internal=internal)

    async def _ticket(self, item: Any) -> Ticket:
        try:
            return mapping.ticket(structure(item, wire.Ticket), await self._catalog.lookups())
        except UNREADABLE as error:
            raise VendorRejected(
                f"Autotask returned a ticket Vectis cannot read: {error}"
            ) from None

    async def _default_role(self, resource_id: str) -> int:
        role = await self._client.first(
            "ResourceServiceDeskRoles",
            [
                _eq("resourceID", _number(resource_id, "owner")),
                _eq("isDefault", True),
                _eq("isActive", True),
            ],
        )
        if not isinstance(role, dict) or role.get("roleID") is None:
            raise VendorRejected(
                f"Autotask resource {resource_id} has no default service desk role"
            )
        return int(role["roleID"])


class AutotaskWebhookSubscriptions:
    """``WebhookSubscriptions`` on Autotask: one ``TicketWebhooks`` entry per receiver URL.

    Its ``SecretKey`` is the integration's webhook secret (cut to Autotask's 64 characters, as
    the parser cuts it); re-registering re-asserts the key and adds any missing field.
    """

    def __init__(self, client: AutotaskClient, settings: AutotaskSettings, secret: str) -> None:
        self._client = client
        self._settings = settings
        self._secret = webhook_key(secret)

    async def ensure_subscribed(self, receiver_url: str) -> str:
        found = await self._client.first("TicketWebhooks", [_eq("webhookUrl", receiver_url)])
        if isinstance(found, dict) and found.get("id") is not None:
            webhook_id = str(found["id"])
            await self._client.update(
                "TicketWebhooks",
                {"id": int(webhook_id), "IsActive": True, "SecretKey": self._secret},
            )
            present = await self._field_ids(webhook_id)
        else:
            webhook_id = await self._client.create("TicketWebhooks", self._webhook(receiver_url))
            present = set()
        wanted = [(field_id, True) for field_id in self._settings.webhook_field_ids] + [
            (field_id, False) for field_id in self._settings.webhook_display_field_ids
        ]
        for field_id, subscribed in wanted:
            if field_id not in present:
                await self._client.create(
                    f"TicketWebhooks/{webhook_id}/Fields",
                    {
                        "FieldID": field_id,
                        "IsSubscribedField": subscribed,
                        "IsDisplayAlwaysField": not subscribed,
                    },
                )
        return webhook_id

    def _webhook(self, receiver_url: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "IsActive": True,
            "Name": "Vectis",
            "WebhookUrl": receiver_url,
            # Autotask calls this URL when it deactivates the webhook; the receiver rejects
            # that unsigned call, and the next ensure_subscribed re-activates the webhook.
            "DeactivationUrl": receiver_url,
            "SecretKey": self._secret,
            "IsSubscribedToCreateEvents": True,
            "IsSubscribedToUpdateEvents": True,
            "IsSubscribedToDeleteEvents": True,
            "SendThresholdExceededNotification": bool(self._settings.webhook_notification_email),
        }
        if self._settings.webhook_notification_email:
            body["NotificationEmailAddress"] = self._settings.webhook_notification_email
        return body

    async def _field_ids(self, webhook_id: str) -> set[int]:
        document = await self._client.get(f"TicketWebhooks/{webhook_id}/Fields")
        items = document.get("items") if isinstance(document, dict) else None
        present: set[int] = set()
        for item in items if isinstance(items, list) else []:
            value = _key(item, "fieldID")
            if value is not None:
                present.add(int(value))
        return present


def webhook_key(secret: str) -> str:
    """The ``SecretKey`` Autotask signs with: the webhook secret, at most 64 characters."""
    return secret[:64]


def external_marker(idempotency_key: str) -> str:
    """The ``externalID`` (50 characters at most) that ties a ticket to its write-back."""
    marker = MARKER_PREFIX + idempotency_key
    if len(marker) <= EXTERNAL_ID_LENGTH:
        return marker
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()
    return (MARKER_PREFIX + digest)[:EXTERNAL_ID_LENGTH]


def note_ref(idempotency_key: str) -> str:
    return hashlib.sha256(idempotency_key.encode()).hexdigest()[:12]


def _key(item: Any, name: str) -> Any:
    """A field of a response record, whatever the case Autotask spelt it in."""
    if not isinstance(item, dict):
        return None
    lowered = name.lower()
    return next((value for key, value in item.items() if key.lower() == lowered), None)


def _eq(field: str, value: Any) -> dict[str, Any]:
    return {"op": "eq", "field": field, "value": value}


def _number(value: str, what: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise VendorRejected(f"Autotask {what} ids are numbers, not {value!r}") from None
