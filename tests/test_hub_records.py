"""The hub's customer page over real synced data: sandboxed HaloPSA and NinjaOne, synced over
HTTP into PostgreSQL; an operator opens a ticket and acknowledges an alert, and the audit log
shows both; a read-only operator sees and may do neither."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from uuid import UUID

import httpx
import pytest

from tests.conftest import TEST_SECRET_KEY
from tests.factories import PASSWORD, World, add_operator, seed_synced_customer
from tests.http_client import csrf_token, hub_client, sign_in
from vectis.application.services import Services
from vectis.container import Container
from vectis.domain.events import EventKind
from vectis.domain.integration import Integration
from vectis.domain.listing import ListQuery
from vectis.domain.records import SlaState
from vectis.domain.tenancy import Role
from vectis.domain.timeline import TimelineQuery, Topic
from vectis.domain.writeback import WriteBackStatus
from vectis_sandbox.server import Sandbox, SandboxHost
from vectis_sandbox.world import build_world


@pytest.fixture
def sandbox(sandbox_servers: SandboxHost) -> Iterator[Sandbox]:
    world = build_world(tickets_per_company=6)  # small: these tests are about the hub
    with sandbox_servers.seeded(world, vendors=("halopsa", "ninjaone")) as sandbox:
        yield sandbox


@pytest.fixture
async def client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    async with hub_client(services, TEST_SECRET_KEY) as client:
        yield client


async def _synced(services: Services, sandbox: Sandbox) -> tuple[World, dict[str, Integration]]:
    seeded = await seed_synced_customer(services, sandbox)
    return seeded.world, seeded.integrations


async def test_the_customer_page_shows_what_every_connector_synced(
    services: Services, sandbox: Sandbox, client: httpx.AsyncClient
) -> None:
    world, _ = await _synced(services, sandbox)
    await sign_in(client, world.owner.email, PASSWORD)

    base = f"/customers/{world.customers[0].id}"
    overview, tickets, devices_tab, contracts = [
        await client.get(base + tab) for tab in ("", "/tickets", "/devices", "/contracts")
    ]

    assert {overview.status_code, tickets.status_code, devices_tab.status_code} == {200}
    open_tickets = [
        t for t in sandbox.world.tickets if t.company == "DrexelDental" and not t.closed
    ]
    assert re.search(
        rf'Open tickets</a></h3>\s*<p class="figure">{len(open_tickets)}</p>', overview.text
    )
    assert all(ticket.summary in tickets.text for ticket in open_tickets)
    devices = [d for d in sandbox.world.devices if d.company == "DrexelDental"]
    assert all(device.name in devices_tab.text for device in devices)
    assert "New ticket in HaloPSA (sandbox)" in tickets.text
    assert "Managed Services" in contracts.text


async def test_tickets_show_their_sla_and_the_breached_filter_agrees_with_the_badges(
    services: Services, sandbox: Sandbox, client: httpx.AsyncClient
) -> None:
    world, _ = await _synced(services, sandbox)
    await sign_in(client, world.owner.email, PASSWORD)
    base = f"/customers/{world.customers[0].id}"
    now = datetime.now(UTC)
    listed = await services.hub.tickets(
        world.principal,
        ListQuery(customer_id=world.customers[0].id, sort="updated", filters={}, limit=200),
    )
    states = {held.record.id: held.record.sla_state(now) for held in listed.rows if held.record.sla}
    breached_open = {
        held.record.id
        for held in listed.rows
        if not held.record.closed and states.get(held.record.id) == SlaState.BREACHED
    }
    assert len(states) == len(listed.rows), "every sandbox ticket has an SLA"
    assert breached_open and set(states.values()) >= {SlaState.BREACHED, SlaState.MET}

    tab, filtered, overview, refused = [
        await client.get(base + path)
        for path in (
            "/tickets?state=all",
            "/tickets?state=all&sla=breached",
            "",
            "/tickets?sla=late",
        )
    ]

    assert tab.text.count('<span class="badge warn">Breached</span>') == sum(
        state == SlaState.BREACHED for state in states.values()
    )
    assert set(re.findall(r'href="/tickets/[0-9a-f-]+/(\d+)"', filtered.text)) == breached_open
    assert f"{len(breached_open)} past an SLA target" in overview.text
    assert refused.status_code == 400 and "SLA filter" in refused.text


async def test_each_ninjaone_alert_is_raised_once_in_the_timeline(
    services: Services, sandbox: Sandbox
) -> None:
    """The alert listing and the activity feed both report a raised alert; the timeline (and
    the overview's alerts-per-day chart, which counts the same events) shows it once."""
    world, _ = await _synced(services, sandbox)

    page = await services.timeline.page(
        world.principal,
        TimelineQuery(
            customer_id=world.customers[0].id,
            sources=frozenset({"ninjaone"}),
            topics=frozenset({Topic.ALERTS}),
            limit=200,
        ),
    )

    raised = [entry for entry in page.entries if entry.kind == EventKind.ALERT_RAISED]
    reset = [entry for entry in page.entries if entry.kind == EventKind.ALERT_RESET]
    alerts = [alert for alert in sandbox.world.alerts if alert.company == "DrexelDental"]
    assert alerts and page.next is None
    assert sorted(entry.subject.id for entry in raised if entry.subject) == sorted(
        alert.uid for alert in alerts
    )
    assert sorted(entry.subject.id for entry in reset if entry.subject) == sorted(
        alert.uid for alert in alerts if alert.reset_at is not None
    )


async def test_an_operator_opens_a_ticket_and_acknowledges_an_alert_with_audit_entries(
    services: Services, sandbox: Sandbox, client: httpx.AsyncClient
) -> None:
    world, integrations = await _synced(services, sandbox)
    customer = world.customers[0].id
    await sign_in(client, world.owner.email, PASSWORD)
    page = await client.get(f"/customers/{customer}/alerts")
    token = csrf_token(page.text)

    created = await client.post(
        f"/customers/{customer}/tickets/new",
        data={
            "csrf_token": token,
            "integration_id": str(integrations["halopsa"].id),
            "summary": "Replace the reception <b>printer</b>",
            "description": "Paper jams daily.",
        },
    )
    alert = re.search(r'action="/alerts/([0-9a-f-]+)/([^/"]+)/acknowledge"', page.text)
    assert alert, "an active alert has an Acknowledge button"
    acknowledged = await client.post(
        alert.group(0).split('"')[1],
        data={"csrf_token": token, "back": f"/customers/{customer}"},
    )

    assert created.status_code == acknowledged.status_code == 303
    for response in (created, acknowledged):
        writeback_id = response.headers["location"].split("/writebacks/")[1].split("?")[0]
        pending = await client.get(response.headers["location"])
        assert "Waiting to run" in pending.text and 'http-equiv="refresh"' in pending.text
        done = await services.writebacks.perform(world.tenant.id, UUID(writeback_id))
        assert done.status is WriteBackStatus.SUCCEEDED, done.error
        finished = await client.get(response.headers["location"])
        assert "Done." in finished.text and "refresh" not in finished.text
    halo = sandbox.state("halopsa")
    assert any(
        t.get("summary") == "Replace the reception <b>printer</b>" for t in halo.tickets.values()
    )
    assert alert.group(2) not in sandbox.state("ninjaone").alerts
    audit = await client.get("/audit")
    assert "writeback.ticket.create" in audit.text and "writeback.alert.reset" in audit.text
    assert "<b>printer</b>" not in audit.text, "vendor-bound text renders inert"


async def test_a_read_only_operator_sees_no_actions_and_is_refused_them(
    services: Services, sandbox: Sandbox, client: httpx.AsyncClient
) -> None:
    world, integrations = await _synced(services, sandbox)
    viewer = await add_operator(services, world, "riley", Role.READ_ONLY)
    customer = world.customers[0].id
    await sign_in(client, viewer.email, PASSWORD)

    page = await client.get(f"/customers/{customer}/alerts")
    tickets = await client.get(f"/customers/{customer}/tickets")
    refused = await client.post(
        f"/customers/{customer}/tickets/new",
        data={
            "csrf_token": csrf_token(page.text),
            "integration_id": str(integrations["halopsa"].id),
            "summary": "Should not happen",
        },
    )

    assert '<span class="severity' in page.text, "the alerts are listed, without actions"
    assert "Acknowledge" not in page.text and "New ticket in" not in tickets.text
    assert refused.status_code == 403


async def test_the_integrations_page_shows_sync_runs_and_confirms_a_suggested_mapping(
    services: Services, sandbox: Sandbox, client: httpx.AsyncClient
) -> None:
    world, integrations = await _synced(services, sandbox)
    await services.tenancy.add_customer(world.tenant.id, name="Coast Logistics Ltd")
    await sign_in(client, world.owner.email, PASSWORD)
    halo = integrations["halopsa"]

    page = await client.get(f"/integrations/{halo.id}")

    assert page.status_code == 200
    assert "succeeded" in page.text
    assert re.search(r"Suggested: Coast Logistics Ltd", page.text)
    company = next(
        ref for ref, name in sandbox.accounts[0].companies.items() if name == "Coast Logistics"
    )
    customers = {c.name: c.id for c in await services.tenancy.list_customers(world.principal)}
    linked = await client.post(
        f"/integrations/{halo.id}",
        data={
            "csrf_token": csrf_token(page.text),
            "action": "link",
            "company_id": company,
            "customer_id": str(customers["Coast Logistics Ltd"]),
        },
    )
    assert linked.status_code == 303
    suggestions = await services.integrations.suggest_links(world.principal, halo.id)
    coast = next(s for s in suggestions if s.company.id == company)
    assert coast.confirmed and coast.customer_id == customers["Coast Logistics Ltd"]


async def test_confirming_a_company_with_no_customer_chosen_says_so_and_links_nothing(
    services: Services, sandbox: Sandbox, client: httpx.AsyncClient
) -> None:
    world, integrations = await _synced(services, sandbox)
    await sign_in(client, world.owner.email, PASSWORD)
    halo = integrations["halopsa"]
    page = await client.get(f"/integrations/{halo.id}")
    assert "Choose a customer…" in page.text, "a company with no match preselects no one"
    before = await services.integrations.suggest_links(world.principal, halo.id)
    unmatched = next(s for s in before if not s.confirmed and s.customer_id is None)

    refused = await client.post(
        f"/integrations/{halo.id}",
        data={
            "csrf_token": csrf_token(page.text),
            "action": "link",
            "company_id": unmatched.company.id,
            "customer_id": "",
        },
    )

    assert refused.status_code == 400
    assert "Choose which Vectis customer the company is before you confirm it." in refused.text
    assert world.tenant.name in refused.text, "the page keeps the tenant's brand"
    after = await services.integrations.suggest_links(world.principal, halo.id)
    assert [s.confirmed for s in after] == [s.confirmed for s in before]


async def test_new_credentials_are_tested_before_they_replace_the_old_ones(
    services: Services, sandbox: Sandbox, client: httpx.AsyncClient, container: Container
) -> None:
    world, integrations = await _synced(services, sandbox)
    halo = integrations["halopsa"]
    await sign_in(client, world.owner.email, PASSWORD)
    page = await client.get(f"/integrations/{halo.id}")
    account = next(a for a in sandbox.accounts if a.vendor == "halopsa")
    form = {
        "csrf_token": csrf_token(page.text),
        "action": "connection",
        "base_url": account.base_url,
        **{f"credential_{key}": value for key, value in account.credentials.items()},
    }
    async with container.uow()(world.tenant.id) as uow:
        before = await services.integrations.open_credentials(uow, halo.id)

    refused = await client.post(
        f"/integrations/{halo.id}", data={**form, "credential_client_secret": "wrong"}
    )
    saved = await client.post(f"/integrations/{halo.id}", data=form)

    assert refused.status_code == 502 and "refused the client credentials" in refused.text
    assert saved.status_code == 303
    async with container.uow()(world.tenant.id) as uow:
        after = await services.integrations.open_credentials(uow, halo.id)
    assert after["webhook_secret"] == before["webhook_secret"], "the vendor's webhooks go on"
    assert "Change the address or credentials" in page.text


async def test_a_ticket_is_replied_to_and_reprioritised_from_its_page(
    services: Services, sandbox: Sandbox, client: httpx.AsyncClient
) -> None:
    world, _ = await _synced(services, sandbox)
    await sign_in(client, world.owner.email, PASSWORD)
    customer = await client.get(f"/customers/{world.customers[0].id}/tickets")
    link = re.search(r'href="(/tickets/[0-9a-f-]+/([^"]+))"', customer.text)
    assert link, "open tickets link to their page"
    page = await client.get(link.group(1))
    priorities = re.search(r'<select name="priority_id">(.*?)</select>', page.text)
    assert priorities and "selected" in priorities.group(1)
    other = next(
        value
        for value, attributes in re.findall(r'<option value="([^"]+)"([^>]*)>', priorities.group(1))
        if "selected" not in attributes
    )
    token = csrf_token(page.text)

    replied = await client.post(link.group(1), data={"csrf_token": token, "text": "On our way."})
    changed = await client.post(
        link.group(1),
        data={
            "csrf_token": token,
            "action": "change",
            "priority_id": other,
            **{
                name: value
                for name, value in re.findall(
                    r'<select name="(status_id|board_id|owner_id)">.*?<option value="([^"]*)"[^>]*selected',
                    page.text,
                )
            },
        },
    )

    for response in (replied, changed):
        writeback_id = UUID(response.headers["location"].split("/writebacks/")[1].split("?")[0])
        done = await services.writebacks.perform(world.tenant.id, writeback_id)
        assert done.status is WriteBackStatus.SUCCEEDED, done.error
    update = await services.writebacks.get(world.principal, writeback_id)
    assert update.action.priority_id == other  # type: ignore[union-attr]
    assert update.action.status_id is None, "only what the operator changed is sent"  # type: ignore[union-attr]
    halo = sandbox.state("halopsa").tickets[int(link.group(2))]
    assert str(halo["priority_id"]) == other


def _submission_key(html: str) -> str:
    match = re.search(r'name="submission_key" value="([^"]+)"', html)
    assert match, "the form carries a one-time submission key"
    return match.group(1)


async def test_a_new_ticket_form_sent_twice_opens_one_ticket(
    services: Services, sandbox: Sandbox, client: httpx.AsyncClient
) -> None:
    world, integrations = await _synced(services, sandbox)
    customer = world.customers[0].id
    await sign_in(client, world.owner.email, PASSWORD)
    page = await client.get(f"/customers/{customer}/tickets")
    form = {
        "csrf_token": csrf_token(page.text),
        "submission_key": _submission_key(page.text),
        "integration_id": str(integrations["halopsa"].id),
        "summary": "Scanner offline after the update",
    }

    first, second = [
        await client.post(f"/customers/{customer}/tickets/new", data=form) for _ in range(2)
    ]
    edited = await client.post(
        f"/customers/{customer}/tickets/new", data={**form, "summary": "Something else"}
    )

    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"], "one write-back"
    writeback_id = UUID(first.headers["location"].split("/writebacks/")[1].split("?")[0])
    done = await services.writebacks.perform(world.tenant.id, writeback_id)
    assert done.status is WriteBackStatus.SUCCEEDED, done.error
    halo = sandbox.state("halopsa").tickets.values()
    assert [t["summary"] for t in halo].count("Scanner offline after the update") == 1
    assert edited.status_code == 409 and "Open the form afresh" in edited.text
    assert not any(t["summary"] == "Something else" for t in halo)
    assert _submission_key(page.text) != _submission_key((await client.get(page.url)).text)


async def test_a_customer_note_sent_twice_is_written_once(
    services: Services, sandbox: Sandbox, client: httpx.AsyncClient
) -> None:
    world, _ = await _synced(services, sandbox)
    customer = world.customers[0].id
    await sign_in(client, world.owner.email, PASSWORD)
    page = await client.get(f"/customers/{customer}/notes")
    form = {
        "csrf_token": csrf_token(page.text),
        "submission_key": _submission_key(page.text),
        "body": "Front door code changed to 4471",
    }

    sent = [await client.post(f"/customers/{customer}/notes", data=form) for _ in range(2)]

    assert [response.status_code for response in sent] == [303, 303]
    assert sent[0].headers["location"] == sent[1].headers["location"]
    notes = await services.timeline.notes(world.principal, customer)
    assert [note.body for note in notes].count("Front door code changed to 4471") == 1
