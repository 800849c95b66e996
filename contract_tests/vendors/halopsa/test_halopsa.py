"""HaloPSA: the connector against recorded interactions, against the sandbox, and (optionally) live.

Live mode runs the read-only tests against a real Halo when these are set:
``HALOPSA_BASE_URL`` (``https://yourcompany.halopsa.com``), ``HALOPSA_CLIENT_ID``,
``HALOPSA_CLIENT_SECRET`` and, for hosted Halo, ``HALOPSA_TENANT``. Tests that assert recorded
values or write to Halo skip in live mode.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import random
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import falcon
import falcon.asgi
import httpx
import pytest
from attrs import define, field

from contract_tests.replay import Replay
from vectis.adapters.vendors.halopsa.client import HaloAccount, HaloClient
from vectis.adapters.vendors.halopsa.gateway import HaloSync, HaloWebhookSubscriptions
from vectis.adapters.vendors.halopsa.mapping import parse_time
from vectis.adapters.vendors.halopsa.settings import HaloSettings
from vectis.adapters.vendors.halopsa.ticketing import HaloTicketing
from vectis.adapters.vendors.halopsa.webhooks import HaloWebhooks
from vectis.application.errors import WebhookRejected
from vectis.domain.errors import VendorAuthFailed, VendorNotFound
from vectis.domain.events import EventKind
from vectis.domain.integration import Credentials, Integration
from vectis.domain.records import (
    Contact,
    Contract,
    Device,
    Reference,
    SyncBatch,
    Ticket,
    TicketChange,
    TicketDraft,
    TicketNote,
    TicketSla,
    VendorCompany,
    VendorSite,
)
from vectis_sandbox import halopsa as sandbox
from vectis_sandbox.halopsa_world import CLOSED_STATUS, NO_DATE
from vectis_sandbox.server import serve_app
from vectis_sandbox.world import build_world

RECORDINGS = Path(__file__).parent / "recordings"
CLOUD = "https://dbt.halopsa.com"
REPLAY_VALUES = {
    "client_id": "5f2c8d0e-61a4-4d3b-9d3e-1b7f0c2a9e44",
    "client_secret": "s3cr3t-from-halo-api-details",
    "tenant": "dbt",
    "token": "eyJhbGciOiJSUzI1NiIsImtpZCI6IkhBTE8ifQ.recorded",
    "webhook_secret": "whs_4f6c0e9a1b2d",
}
LIVE_ENV = ("HALOPSA_BASE_URL", "HALOPSA_CLIENT_ID", "HALOPSA_CLIENT_SECRET")


def recorded(name: str) -> list[dict[str, Any]]:
    """A recording file's interactions (one, or a file's ``interactions`` list)."""
    loaded = json.loads((RECORDINGS / f"{name}.json").read_text())
    return list(loaded["interactions"]) if "interactions" in loaded else [loaded]


def replay_of(*names: str) -> Replay:
    interactions = [step for name in names for step in recorded(name)]
    return Replay(interactions, REPLAY_VALUES)


@define
class Vendor:
    """One way of reaching Halo: recordings in-process, the sandbox over HTTP, or a live tenant."""

    mode: str
    http: httpx.AsyncClient
    base_url: str
    credentials: dict[str, str]
    replay: Replay | None = None
    state: sandbox.HaloState | None = None
    tokens: dict[str, tuple[float, bytes]] = field(factory=dict)

    def integration(self, **settings: Any) -> Integration:
        return Integration(
            id=uuid.uuid4(),
            tenant_id=uuid.uuid4(),
            vendor="halopsa",
            name="Halo",
            base_url=self.base_url,
            created_at=datetime.now(UTC),
            settings=settings,
        )

    def client(self) -> HaloClient:
        account = HaloAccount.from_credentials(self.base_url, Credentials(values=self.credentials))
        return HaloClient(self.http, account, token_cache=self.tokens)

    def sync(self, **settings: Any) -> HaloSync:
        return HaloSync(self.client(), HaloSettings.of(self.integration(**settings)))

    def ticketing(self, **settings: Any) -> HaloTicketing:
        return HaloTicketing(self.client(), HaloSettings.of(self.integration(**settings)))

    def api_requests(self) -> list[str]:
        """Every API request so far as ``METHOD /path?query`` (token requests left out)."""
        if self.replay is not None:
            sent = [f"{r.method} {r.url.raw_path.decode()}" for r in self.replay.sent]
        elif self.state is not None:
            sent = [f"{method} {target}" for method, target in self.state.faults.requests]
        else:
            return []
        return [request for request in sent if "/auth/token" not in request]

    def needs_facts(self) -> None:
        if self.mode == "live":
            pytest.skip("asserts recorded or seeded values")


@pytest.fixture(params=["replay", "sandbox", "live"])
async def vendor(request: pytest.FixtureRequest) -> AsyncIterator[Vendor]:
    if request.param == "replay":
        replay = replay_of(
            "token",
            "agent_me",
            "incremental",
            "references",
            "clients",
            "sites",
            "users",
            "assets",
            "tickets",
            "actions",
            "contracts",
        )
        credentials = {key: REPLAY_VALUES[key] for key in ("client_id", "client_secret", "tenant")}
        async with httpx.AsyncClient(transport=replay.transport()) as http:
            yield Vendor(
                mode="replay", http=http, base_url=CLOUD, credentials=credentials, replay=replay
            )
        return
    if request.param == "live":
        if not all(os.environ.get(name) for name in LIVE_ENV):
            pytest.skip(f"set {', '.join(LIVE_ENV)} (and HALOPSA_TENANT) to run against Halo")
        credentials = {
            "client_id": os.environ["HALOPSA_CLIENT_ID"],
            "client_secret": os.environ["HALOPSA_CLIENT_SECRET"],
            "tenant": os.environ.get("HALOPSA_TENANT", ""),
        }
        async with httpx.AsyncClient(timeout=30) as http:
            yield Vendor(
                mode="live",
                http=http,
                base_url=os.environ["HALOPSA_BASE_URL"],
                credentials=credentials,
            )
        return
    async with running() as state, httpx.AsyncClient() as http:
        yield Vendor(
            mode="sandbox",
            http=http,
            base_url=state.base_url,
            credentials=state.credentials,
            state=state,
        )


class running:
    """The sandbox on a loopback port, seeded with the demo world."""

    def __init__(self) -> None:
        self.state = sandbox.seeded(build_world())
        self._served = serve_app(sandbox.create_app(self.state))

    async def __aenter__(self) -> sandbox.HaloState:
        url = await self._served.__aenter__()
        self.state.base_url = sandbox.base_url_for(url)
        return self.state

    async def __aexit__(self, *exc: object) -> None:
        for delivery in self.state.deliveries:
            delivery.cancel()
        await self._served.__aexit__(*exc)


async def read_all(source: HaloSync, stream: str, cursor: str | None = None) -> list[SyncBatch]:
    return [batch async for batch in source.read(stream, cursor)]


def records(batches: list[SyncBatch]) -> list[Any]:
    return [record for batch in batches for record in batch.records]


# --- authentication ---------------------------------------------------------------------------


async def test_check_takes_a_client_credentials_token_and_names_the_api_agent(
    vendor: Vendor,
) -> None:
    label = await vendor.sync().check()

    assert label
    if vendor.mode == "replay":
        assert label == "dbt.halopsa.com as Halo API Test"
        assert vendor.replay is not None
        token_request, call = vendor.replay.sent[0], vendor.replay.sent[1]
        assert token_request.url.path == "/auth/token"
        assert token_request.url.params["tenant"] == "dbt"
        assert call.headers["Authorization"] == f"Bearer {REPLAY_VALUES['token']}"
    if vendor.mode == "sandbox":
        assert label.endswith("as Vectis API")


async def test_a_wrong_client_secret_is_refused_as_bad_credentials(vendor: Vendor) -> None:
    vendor.needs_facts()
    vendor.credentials["client_secret"] = "not-the-secret"
    if vendor.replay is not None:
        replay = replay_of("token_rejected")
        async with httpx.AsyncClient(transport=replay.transport()) as http:
            vendor.http = http
            with pytest.raises(VendorAuthFailed, match=r"invalid_client|not valid"):
                await vendor.sync().check()
        return
    with pytest.raises(VendorAuthFailed, match="not valid"):
        await vendor.sync().check()


async def test_a_refused_token_is_replaced_once_and_the_call_retried(vendor: Vendor) -> None:
    vendor.needs_facts()
    source = vendor.sync()
    if vendor.replay is not None:
        (accepted,) = recorded("agent_me")
        interactions = [
            *recorded("token"),
            {**accepted, "once": True},
            *recorded("agent_me_token_refused"),
            accepted,
        ]
        replay = Replay(interactions, REPLAY_VALUES)
        async with httpx.AsyncClient(transport=replay.transport()) as http:
            vendor.http = http
            await vendor.sync().check()
            assert await vendor.sync().check() == "dbt.halopsa.com as Halo API Test"
        assert [request.url.path for request in replay.sent] == [
            "/auth/token",
            "/api/Agent/me",
            "/api/Agent/me",
            "/auth/token",
            "/api/Agent/me",
        ]
        return
    assert vendor.state is not None
    await source.check()
    vendor.state.revoke_tokens()

    assert await source.check()
    assert (
        sum(1 for _, target in vendor.state.faults.requests if target.startswith("/auth/token"))
        == 2
    )


async def test_expired_credentials_surface_as_auth_failures(vendor: Vendor) -> None:
    vendor.needs_facts()
    if vendor.state is None:
        pytest.skip("a sandbox fault switch")
    vendor.state.faults.credentials_expired = True
    with pytest.raises(VendorAuthFailed):
        await vendor.sync().check()


# --- sync streams -----------------------------------------------------------------------------


async def test_references_are_ticket_statuses_priorities_teams_and_agents(vendor: Vendor) -> None:
    (batch,) = await read_all(vendor.sync(), "references")
    found = {(ref.kind, ref.id): ref for ref in batch.records}

    assert all(isinstance(ref, Reference) for ref in batch.records)
    if vendor.mode == "live":
        return
    closed = found[("status", "9")]
    assert closed.closed and closed.name == "Closed"
    assert not found[("status", "1")].closed
    kinds = {kind for kind, _ in found}
    assert kinds == {"status", "priority", "board", "member"}
    if vendor.mode == "replay":
        assert ("status", "30") not in found, "an opportunity status is no ticket status"
        assert found[("priority", "4")].name == "Low"
        assert sum(1 for kind, _ in found if kind == "priority") == 4, "one per priorityid"
        assert found[("board", "26")].name == "1st Line Support"
        assert ("board", "5") not in found, "inactive team"
        assert ("member", "1") not in found, "agent 1 is Halo's 'Unassigned'"
        assert ("member", "7") not in found, "disabled agent"
        assert found[("member", "3")].name == "Admin"
    else:
        assert found[("board", "26")].name == "Service Desk"
        assert found[("member", "2")].name == "Sam Okafor"


async def test_companies_follow_every_page(vendor: Vendor) -> None:
    batches = await read_all(vendor.sync(page_size=2), "companies")
    companies = records(batches)

    assert companies and all(isinstance(company, VendorCompany) for company in companies)
    assert batches[-1].cursor is not None
    assert all(batch.cursor is None for batch in batches[:-1])
    vendor.needs_facts()
    pages = [request for request in vendor.api_requests() if request.startswith("GET /api/Client")]
    assert all("pageinate=true" in page and "page_size=2" in page for page in pages)
    if vendor.mode == "replay":
        assert [c.id for c in companies] == ["12", "14", "15"]
        assert companies[0].name == "Department for Business and Trade"
        assert companies[0].identifier == "DBT"
        assert companies[0].updated_at == datetime(2024, 6, 27, 8, 24, 23, 933000, tzinfo=UTC)
        assert batches[-1].cursor == "2024-06-27T08:24:23.933000+00:00"
        assert len(pages) == 2
    else:
        assert vendor.state is not None
        assert [c.id for c in companies] == sorted(vendor.state.company_ids.values())
        assert companies[0].name == "Aldridge & Co." and companies[0].identifier == "AldridgeCo"
        assert len(pages) == 3


async def test_sites_contacts_and_assets_belong_to_their_client(vendor: Vendor) -> None:
    source = vendor.sync()
    sites = records(await read_all(source, "sites"))
    contacts = records(await read_all(source, "contacts"))
    devices = records(await read_all(source, "devices"))

    assert all(isinstance(site, VendorSite) and site.company_id for site in sites)
    assert all(isinstance(contact, Contact) and contact.company_id for contact in contacts)
    assert all(isinstance(device, Device) for device in devices)
    vendor.needs_facts()
    if vendor.mode == "replay":
        assert sites == [
            VendorSite(
                id="18",
                company_id="12",
                name="UK Trade",
                updated_at=datetime(2024, 6, 3, 12, 0, tzinfo=UTC),
            )
        ]
        (contact,) = contacts
        assert (contact.id, contact.company_id, contact.name, contact.email) == (
            "38",
            "12",
            "Some Body",
            "some.body@example.com",
        )
        (device,) = devices
        assert (device.id, device.company_id, device.name, device.kind, device.site) == (
            "301",
            "12",
            "DBT-LT-0301",
            "laptop",
            "UK Trade",
        )
        assert device.url == f"{CLOUD}/assets?id=301"
    else:
        assert vendor.state is not None
        world = build_world()
        assert len(sites) == sum(len(company.sites) for company in world.companies)
        assert len(contacts) == sum(len(company.contacts) for company in world.companies)
        assert len(devices) == len(world.devices)
        first = world.devices[0]
        device = next(d for d in devices if d.id == str(first.key))
        assert (device.name, device.kind, device.site) == (first.name, first.kind, first.site)
        assert device.company_id == vendor.state.company_ids[first.company]


async def test_tickets_map_with_reference_names_and_unreadable_rows_are_skipped(
    vendor: Vendor,
) -> None:
    if vendor.state is not None:
        broken = min(vendor.state.tickets)
        vendor.state.tickets[broken].update(dateoccurred=NO_DATE, datecreated=NO_DATE)
    batches = await read_all(vendor.sync(), "tickets")
    tickets = {ticket.id: ticket for ticket in records(batches)}
    skipped = [record for batch in batches for record in batch.skipped]

    assert all(isinstance(ticket, Ticket) for ticket in tickets.values())
    vendor.needs_facts()
    assert len(skipped) == 1 and skipped[0].stream == "tickets"
    if vendor.mode == "replay":
        assert skipped[0].vendor_id is None and "id" in skipped[0].reason
        open_ticket, closed = tickets["9499"], tickets["9500"]
        assert open_ticket.summary == "Halo via API at 2024-06-20T14:45:15.788760"
        assert open_ticket.company_id == "12" and open_ticket.site_id == "18"
        assert open_ticket.contact_id == "38"
        assert open_ticket.opened_at == datetime(2024, 6, 20, 14, 45, 15, 974627, tzinfo=UTC)
        assert open_ticket.updated_at == datetime(2024, 6, 20, 14, 45, 17, 152103, tzinfo=UTC)
        assert (open_ticket.status and open_ticket.status.name) == "New"
        assert (open_ticket.priority and open_ticket.priority.name) == "Low"
        assert open_ticket.board is not None and open_ticket.board.id == "26"
        assert open_ticket.board.name == "1st Line Support"
        assert open_ticket.owner is None, "agent 1 is Halo's 'Unassigned'"
        assert not open_ticket.closed and open_ticket.closed_at is None
        assert open_ticket.url == f"{CLOUD}/tickets?id=9499"
        assert open_ticket.sla == TicketSla(
            name="Incident SLA",
            respond_by=datetime(2024, 6, 21, 10, 45, 15, 975000, tzinfo=UTC),
            resolve_by=datetime(2024, 6, 27, 14, 45, 15, 974627, tzinfo=UTC),
        )
        assert closed.closed and closed.owner is not None and closed.owner.name == "Admin"
        assert closed.closed_at == datetime(2024, 6, 21, 9, 12, 44, 517000, tzinfo=UTC)
        assert batches[-1].cursor == "2024-06-21T09:12:44.517000+00:00"
    else:
        assert vendor.state is not None
        assert skipped[0].vendor_id == str(broken)
        assert len(tickets) == len(vendor.state.tickets) - 1
        source = vendor.state.tickets[max(vendor.state.tickets)]
        ticket = tickets[str(source["id"])]
        assert ticket.summary == source["summary"]
        assert ticket.company_id == str(source["client_id"])
        assert ticket.board is not None and ticket.board.name == source["team"]
        assert ticket.closed == (source["status_id"] == CLOSED_STATUS)
        assert ticket.sla is not None and ticket.sla.name == source["sla_name"]
        assert ticket.sla.resolve_by == parse_time(source["fixbydate"])


async def test_notes_are_the_actions_of_each_changed_ticket(vendor: Vendor) -> None:
    batches = await read_all(vendor.sync(notes_history_days=0), "notes")
    notes = {note.id: note for note in records(batches)}

    assert all(isinstance(note, TicketNote) for note in notes.values())
    vendor.needs_facts()
    if vendor.mode == "replay":
        assert set(notes) == {"9499-2", "9499-4", "9500-3"}
        reply, internal = notes["9499-2"], notes["9499-4"]
        assert reply.from_customer and not reply.internal and reply.author == "Some Body"
        assert reply.text == "Still offline after a restart, I am afraid."
        assert reply.created_at == datetime(2024, 6, 20, 15, 2, 41, 117000, tzinfo=UTC)
        assert internal.internal and not internal.from_customer and internal.author == "Admin"
        asked = [r for r in vendor.api_requests() if r.startswith("GET /api/Actions")]
        assert len(asked) == 2 and all("excludesys=true" in r for r in asked)
    else:
        assert vendor.state is not None
        expected = sum(
            1 for actions in vendor.state.actions.values() for a in actions if a["who_type"] != 0
        )
        assert len(notes) == expected
        assert any(note.from_customer for note in notes.values())
        assert any(note.internal for note in notes.values())


async def test_contracts_carry_their_recurring_invoice_lines(vendor: Vendor) -> None:
    batches = await read_all(vendor.sync(), "contracts")
    contracts = records(batches)

    assert all(isinstance(contract, Contract) for contract in contracts)
    vendor.needs_facts()
    if vendor.mode == "replay":
        (contract,) = contracts
        skipped = [record for batch in batches for record in batch.skipped]
        assert [record.vendor_id for record in skipped] == ["8"], "no client"
        assert (contract.id, contract.company_id, contract.name, contract.kind) == (
            "7",
            "12",
            "DBT Managed Service",
            "Managed Service",
        )
        assert contract.status == "active"
        assert str(contract.starts_on) == "2024-04-01" and str(contract.ends_on) == "2025-03-31"
        assert [(line.description, line.quantity, line.unit_price) for line in contract.lines] == [
            ("Managed laptop", Decimal("40.0"), Decimal("25.0")),
            ("Service desk (per user)", Decimal("120.0"), Decimal("8.5")),
        ]
    else:
        world = build_world()
        assert len(contracts) == len(world.contracts)
        first = next(c for c in contracts if c.id == str(world.contracts[0].key))
        assert [line.description for line in first.lines] == [
            line.description for line in world.contracts[0].lines
        ]


async def test_an_up_to_date_cursor_costs_one_request_per_incremental_stream(
    vendor: Vendor,
) -> None:
    source = vendor.sync()
    cursors = {}
    for stream in ("companies", "sites", "contacts", "tickets", "devices"):
        cursors[stream] = (await read_all(source, stream))[-1].cursor
    cursors["notes"] = cursors["tickets"]
    vendor.needs_facts()
    before = len(vendor.api_requests())

    fresh = vendor.sync()
    for stream, cursor in cursors.items():
        assert cursor is not None
        batches = await read_all(fresh, stream, cursor)
        assert batches[-1].cursor == cursor, f"{stream} keeps its watermark"
        if stream in ("tickets", "notes"):
            assert not records(batches), "the boundary ticket is not read again"

    asked = vendor.api_requests()[before:]
    assert len(asked) == len(cursors), asked
    assert all("lastupdatefromdate=" in request for request in asked)


# --- write-backs ------------------------------------------------------------------------------


async def test_creating_a_ticket_posts_an_array_marked_with_the_idempotency_key(
    vendor: Vendor,
) -> None:
    vendor.needs_facts()
    if vendor.replay is not None:
        replay = replay_of("token", "references", "create_ticket")
        async with httpx.AsyncClient(transport=replay.transport()) as http:
            vendor.http = http
            ticket = await vendor.ticketing().create_ticket(
                TicketDraft(
                    company_id="12",
                    summary="Printer on the second floor shows offline",
                    description="The HP printer upstairs shows offline for everyone.",
                    board_id="26",
                    priority_id="2",
                ),
                idempotency_key="wb-1001",
            )
        assert (ticket.id, ticket.company_id) == ("9499", "12")
        assert ticket.summary == "Printer on the second floor shows offline"
        assert ticket.priority is not None and ticket.priority.name == "High"
        assert ticket.board is not None and ticket.board.name == "1st Line Support"
        assert ticket.updated_at == datetime(2024, 6, 20, 14, 45, 17, 152103, tzinfo=UTC)
        return
    assert vendor.state is not None
    company = vendor.state.company_ids["BaysideBistro"]
    draft = TicketDraft(company_id=company, summary="Card reader offline", priority_id="1")
    ticketing = vendor.ticketing()
    first = await ticketing.create_ticket(draft, idempotency_key="wb-77")
    again = await vendor.ticketing().create_ticket(draft, idempotency_key="wb-77")
    other = await ticketing.create_ticket(draft, idempotency_key="wb-78")

    assert first.id == again.id != other.id
    created = [t for t in vendor.state.tickets.values() if t["summary"] == "Card reader offline"]
    assert len(created) == 2
    assert vendor.state.tickets[int(first.id)]["third_party_id_string"] == "vectis:wb-77"
    assert first.priority is not None and first.priority.name == "Priority 1 - Critical"


async def test_updating_a_ticket_posts_its_id_with_the_changed_fields(vendor: Vendor) -> None:
    vendor.needs_facts()
    if vendor.replay is not None:
        replay = replay_of("token", "references", "update_ticket")
        async with httpx.AsyncClient(transport=replay.transport()) as http:
            vendor.http = http
            ticket = await vendor.ticketing().update_ticket(
                "9499", TicketChange(status_id="9", owner_id="3"), idempotency_key="wb-1002"
            )
        assert ticket.closed and ticket.owner is not None and ticket.owner.name == "Admin"
        assert ticket.closed_at == datetime(2024, 6, 21, 8, 0, 3, 221000, tzinfo=UTC)
        return
    assert vendor.state is not None
    open_id = next(
        t["id"] for t in vendor.state.tickets.values() if t["status_id"] != CLOSED_STATUS
    )
    ticket = await vendor.ticketing().update_ticket(
        str(open_id), TicketChange(status_id="9", board_id="27"), idempotency_key="wb-5"
    )
    assert ticket.closed and ticket.board is not None and ticket.board.name == "Projects"
    assert vendor.state.tickets[open_id]["team"] == "Projects"


async def test_adding_a_note_posts_an_action_and_a_retry_finds_it(vendor: Vendor) -> None:
    vendor.needs_facts()
    text = "Escalated to the network team; waiting on the ISP."
    if vendor.replay is not None:
        replay = replay_of("token", "add_note")
        async with httpx.AsyncClient(transport=replay.transport()) as http:
            vendor.http = http
            note = await vendor.ticketing().add_note(
                "9499", text, internal=True, idempotency_key="wb-1003"
            )
        assert (note.id, note.ticket_id, note.text) == ("9499-5", "9499", text)
        assert note.internal and note.author == "Halo API Test" and not note.from_customer
        return
    assert vendor.state is not None
    ticket_id = str(min(vendor.state.tickets))
    first = await vendor.ticketing().add_note(ticket_id, text, internal=True, idempotency_key="a")
    retry = await vendor.ticketing().add_note(ticket_id, text, internal=True, idempotency_key="a")
    public = await vendor.ticketing().add_note(ticket_id, text, internal=False, idempotency_key="b")

    assert first == retry and public.id != first.id and not public.internal
    posted = [a for a in vendor.state.actions[int(ticket_id)] if a["note"] == text]
    assert [a["outcome"] for a in posted] == ["Private Note", "Email User"]


async def test_subscribing_registers_one_basic_auth_webhook(vendor: Vendor) -> None:
    vendor.needs_facts()
    receiver = "https://vectis.example/webhooks/halopsa/4f6c"
    secret = REPLAY_VALUES["webhook_secret"]
    if vendor.replay is not None:
        replay = replay_of("token", "register_webhook")
        async with httpx.AsyncClient(transport=replay.transport()) as http:
            vendor.http = http
            subscriptions = HaloWebhookSubscriptions(
                vendor.client(), HaloSettings.of(vendor.integration()), secret
            )
            assert await subscriptions.ensure_subscribed(receiver) == (
                "9a1b3c5d-7e9f-4a2b-8c4d-6e8f0a1b2c3d"
            )
        return
    assert vendor.state is not None
    subscriptions = HaloWebhookSubscriptions(
        vendor.client(), HaloSettings.of(vendor.integration()), secret
    )
    first = await subscriptions.ensure_subscribed(receiver)

    assert await subscriptions.ensure_subscribed(receiver) == first
    (webhook,) = vendor.state.webhooks.values()
    assert webhook["authentication_type"] == 1
    assert (webhook["basic_username"], webhook["basic_password"]) == ("vectis", secret)


# --- webhooks ---------------------------------------------------------------------------------

SECRET = REPLAY_VALUES["webhook_secret"]
RECEIVED = datetime(2024, 6, 21, 9, 12, 46, tzinfo=UTC)


def parser(max_age_hours: float = 24.0) -> HaloWebhooks:
    integration = Integration(
        id=uuid.uuid4(),
        tenant_id=uuid.uuid4(),
        vendor="halopsa",
        name="Halo",
        base_url=CLOUD,
        created_at=RECEIVED,
        settings={"webhook_max_age_hours": max_age_hours},
    )
    return HaloWebhooks(secret=SECRET, base_url=CLOUD, settings=HaloSettings.of(integration))


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def delivery() -> tuple[dict[str, str], bytes]:
    (recording,) = recorded("webhook_ticket_updated")
    headers = {**recording["headers"], "Authorization": basic("vectis", SECRET)}
    return headers, json.dumps(recording["body"]).encode()


async def test_an_authenticated_delivery_becomes_a_ticket_event() -> None:
    headers, body = delivery()

    (event,) = await parser().parse(headers, body, RECEIVED)

    assert event.kind == EventKind.TICKET_CLOSED
    assert (event.subject.system, event.subject.type, event.subject.id) == (
        "halopsa",
        "ticket",
        "9500",
    )
    assert event.company_ref == "12"
    assert event.title == "Ticket #9500 closed"
    assert event.occurred_at == datetime(2024, 6, 21, 9, 12, 44, 517000, tzinfo=UTC)
    assert event.external_id == "ticket.closed:9500:2024-06-21T09:12:44.517000+00:00"


@pytest.mark.parametrize(
    "authorization",
    [None, basic("vectis", "guess"), basic("someone", SECRET), "Bearer " + SECRET, "Basic !!"],
)
async def test_a_delivery_without_the_registered_credentials_is_rejected(
    authorization: str | None,
) -> None:
    headers, body = delivery()
    headers.pop("Authorization")
    if authorization is not None:
        headers["authorization"] = authorization

    with pytest.raises(WebhookRejected) as rejected:
        await parser().parse(headers, body, RECEIVED)
    assert not rejected.value.malformed


async def test_a_delivery_that_is_not_json_is_rejected_as_malformed() -> None:
    headers, _ = delivery()

    with pytest.raises(WebhookRejected) as rejected:
        await parser().parse(headers, b'{"ticket": {"id": 95', RECEIVED)
    assert rejected.value.malformed


async def test_a_replayed_old_delivery_is_rejected_as_stale() -> None:
    headers, body = delivery()

    with pytest.raises(WebhookRejected, match="stale"):
        await parser(max_age_hours=1).parse(headers, body, RECEIVED + timedelta(hours=2))


@pytest.mark.parametrize("ahead", [timedelta(minutes=6), timedelta(days=30)])
async def test_a_delivery_dated_ahead_of_our_clock_is_rejected(ahead: timedelta) -> None:
    headers, body = delivery()

    with pytest.raises(WebhookRejected, match="in the future") as rejected:
        await parser().parse(headers, body, RECEIVED - ahead)
    assert not rejected.value.malformed
    events = await parser().parse(headers, body, RECEIVED - timedelta(minutes=2))
    assert len(events) == 1, "a little clock drift is not the future"


@pytest.mark.parametrize(
    ("where", "value"),
    [
        ("timestamp", "99999-01-01T00:00:00Z"),
        ("timestamp", "-0001-01-01T00:00:00Z"),
        ("timestamp", "yesterday"),
        ("lastupdate", "2024-13-45T09:12:44Z"),
    ],
)
async def test_a_delivery_whose_time_is_no_time_is_rejected_as_malformed(
    where: str, value: str
) -> None:
    (recording,) = recorded("webhook_ticket_updated")
    document = json.loads(json.dumps(recording["body"]))
    (document if where == "timestamp" else document["ticket"])[where] = value
    headers, _ = delivery()

    with pytest.raises(WebhookRejected) as rejected:
        await parser().parse(headers, json.dumps(document).encode(), RECEIVED)
    assert rejected.value.malformed


@pytest.mark.parametrize(
    "body",
    [
        b"\xff\xfe\x00",
        b"[" * 100_000 + b"]" * 100_000,
        b'{"ticket_id": NaN}',
        b'{"ticket_id": "9500; DROP TABLE tickets"}',
        b'{"ticket_id": 1e30}',
        b'{"ticket": {"id": "nine", "summary": 5}}',
        b"[]",
        b'"ticket"',
    ],
)
async def test_an_authenticated_delivery_that_cannot_be_read_is_malformed(body: bytes) -> None:
    headers, _ = delivery()

    with pytest.raises(WebhookRejected) as rejected:
        await parser().parse(headers, body, RECEIVED)
    assert rejected.value.malformed


async def test_a_delivery_naming_only_a_ticket_id_asks_for_a_refetch() -> None:
    headers, _ = delivery()
    body = json.dumps({"ticket_id": 9499, "event": "Ticket Updated"}).encode()

    (event,) = await parser().parse(headers, body, RECEIVED)

    assert (event.kind, event.subject.id, event.occurred_at) == (
        EventKind.TICKET_UPDATED,
        "9499",
        RECEIVED,
    )
    assert event.payload == {"refetch": True}


async def test_the_sandbox_authenticates_deliveries_the_way_the_parser_checks_them() -> None:
    state = sandbox.seeded(build_world())
    state.base_url = CLOUD
    webhook = {
        "id": "w1",
        "url": "http://127.0.0.1:9/unused",
        "authentication_type": 1,
        "basic_username": "vectis",
        "basic_password": SECRET,
    }
    ticket = state.tickets[min(state.tickets)]
    body, headers = sandbox.webhook_delivery(webhook, "Ticket Updated", ticket)

    (event,) = await parser().parse(headers, body, datetime.now(UTC))

    assert event.subject.id == str(ticket["id"])
    assert event.company_ref == str(ticket["client_id"])


async def test_a_batched_delivery_yields_an_event_per_payload() -> None:
    headers, body = delivery()
    single = json.loads(body)
    batch = json.dumps([single, {"ticket_id": 9499}]).encode()

    events = await parser().parse(headers, batch, RECEIVED)

    assert [event.subject.id for event in events] == ["9500", "9499"]


# --- the sandbox as the demo uses it -----------------------------------------------------------


class Receiver:
    """A loopback endpoint that keeps what the sandbox's webhooks post to it."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        self.received.append((dict(req.headers), await req.stream.read()))


async def test_the_sandbox_pushes_ticket_changes_to_the_registered_webhook() -> None:
    receiver = Receiver()
    app = falcon.asgi.App()
    app.add_route("/hook", receiver)
    async with running() as state, serve_app(app) as hook_url, httpx.AsyncClient() as http:
        vendor = Vendor(
            mode="sandbox", http=http, base_url=state.base_url, credentials=state.credentials
        )
        settings = HaloSettings.of(vendor.integration())
        await HaloWebhookSubscriptions(vendor.client(), settings, SECRET).ensure_subscribed(
            f"{hook_url}/hook"
        )
        ticket = await vendor.ticketing().create_ticket(
            TicketDraft(company_id=state.company_ids["EdisonMfg"], summary="Press line PC down"),
            idempotency_key="wb-e2e",
        )
        for _ in range(200):
            if receiver.received:
                break
            await asyncio.sleep(0.02)

    ((headers, body),) = receiver.received
    (event,) = await parser().parse(headers, body, datetime.now(UTC))
    assert (event.kind, event.subject.id) == (EventKind.TICKET_OPENED, ticket.id)
    assert event.company_ref == state.company_ids["EdisonMfg"]


async def test_simulated_activity_reaches_an_incremental_sync() -> None:
    async with running() as state, httpx.AsyncClient() as http:
        vendor = Vendor(
            mode="sandbox", http=http, base_url=state.base_url, credentials=state.credentials
        )
        cursor = (await read_all(vendor.sync(), "tickets"))[-1].cursor
        notes_cursor = (await read_all(vendor.sync(), "notes"))[-1].cursor
        before = {key: ticket["last_update"] for key, ticket in state.tickets.items()}
        rng = random.Random(3)
        for _ in range(4):
            sandbox.simulate_activity(state, rng)
        touched = {
            str(key)
            for key, ticket in state.tickets.items()
            if before.get(key) != ticket["last_update"]
        }

        changed = records(await read_all(vendor.sync(), "tickets", cursor))
        notes = records(await read_all(vendor.sync(), "notes", notes_cursor))

    assert touched and touched <= {ticket.id for ticket in changed}
    replied = {note.ticket_id for note in notes if note.from_customer and note.ticket_id in touched}
    assert replied, "customers' replies arrive as notes"


async def test_a_note_on_a_missing_ticket_is_not_found() -> None:
    async with running() as state, httpx.AsyncClient() as http:
        vendor = Vendor(
            mode="sandbox", http=http, base_url=state.base_url, credentials=state.credentials
        )
        with pytest.raises(VendorNotFound):
            await vendor.ticketing().add_note("424242", "hello", internal=True, idempotency_key="x")


async def test_a_first_sync_reads_actions_of_recent_tickets_only() -> None:
    async with running() as state, httpx.AsyncClient() as http:
        vendor = Vendor(
            mode="sandbox", http=http, base_url=state.base_url, credentials=state.credentials
        )
        notes = records(await read_all(vendor.sync(notes_history_days=7), "notes"))

    week_ago = datetime.now(UTC) - timedelta(days=7)
    recent = {
        str(key)
        for key, ticket in state.tickets.items()
        if datetime.fromisoformat(ticket["last_update"].replace("Z", "+00:00")) >= week_ago
    }
    assert notes and {note.ticket_id for note in notes} <= recent
