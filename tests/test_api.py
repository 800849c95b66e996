"""The REST API: bearer tokens, problem details, tenant scoping, roles, write-back requests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import httpx
import pytest

from tests.conftest import TEST_SECRET_KEY, owner_connection
from tests.factories import add_connectwise, add_operator, make_tenant
from tests.http_client import hub_client
from vectis.application.services import Services
from vectis.container import Container
from vectis.domain.events import Event, EventKind
from vectis.domain.integration import Credentials
from vectis.domain.tenancy import Role


@pytest.fixture
def services(fake_services: Services) -> Services:
    """Most API checks need no PostgreSQL: the in-memory unit of work (tests/fakes.py). Tenant
    scoping (row-level security), the audit trail and keyset pages take ``real_services``."""
    return fake_services


@pytest.fixture
async def client(services: Services) -> httpx.AsyncClient:
    async with hub_client(services, TEST_SECRET_KEY) as client:
        yield client  # type: ignore[misc]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_token_reads_its_own_tenants_customers_only(
    real_services: Services, real_client: httpx.AsyncClient
) -> None:
    world = await make_tenant(real_services, customers=("Acme", "Birch"))
    await make_tenant(real_services, "Other IT", customers=("Hidden",))
    issued = await real_services.identity.issue_token(world.owner.email, name="reader")

    listing = await real_client.get("/api/v1/customers", headers=bearer(issued.secret))
    one = await real_client.get(
        f"/api/v1/customers/{world.customers[0].id}", headers=bearer(issued.secret)
    )

    assert listing.status_code == 200
    assert [item["name"] for item in listing.json()["items"]] == ["Acme", "Birch"]
    assert one.json()["name"] == "Acme"


async def test_another_tenants_customer_is_simply_not_found(
    real_services: Services, real_client: httpx.AsyncClient
) -> None:
    world = await make_tenant(real_services)
    other = await make_tenant(real_services, "Other IT", customers=("Hidden",))
    issued = await real_services.identity.issue_token(world.owner.email, name="reader")

    response = await real_client.get(
        f"/api/v1/customers/{other.customers[0].id}", headers=bearer(issued.secret)
    )

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 404


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ({}, "Bearer"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "Bearer"),
        ({"Authorization": "Bearer vectis_pat_nope"}, "not a well-formed"),
    ],
)
async def test_requests_without_a_valid_token_get_401_problem_details(
    client: httpx.AsyncClient, headers: dict[str, str], detail: str
) -> None:
    response = await client.get("/api/v1/me", headers=headers)

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith("Bearer")
    body = response.json()
    assert body["title"] == "Invalid access token" and detail in body["detail"]


async def test_a_revoked_token_stops_working_at_once(
    services: Services, client: httpx.AsyncClient
) -> None:
    world = await make_tenant(services)
    issued = await services.identity.issue_token(world.owner.email, name="leaked")
    assert (await client.get("/api/v1/me", headers=bearer(issued.secret))).status_code == 200

    await services.identity.revoke_token(secret=issued.secret)
    response = await client.get("/api/v1/me", headers=bearer(issued.secret))

    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


async def test_me_describes_the_token(services: Services, client: httpx.AsyncClient) -> None:
    world = await make_tenant(services)
    issued = await services.identity.issue_token(world.owner.email, name="ci", role=Role.TECH)

    body = (await client.get("/api/v1/me", headers=bearer(issued.secret))).json()

    assert body["tenant_id"] == str(world.tenant.id)
    assert body["role"] == "tech"
    assert body["actor"] == {"kind": "token", "label": f"{world.owner.email} (ci)"}


async def test_a_tech_requests_a_write_back_and_it_is_queued_and_audited(
    real_services: Services, real_client: httpx.AsyncClient
) -> None:
    world = await make_tenant(real_services)
    tech = await add_operator(real_services, world, "terry", Role.TECH)
    issued = await real_services.identity.issue_token(tech.email, name="automation")
    integration_id = str((await add_connectwise(real_services, world)).id)
    body = {
        "integration_id": integration_id,
        "action": {"type": "ticket.add_note", "ticket_id": "4821", "text": "On it."},
        "idempotency_key": "note-4821-1",
    }

    first = await real_client.post("/api/v1/writebacks", json=body, headers=bearer(issued.secret))
    again = await real_client.post("/api/v1/writebacks", json=body, headers=bearer(issued.secret))
    other = {**body, "action": {**body["action"], "text": "Something else."}}
    reused = await real_client.post("/api/v1/writebacks", json=other, headers=bearer(issued.secret))

    assert first.status_code == again.status_code == 202
    assert reused.status_code == 409, "a key sent with another change is refused, not dropped"
    assert first.json()["id"] == again.json()["id"]
    assert first.json()["status"] == "pending"
    assert first.headers["location"] == f"/api/v1/writebacks/{first.json()['id']}"
    fetched = await real_client.get(first.headers["location"], headers=bearer(issued.secret))
    assert fetched.json()["action"] == {
        "type": "ticket.add_note",
        "ticket_id": "4821",
        "text": "On it.",
        "internal": False,
    }
    audit = (await real_client.get("/api/v1/audit?limit=5", headers=bearer(issued.secret))).json()[
        "items"
    ]
    requested = [item for item in audit if item["action"] == "writeback.ticket.add_note"]
    assert len(requested) == 1, "asking twice with one idempotency key is one request"
    assert requested[0]["outcome"] == "requested"
    assert requested[0]["actor"]["kind"] == "token"


async def test_a_read_only_token_cannot_write_back(
    services: Services, client: httpx.AsyncClient
) -> None:
    world = await make_tenant(services)
    viewer = await add_operator(services, world, "vera", Role.READ_ONLY)
    issued = await services.identity.issue_token(viewer.email, name="dashboard")
    integration_id = str((await add_connectwise(services, world)).id)

    response = await client.post(
        "/api/v1/writebacks",
        json={
            "integration_id": integration_id,
            "action": {"type": "ticket.add_note", "ticket_id": "1", "text": "x"},
        },
        headers=bearer(issued.secret),
    )

    assert response.status_code == 403
    assert "read-only" in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (
            {
                "integration_id": "not-a-uuid",
                "action": {"type": "ticket.add_note", "ticket_id": "1", "text": "x"},
            },
            "integration_id",
        ),
        ({"action": {"type": "ticket.add_note", "ticket_id": "1", "text": "x"}}, "integration_id"),
        (
            {"integration_id": str(uuid4()), "action": {"type": "ticket.delete_everything"}},
            "action",
        ),
        (
            {
                "integration_id": str(uuid4()),
                "action": {"type": "ticket.add_note", "ticket_id": "1", "text": "x"},
                "admin": True,
            },
            "admin",
        ),
        (
            {
                "integration_id": str(uuid4()),
                "action": {"type": "ticket.add_note", "ticket_id": "1", "text": "   "},
            },
            "empty",
        ),
        (
            {"integration_id": str(uuid4()), "action": {"type": "ticket.update", "ticket_id": "1"}},
            "at least one field",
        ),
        (
            {
                "integration_id": str(uuid4()),
                "action": {"type": "ticket.create", "company_id": "19298", "summary": ""},
            },
            "summary",
        ),
        (
            {"integration_id": str(uuid4()), "action": {"type": "alert.reset"}},
            "alert_id",
        ),
    ],
)
async def test_invalid_write_back_requests_get_400_naming_the_problem(
    services: Services, client: httpx.AsyncClient, body: dict[str, object], detail: str
) -> None:
    world = await make_tenant(services)
    issued = await services.identity.issue_token(world.owner.email, name="ci")

    response = await client.post("/api/v1/writebacks", json=body, headers=bearer(issued.secret))

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert detail in response.json()["detail"]


@pytest.mark.parametrize(
    ("action", "detail"),
    [
        ({"type": "ticket.add_note", "ticket_id": "abc", "text": "x"}, "ticket id"),
        ({"type": "ticket.add_note", "ticket_id": "-1", "text": "x"}, "ticket id"),
        ({"type": "ticket.add_note", "ticket_id": "0", "text": "x"}, "ticket id"),
        ({"type": "ticket.add_note", "ticket_id": str(2**80), "text": "x"}, "ticket id"),
        (
            {"type": "ticket.add_note", "ticket_id": "1; DROP TABLE tickets", "text": "x"},
            "ticket id",
        ),
        ({"type": "ticket.add_note", "ticket_id": "1/notes", "text": "x"}, "ticket id"),
        ({"type": "ticket.add_note", "ticket_id": "\u00b2", "text": "x"}, "ticket id"),
        ({"type": "ticket.update", "ticket_id": "../../system", "status_id": "1"}, "ticket id"),
        ({"type": "ticket.create", "company_id": "x" * 100, "summary": "Hot"}, "company id"),
    ],
)
async def test_a_write_back_aimed_at_an_id_the_vendor_cannot_have_is_refused_at_once(
    services: Services,
    client: httpx.AsyncClient,
    database_url: str,
    action: dict[str, object],
    detail: str,
) -> None:
    world = await make_tenant(services)
    psa = await add_connectwise(services, world)
    issued = await services.identity.issue_token(world.owner.email, name="ci")

    response = await client.post(
        "/api/v1/writebacks",
        json={"integration_id": str(psa.id), "action": action},
        headers=bearer(issued.secret),
    )

    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert f"ConnectWise Manage {detail}" in response.json()["detail"]
    with owner_connection(database_url) as owner:
        assert owner.execute("SELECT count(*) FROM writebacks").fetchone() == (0,)


async def test_an_alert_reset_needs_an_alert_uid_of_ninjaones_form(
    services: Services, client: httpx.AsyncClient
) -> None:
    world = await make_tenant(services)
    rmm = await services.integrations.add(
        world.principal,
        vendor="ninjaone",
        name="NinjaOne",
        base_url="https://app.ninjarmm.com",
        credentials=Credentials(values={"client_id": "cid", "client_secret": "cs"}),
        test=False,
    )
    issued = await services.identity.issue_token(world.owner.email, name="ci")

    async def reset(alert_id: str) -> httpx.Response:
        return await client.post(
            "/api/v1/writebacks",
            json={
                "integration_id": str(rmm.id),
                "action": {"type": "alert.reset", "alert_id": alert_id},
            },
            headers=bearer(issued.secret),
        )

    refused = await reset("../device/7")
    accepted = await reset("50edcf11-de92-4ecb-955b-c8066488b6cc")

    assert refused.status_code == 400 and "NinjaOne RMM alert id" in refused.json()["detail"]
    assert accepted.status_code == 202


async def test_a_body_that_is_not_json_is_refused(
    services: Services, client: httpx.AsyncClient
) -> None:
    world = await make_tenant(services)
    issued = await services.identity.issue_token(world.owner.email, name="ci")

    response = await client.post(
        "/api/v1/writebacks",
        content=b"{not json",
        headers={**bearer(issued.secret), "Content-Type": "application/json"},
    )

    assert response.status_code == 400
    assert "not valid JSON" in response.json()["detail"]


async def test_a_write_back_for_an_unknown_integration_is_404(
    services: Services, client: httpx.AsyncClient
) -> None:
    world = await make_tenant(services)
    issued = await services.identity.issue_token(world.owner.email, name="ci")

    response = await client.post(
        "/api/v1/writebacks",
        json={
            "integration_id": str(uuid4()),
            "action": {"type": "ticket.add_note", "ticket_id": "1", "text": "x"},
        },
        headers=bearer(issued.secret),
    )

    assert response.status_code == 404


async def test_the_openapi_document_lists_every_api_route(client: httpx.AsyncClient) -> None:
    document = (await client.get("/api/v1/openapi.json")).json()
    app = client._transport.app  # type: ignore[attr-defined]
    routes = {
        route.uri_template.removeprefix("/api/v1").replace(":uuid", "")
        for route in _routes(app)
        if route.uri_template.startswith("/api/v1/")
    }
    assert document["openapi"].startswith("3.1")
    assert set(document["paths"]) == routes


def _routes(app: object) -> list[object]:
    found: list[object] = []

    def walk(nodes: list[object]) -> None:
        for node in nodes:
            if getattr(node, "resource", None) is not None:
                found.append(node)
            walk(getattr(node, "children", []) or [])

    walk(app._router._roots)  # type: ignore[attr-defined]
    return found


async def test_a_customers_timeline_pages_by_keyset_and_filters(
    real_services: Services, real_client: httpx.AsyncClient, container: Container
) -> None:
    world = await make_tenant(real_services)
    customer = world.customers[0]
    now = datetime.now(UTC).replace(microsecond=0)
    async with container.uow()(world.tenant.id) as uow:
        await uow.events.append(
            [
                Event(
                    tenant_id=world.tenant.id,
                    customer_id=customer.id,
                    source="ninjaone" if n % 2 else "connectwise",
                    kind=EventKind.ALERT_RAISED if n % 2 else EventKind.TICKET_OPENED,
                    occurred_at=now - timedelta(hours=n),
                    title=f"entry {n}",
                )
                for n in range(25)
            ]
        )
        await uow.commit()
    issued = await real_services.identity.issue_token(world.owner.email, name="reader")
    url = f"/api/v1/customers/{customer.id}/timeline"

    titles: list[str] = []
    params: dict[str, str] = {"limit": "10"}
    while True:
        page = (await real_client.get(url, params=params, headers=bearer(issued.secret))).json()
        titles += [item["title"] for item in page["items"]]
        if page["next"] is None:
            break
        params = {"limit": "10", "after": page["next"]}
    alerts = await real_client.get(
        url,
        params={"topic": "alerts", "since": (now - timedelta(hours=5)).isoformat()},
        headers=bearer(issued.secret),
    )
    naive = await real_client.get(
        url, params={"since": "2026-01-01T00:00:00"}, headers=bearer(issued.secret)
    )

    largest = await real_client.get(url, params={"limit": "500"}, headers=bearer(issued.secret))
    too_large = await real_client.get(url, params={"limit": "501"}, headers=bearer(issued.secret))

    assert largest.status_code == 200, "the documented maximum page size is served"
    assert len(largest.json()["items"]) == 25
    assert too_large.status_code == 400
    assert titles == [f"entry {n}" for n in range(25)]
    assert [item["title"] for item in alerts.json()["items"]] == ["entry 1", "entry 3", "entry 5"]
    assert naive.status_code == 400 and "time zone" in naive.json()["detail"]


async def test_a_note_retried_with_its_idempotency_key_is_written_once(
    services: Services, client: httpx.AsyncClient
) -> None:
    world = await make_tenant(services)
    writer = await services.identity.issue_token(world.owner.email, name="notes")
    base = f"/api/v1/customers/{world.customers[0].id}/notes"
    headers = {**bearer(writer.secret), "Idempotency-Key": "note-7c1"}

    first, again = [
        await client.post(base, json={"body": "Alarm code 1234"}, headers=headers) for _ in range(2)
    ]
    other_text = await client.post(base, json={"body": "Alarm code 9999"}, headers=headers)
    too_long = await client.post(
        base,
        json={"body": "x"},
        headers={**bearer(writer.secret), "Idempotency-Key": "k" * 101},
    )

    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert other_text.status_code == 409
    assert other_text.headers["content-type"].startswith("application/problem+json")
    assert too_long.status_code == 400 and "Idempotency-Key" in too_long.json()["detail"]
    listing = await client.get(base, headers=bearer(writer.secret))
    assert [item["body"] for item in listing.json()["items"]] == ["Alarm code 1234"]


async def test_notes_are_written_edited_and_read_with_their_history_over_the_api(
    services: Services, client: httpx.AsyncClient
) -> None:
    world = await make_tenant(services)
    other = await make_tenant(services, "Other IT", customers=("Hidden",))
    viewer = await add_operator(services, world, "riley", Role.READ_ONLY)
    writer = await services.identity.issue_token(world.owner.email, name="notes")
    reader = await services.identity.issue_token(viewer.email, name="reader")
    base = f"/api/v1/customers/{world.customers[0].id}/notes"

    created = await client.post(
        base, json={"body": "Door code 4411", "format": "text"}, headers=bearer(writer.secret)
    )
    note_url = created.headers["location"]
    edited = await client.put(
        note_url,
        json={"body": "Door code **9902**", "format": "markdown"},
        headers=bearer(writer.secret),
    )
    one = await client.get(note_url, headers=bearer(reader.secret))
    listing = await client.get(base, headers=bearer(reader.secret))
    refused = await client.post(base, json={"body": "x"}, headers=bearer(reader.secret))
    extra = await client.post(
        base, json={"body": "x", "pinned": True}, headers=bearer(writer.secret)
    )
    elsewhere = await client.get(
        note_url.replace(str(world.customers[0].id), str(other.customers[0].id)),
        headers=bearer(writer.secret),
    )

    assert created.status_code == 201 and created.json()["revision"] == 1
    assert edited.json()["revision"] == 2 and edited.json()["format"] == "markdown"
    assert [r["body"] for r in one.json()["revisions"]] == ["Door code **9902**", "Door code 4411"]
    assert [item["body"] for item in listing.json()["items"]] == ["Door code **9902**"]
    assert refused.status_code == 403
    assert extra.status_code == 400 and "pinned" in extra.json()["detail"]
    assert elsewhere.status_code == 404
