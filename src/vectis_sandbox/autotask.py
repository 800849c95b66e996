"""Autotask PSA REST v1.0, served from memory: the demo world, queries, writes and webhooks.

Paths live under ``/atservicesrest/v1.0`` like a zone's; every request but ``zoneInformation``
needs the ``ApiIntegrationCode``, ``UserName`` and ``Secret`` headers. Queries (``POST
{Entity}/query`` or ``GET …/query?search=``) take Autotask's filters and answer at most 500
items with ``pageDetails.nextPageUrl`` continuing by id. Ticket writes move ``lastActivityDate``
and are pushed to registered ``TicketWebhooks``, signed ``X-Hook-Signature: sha1=<base64
HMAC-SHA1>`` with the webhook's ``SecretKey``.

``python -m vectis_sandbox.autotask --tickets N --port P`` serves ``large(N)`` on loopback and
prints one JSON line with the base URL and credentials once it listens.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import random
import secrets
import sys
from datetime import UTC, datetime
from typing import Any

import falcon.asgi
from attrs import define, field

from vectis_sandbox import autotask_records as records
from vectis_sandbox.autotask_http import (
    ROOT,
    UNAUTHORIZED,
    as_int,
    autotask_error,
    canonical,
    check_picklist,
    install,
    is_int,
)
from vectis_sandbox.autotask_large import Generated
from vectis_sandbox.autotask_records import API_RESOURCE_ID, COMPLETE, WEBHOOK_FIELDS, at
from vectis_sandbox.autotask_tables import Row, Store, Table, compile_filter
from vectis_sandbox.kit.serving import serve_app
from vectis_sandbox.kit.state import SandboxState
from vectis_sandbox.kit.vendor import SandboxVendor, vendor_app
from vectis_sandbox.kit.webhooks import deliver_later
from vectis_sandbox.world import PROBLEMS, World, build_world

_TICKET_WRITABLE = (
    "companyID",
    "title",
    "description",
    "status",
    "priority",
    "queueID",
    "externalID",
    "contactID",
    "companyLocationID",
    "assignedResourceID",
    "assignedResourceRoleID",
    "dueDateTime",
    "ticketType",
    "source",
    "issueType",
)


@define
class AutotaskState(SandboxState):
    """Everything the fake Autotask knows; tests read and change it directly."""

    username: str = "vectis-api@harborpoint.example"
    secret: str = field(factory=lambda: secrets.token_urlsafe(18))
    integration_code: str = field(factory=lambda: secrets.token_hex(13).upper())
    tables: dict[str, Store] = field(factory=dict)
    webhook_secrets: dict[int, str] = field(factory=dict)
    next_id: int = 1
    _sequence: itertools.count[int] = field(factory=lambda: itertools.count(1))

    @property
    def credentials(self) -> dict[str, str]:
        return {
            "username": self.username,
            "secret": self.secret,
            "integration_code": self.integration_code,
        }

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id

    def table(self, entity: str) -> Store:
        for name, table in self.tables.items():
            if name.lower() == entity.lower():
                return table
        raise autotask_error(404, f"The entity {entity} is not available")

    def add_ticket(self, values: dict[str, Any]) -> Row:
        """Create a ticket as ``POST /Tickets`` does, and push it to the webhooks."""
        values = canonical(values, _TICKET_WRITABLE)
        company = as_int(values.get("companyID"))
        if company is None or self.table("Companies").get(company) is None:
            raise autotask_error(500, "companyID must name an existing company")
        if not str(values.get("title") or "").strip():
            raise autotask_error(500, "title is required")
        check_picklist(values, "status", records.STATUSES, required=True)
        check_picklist(values, "priority", records.PRIORITIES, required=True)
        check_picklist(values, "queueID", records.QUEUES, required=False)
        now = at(datetime.now(UTC))
        ticket_id = self.new_id()
        ticket: Row = {
            "id": ticket_id,
            "ticketNumber": f"T{datetime.now(UTC):%Y%m%d}.{ticket_id % 10000:04d}",
            "description": "",
            "externalID": "",
            "ticketType": 1,
            **values,
            "createDate": now,
            "lastActivityDate": now,
            "completedDate": now if values["status"] == COMPLETE else None,
        }
        self.table("Tickets").put(ticket)
        deliver(self, "Create", ticket, set(ticket))
        return ticket

    def update_ticket(self, values: dict[str, Any]) -> Row:
        """Change a ticket as ``PATCH /Tickets`` does, and push the change to the webhooks."""
        values = canonical(values, ("id", *_TICKET_WRITABLE))
        current = self.table("Tickets").get(int(values["id"])) if is_int(values.get("id")) else None
        if current is None:
            raise autotask_error(500, f"Ticket {values.get('id')} does not exist")
        check_picklist(values, "status", records.STATUSES, required=False)
        check_picklist(values, "priority", records.PRIORITIES, required=False)
        check_picklist(values, "queueID", records.QUEUES, required=False)
        if "assignedResourceID" in values and not self._has_role(values):
            raise autotask_error(
                500, "assignedResourceRoleID must be a role of the assigned resource"
            )
        ticket = {**current, **values}
        changed = {name for name, value in values.items() if current.get(name) != value}
        if "status" in changed:
            ticket["completedDate"] = (
                at(datetime.now(UTC)) if ticket["status"] == COMPLETE else None
            )
        ticket["lastActivityDate"] = at(datetime.now(UTC))
        self.table("Tickets").put(ticket)
        deliver(self, "Update", ticket, changed)
        return ticket

    def add_note(
        self, ticket_id: int, values: dict[str, Any], *, contact_id: int | None = None
    ) -> Row:
        """Add a note as ``POST /Tickets/{id}/Notes`` does; the ticket's activity moves too."""
        values = canonical(values, ("title", "description", "noteType", "publish"))
        ticket = self.table("Tickets").get(ticket_id)
        if ticket is None:
            raise autotask_error(404, f"Ticket {ticket_id} does not exist")
        missing = [
            name for name in ("title", "description", "noteType", "publish") if not values.get(name)
        ]
        if missing:
            raise autotask_error(500, f"{', '.join(missing)} required")
        now = at(datetime.now(UTC))
        note = {
            "id": self.new_id(),
            "ticketID": ticket_id,
            **values,
            "createDateTime": now,
            "lastActivityDate": now,
            "creatorResourceID": None if contact_id else API_RESOURCE_ID,
            "createdByContactID": contact_id,
        }
        self.table("TicketNotes").put(note)
        self.table("Tickets").put({**ticket, "lastActivityDate": now})
        return note

    def _has_role(self, values: dict[str, Any]) -> bool:
        if values["assignedResourceID"] is None:
            return True
        predicate, hints = compile_filter(
            [
                {"op": "eq", "field": "resourceID", "value": values["assignedResourceID"]},
                {"op": "eq", "field": "roleID", "value": values.get("assignedResourceRoleID")},
            ]
        )
        return (
            next(self.table("ResourceServiceDeskRoles").scan(predicate, -1, hints), None)
            is not None
        )


def seeded(world: World) -> AutotaskState:
    """The demo world as this Autotask database holds it."""
    return _seeded(world)[0]


def large(tickets: int, notes_per_ticket: int = 2) -> AutotaskState:
    """The demo's companies with ``tickets`` generated tickets and their notes, for the benchmark.

    Tickets and notes are built on request from their index (nothing is stored per ticket), and
    a ``lastActivityDate`` filter or a next-page id is a bisection, so every page is cheap.
    """
    world = build_world(tickets_per_company=1)
    state, ids = _seeded(world)
    first_ticket_id = state.next_id + 1
    first_note_id = first_ticket_id + tickets + 1
    generated = Generated(tickets, notes_per_ticket, world.now, ids, first_ticket_id, first_note_id)
    state.tables["Tickets"] = generated.tickets()
    state.tables["TicketNotes"] = generated.notes()
    state.next_id = first_note_id + tickets * generated.per_ticket + 1
    return state


def _seeded(world: World) -> tuple[AutotaskState, records.Directory]:
    rows, ids = records.world_rows(world)
    state = AutotaskState(
        company_ids={key: str(company_id) for key, company_id in ids.companies.items()},
        tables={name: Table(entity_rows) for name, entity_rows in rows.items()},
    )
    state.next_id = max(int(row["id"]) for entity_rows in rows.values() for row in entity_rows) + 1
    return state, ids


def base_url_for(server_url: str) -> str:
    """What an operator types as the integration's base URL: the zone's REST root."""
    return server_url.rstrip("/") + ROOT


def simulate_activity(state: AutotaskState, rng: random.Random) -> None:
    """One thing a customer does: open a ticket, or reply to one (which puts it in progress)."""
    tickets = state.table("Tickets")
    ticket = _random_ticket(tickets, rng)
    if ticket is None or rng.random() < 0.5:
        company = rng.choice([row for row in state.table("Companies").rows() if row["id"] != 0])
        title, description = rng.choice(PROBLEMS)
        state.add_ticket(
            {
                "companyID": company["id"],
                "title": title,
                "description": description,
                "status": 1,
                "priority": 2,
                "queueID": 29682833,
            }
        )
        return
    state.add_note(
        int(ticket["id"]),
        {
            "title": "Customer reply",
            "description": "Any update on this?",
            "noteType": 1,
            "publish": 1,
        },
        contact_id=ticket.get("contactID") or None,
    )
    state.update_ticket({"id": ticket["id"], "status": 8})


def create_app(state: AutotaskState) -> falcon.asgi.App[Any, Any]:
    app = vendor_app(state, expired=(401, UNAUTHORIZED))
    install(app, state)
    return app


def sign(secret: str, body: bytes) -> str:
    """``X-Hook-Signature``: ``sha1=`` and the base64 HMAC-SHA1 of the body under the key."""
    digest = hmac.new(secret.encode(), body, hashlib.sha1).digest()
    return "sha1=" + base64.b64encode(digest).decode()


def webhook_body(
    state: AutotaskState, webhook: Row, action: str, ticket: Row, fields: Row
) -> bytes:
    document = {
        "Action": action,
        "Guid": webhook["webhookGUID"],
        "EntityType": "Ticket",
        "Id": ticket["id"],
        "Fields": fields,
        "EventTime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "SequenceNumber": next(state._sequence),
        "PersonID": API_RESOURCE_ID,
    }
    return json.dumps(document, separators=(",", ":")).encode()


def deliver(state: AutotaskState, action: str, ticket: Row, changed: set[str]) -> None:
    """Push a ticket change to every active webhook watching it, in the background."""
    for webhook in list(state.table("TicketWebhooks").rows()):
        if not webhook["isActive"] or not webhook.get(f"isSubscribedTo{action}Events"):
            continue
        subscribed, display = _webhook_fields(state, int(webhook["id"]))
        triggered = subscribed & changed
        if action == "Update" and not triggered:
            continue
        names = (subscribed if action == "Create" else triggered) | display
        fields = {name[0].upper() + name[1:]: ticket.get(name) for name in sorted(names)}
        body = webhook_body(state, webhook, action, ticket, fields)
        secret = state.webhook_secrets[int(webhook["id"])]
        headers = {"Content-Type": "application/json", "X-Hook-Signature": sign(secret, body)}
        deliver_later(state, webhook["webhookUrl"], body, headers)


def _webhook_fields(state: AutotaskState, webhook_id: int) -> tuple[set[str], set[str]]:
    subscribed: set[str] = set()
    display: set[str] = set()
    for row in state.table("TicketWebhookFields").rows():
        if row["webhookID"] == webhook_id:
            name = WEBHOOK_FIELDS[row["fieldID"]]
            (subscribed if row["isSubscribedField"] else display).add(name)
            if row["isDisplayAlwaysField"]:
                display.add(name)
    return subscribed, display


def _random_ticket(tickets: Store, rng: random.Random) -> Row | None:
    """An open ticket, found without walking a large table."""
    if isinstance(tickets, Table):
        open_ids = [int(row["id"]) for row in tickets.rows() if row.get("status") != COMPLETE]
        return tickets.get(rng.choice(open_ids)) if open_ids else None
    for _ in range(20):
        ticket = tickets.get(rng.randrange(tickets.first_id, tickets.first_id + tickets.count))
        if ticket is not None and ticket.get("status") != COMPLETE:
            return ticket
    return None


async def _serve(tickets: int, notes_per_ticket: int, port: int) -> None:
    state = large(tickets, notes_per_ticket)
    async with serve_app(create_app(state), port=port) as server_url:
        state.base_url = base_url_for(server_url)
        print(
            json.dumps({"base_url": state.base_url, "credentials": state.credentials}), flush=True
        )
        await asyncio.Event().wait()  # until the process is interrupted or terminated


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a large sandboxed Autotask on loopback.")
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--notes-per-ticket", type=int, default=2)
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args(argv)
    try:
        asyncio.run(_serve(args.tickets, args.notes_per_ticket, args.port))
    except KeyboardInterrupt:
        sys.exit(0)


SANDBOX = SandboxVendor(
    key="autotask",
    label="Autotask (sandbox)",
    seeded=seeded,
    base_url_for=base_url_for,
    create_app=create_app,
    simulate_activity=simulate_activity,
)


if __name__ == "__main__":
    main()
