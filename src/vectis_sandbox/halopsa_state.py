"""What the fake HaloPSA knows, as Halo shapes it: its API client, records and webhooks.

``halopsa.seeded`` fills it from the demo world; the app (``halopsa.py``) serves it.
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from attrs import define, field

from vectis_sandbox import halopsa_world as shapes
from vectis_sandbox.kit.oauth import Tokens
from vectis_sandbox.kit.state import SandboxState, utc_now


@define
class HaloState(SandboxState):
    """Everything the fake Halo knows; tests read and change it directly."""

    client_id: str = field(factory=lambda: str(uuid.uuid4()))
    client_secret: str = field(factory=lambda: secrets.token_urlsafe(24))
    tenant: str = "harborpoint"
    token_seconds: float = 3600.0
    tokens: Tokens = field(factory=Tokens)
    statuses: list[dict[str, Any]] = field(factory=shapes.statuses)
    priorities: list[dict[str, Any]] = field(factory=shapes.priorities)
    teams: list[dict[str, Any]] = field(factory=shapes.teams)
    agents: list[dict[str, Any]] = field(factory=shapes.agents)
    clients: dict[int, dict[str, Any]] = field(factory=dict)
    sites: dict[int, dict[str, Any]] = field(factory=dict)
    users: dict[int, dict[str, Any]] = field(factory=dict)
    assets: dict[int, dict[str, Any]] = field(factory=dict)
    tickets: dict[int, dict[str, Any]] = field(factory=dict)
    actions: dict[int, list[dict[str, Any]]] = field(factory=dict)
    contracts: dict[int, dict[str, Any]] = field(factory=dict)
    invoices: dict[int, dict[str, Any]] = field(factory=dict)
    webhooks: dict[str, dict[str, Any]] = field(factory=dict)
    honours_order: bool = True
    """Whether lists sort by ``order``: the swagger documents the parameter but not the field
    names Halo sorts on, so a test can have Halo ignore it."""

    @property
    def credentials(self) -> dict[str, str]:
        return {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "tenant": self.tenant,
        }

    def revoke_tokens(self) -> None:
        """Halo forgets every token it issued (as after a restart or key rotation)."""
        self.tokens.clear()

    def add_ticket(self, client_id: int, summary: str, details: str = "") -> dict[str, Any]:
        client = self.clients[client_id]
        site = next((s for s in self.sites.values() if int(s["client_id"]) == client_id), None)
        now = shapes.halo_time(utc_now())
        ticket = {
            "id": max(self.tickets, default=9000) + 1,
            "summary": summary,
            "details": details,
            "client_id": client_id,
            "client_name": client["name"],
            "site_id": site["id"] if site else 0,
            "site_name": site["name"] if site else "",
            "user_id": 0,
            "user_name": "",
            "agent_id": 1,
            "team": self.teams[0]["name"],
            "team_id": self.teams[0]["id"],
            "status_id": 1,
            "priority_id": 3,
            "tickettype_id": 36,
            "sla_id": shapes.SLA_ID,
            "dateoccurred": now,
            "datecreated": now,
            "last_update": now,
            "lastactiondate": now,
            "dateclosed": shapes.NO_DATE,
            "third_party_id_string": "",
            "deleted": False,
        }
        self.tickets[ticket["id"]] = ticket
        self.actions[ticket["id"]] = []
        return ticket

    def add_action(
        self, ticket_id: int, note: str, *, hidden: bool, outcome: str, who_type: int, who: str
    ) -> dict[str, Any]:
        ticket = self.tickets[ticket_id]
        now = utc_now()
        actions = self.actions.setdefault(ticket_id, [])
        created = shapes.action(
            ticket_id,
            max((a["id"] for a in actions), default=0) + 1,
            note=note,
            who=who,
            who_type=who_type,
            who_agentid=shapes.API_AGENT_ID if who_type == 1 else 0,
            at=now,
            hidden=hidden,
            outcome=outcome,
        )
        actions.append(created)
        ticket["last_update"] = ticket["lastactiondate"] = shapes.halo_time(now)
        return created
