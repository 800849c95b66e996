"""Input at the HTTP edge: NUL and lone surrogates, strict JSON, length caps, signed page
cursors and same-site redirects, each refused with a clear 400 (problem details for the API,
the branded page for the hub), never a 500."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import httpx
import pytest

from tests.conftest import TEST_SECRET_KEY
from tests.factories import PASSWORD, World, add_connectwise, make_tenant, store_records
from tests.http_client import csrf_token, hub_client, sign_in
from vectis.application.services import Services
from vectis.container import Container
from vectis.domain.integration import WEBHOOK_SECRET, Credentials
from vectis.domain.listing import ListPosition
from vectis.domain.records import Named, Ticket
from vectis.domain.timeline import TimelinePosition
from vectis.domain.writeback import AddTicketNote
from vectis.entrypoints.http.edge import nests_deeper_than

NOW = datetime.now(UTC).replace(microsecond=0)
JSON = {"Content-Type": "application/json"}
HOSTILE_TARGETS = [
    "//evil.example/",
    "/\\evil.example/",
    "/%5Cevil.example/",
    "/%09/evil.example/",
    "/\t/evil.example/",
    "/\r\n/evil.example/",
    "https://evil.example/",
    "javascript:alert(1)",
    "evil.example",
    "/%2F/evil.example/",
]


@pytest.fixture
def services(fake_services: Services) -> Services:
    """The edge refuses input before any repository could matter: these tests run on the
    in-memory unit of work (tests/fakes.py), except the one that pages real listings."""
    return fake_services


@pytest.fixture
async def client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    async with hub_client(services, TEST_SECRET_KEY) as client:
        yield client


@pytest.fixture
async def world(services: Services) -> World:
    return await make_tenant(services)


@pytest.fixture
async def token(services: Services, world: World) -> dict[str, str]:
    issued = await services.identity.issue_token(world.owner.email, name="edge")
    return {"Authorization": f"Bearer {issued.secret}"}


def _problem(response: httpx.Response, status: int = 400) -> str:
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"] == "application/problem+json"
    detail: str = response.json()["detail"]
    return detail


# NUL characters and lone surrogates ---------------------------------------------------------


async def test_a_nul_in_a_query_parameter_is_a_400_naming_it(
    client: httpx.AsyncClient, token: dict[str, str]
) -> None:
    response = await client.get("/api/v1/customers?search=a%00b", headers=token)

    assert "'search' contains a NUL character" in _problem(response)


async def test_a_nul_or_a_lone_surrogate_in_a_json_string_is_a_400(
    client: httpx.AsyncClient, world: World, token: dict[str, str]
) -> None:
    url = f"/api/v1/customers/{world.customers[0].id}/notes"

    nul = await client.post(url, content=b'{"body": "a\\u0000b"}', headers=token | JSON)
    lone = await client.post(url, content=b'{"body": "a\\ud800b"}', headers=token | JSON)
    key = await client.post(url, content=b'{"\\u0000": "x"}', headers=token | JSON)

    assert "body.body contains a NUL character" in _problem(nul)
    assert "body.body contains a lone surrogate" in _problem(lone)
    assert "a key of body contains a NUL character" in _problem(key)


async def test_a_nul_in_a_hub_form_field_or_path_is_the_branded_400_page(
    services: Services, client: httpx.AsyncClient, world: World
) -> None:
    integration = await add_connectwise(services, world)
    await sign_in(client, world.owner.email, PASSWORD)
    notes = await client.get(f"/customers/{world.customers[0].id}/notes")

    posted = await client.post(
        f"/customers/{world.customers[0].id}/notes",
        data={"csrf_token": csrf_token(notes.text), "body": "door\x00code", "format": "text"},
    )
    ticket = await client.get(f"/tickets/{integration.id}/12%0034")

    for response in (posted, ticket):
        assert response.status_code == 400
        assert response.headers["content-type"].startswith("text/html")
        assert "contains a NUL character" in response.text
    assert await services.timeline.notes(world.principal, world.customers[0].id) == []


async def test_a_control_character_in_a_header_value_is_a_400(
    client: httpx.AsyncClient, token: dict[str, str]
) -> None:
    headers = {b"Authorization": token["Authorization"].encode(), b"X-Request-Id": b"a\x00b"}

    response = await client.get("/api/v1/me", headers=headers)

    assert "header contains a control character" in _problem(response)


# JSON bodies ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[]", "must be a JSON object"),
        (b'"a note"', "must be a JSON object"),
        (b"null", "must be a JSON object"),
        (b'{"body": 42}', "expected a string, got a number @ body.body"),
        (b'{"body": null}', "expected a string, got null @ body.body"),
        (b'{"body": ["a"]}', "expected a string, got an array @ body.body"),
        (b'{"body": "x", "format": 1}', 'expected one of "text", "markdown" @ body.format'),
        (b'{"body": "x", "format": "html"}', 'expected one of "text", "markdown" @ body.format'),
        (b'{"body": "x", "extra": 1}', "extra fields found (extra)"),
        (b'{"body": ', "not valid JSON"),
        (b'{"body": NaN}', "not valid JSON"),
        (b'{"body": "\xff"}', "not valid JSON"),
        (b'{"body": ' + b"[" * 33 + b"]" * 33 + b"}", "nested deeper than 32 levels"),
        (b"[" * 100_000 + b"]" * 100_000, "nested deeper than 32 levels"),
    ],
)
async def test_a_json_body_of_the_wrong_shape_or_type_is_a_400(
    client: httpx.AsyncClient, world: World, token: dict[str, str], body: bytes, message: str
) -> None:
    url = f"/api/v1/customers/{world.customers[0].id}/notes"

    response = await client.post(url, content=body, headers=token | JSON)

    assert message in _problem(response)


async def test_write_back_fields_are_not_coerced_from_other_types(
    services: Services, client: httpx.AsyncClient, world: World, token: dict[str, str]
) -> None:
    integration = await add_connectwise(services, world)
    action = {"type": "ticket.add_note", "ticket_id": 4821, "text": "x", "internal": "yes"}

    response = await client.post(
        "/api/v1/writebacks",
        json={"integration_id": str(integration.id), "action": action},
        headers=token,
    )

    detail = _problem(response)
    assert "expected a string, got a number @ body.action.ticket_id" in detail
    assert "expected true or false, got a string @ body.action.internal" in detail


async def test_a_body_that_is_not_json_is_415_and_one_over_a_mebibyte_413(
    client: httpx.AsyncClient, world: World, token: dict[str, str]
) -> None:
    url = f"/api/v1/customers/{world.customers[0].id}/notes"
    big = json.dumps({"body": "x" * 1_048_576}).encode()

    plain = await client.post(url, content=b"body", headers=token | {"Content-Type": "text/plain"})
    large = await client.post(url, content=big, headers=token | JSON)

    assert "application/json" in _problem(plain, 415)
    assert "1 MiB" in _problem(large, 413)


# Lengths ------------------------------------------------------------------------------------


async def test_an_over_long_idempotency_key_is_refused_before_it_reaches_its_index(
    services: Services, client: httpx.AsyncClient, world: World, token: dict[str, str]
) -> None:
    integration = await add_connectwise(services, world)
    body = {
        "integration_id": str(integration.id),
        "action": {"type": "ticket.add_note", "ticket_id": "4821", "text": "On it."},
        "idempotency_key": "ü" * 3000,
    }

    response = await client.post("/api/v1/writebacks", json=body, headers=token)

    assert "idempotency_key" in _problem(response) and "<= 100" in _problem(response)


async def test_over_long_query_values_and_json_strings_are_refused(
    client: httpx.AsyncClient, world: World, token: dict[str, str]
) -> None:
    query = await client.get(f"/api/v1/customers?search={'x' * 2001}", headers=token)
    note = await client.post(
        f"/api/v1/customers/{world.customers[0].id}/notes",
        json={"body": "x", "format": "t" * 20_001},
        headers=token,
    )

    assert "longer than 2,000 characters" in _problem(query)
    assert "body.format is longer than 20,000 characters" in _problem(note)


@pytest.mark.parametrize("limit", ["99999999999999999999", "-1", "0", "ten"])
async def test_an_out_of_range_limit_is_a_400(
    client: httpx.AsyncClient, world: World, token: dict[str, str], limit: str
) -> None:
    url = f"/api/v1/customers/{world.customers[0].id}/timeline?limit={limit}"

    assert "limit" in _problem(await client.get(url, headers=token))


# Page cursors -------------------------------------------------------------------------------


async def _many_tickets(services: Services, container: Container, world: World) -> None:
    psa = await add_connectwise(services, world)
    customer = world.customers[0]
    await services.integrations.link_customer(world.principal, psa.id, "ACME", customer.id)
    tickets = [
        Ticket(
            id=str(1000 + n),
            company_id="ACME",
            number=str(1000 + n),
            summary=f"Printer problem {n:02d}",
            opened_at=NOW - timedelta(days=n),
            updated_at=NOW - timedelta(hours=n),
            status=Named(id="s1", name="New"),
        )
        for n in range(60)
    ]
    async with container.uow()(world.tenant.id) as uow:
        await store_records(
            uow, psa.id, tickets, {ticket.id: customer.id for ticket in tickets}, NOW
        )
        await uow.commit()


async def test_only_a_cursor_the_server_issued_for_that_table_and_sort_is_accepted(
    container: Container,
) -> None:
    # Real PostgreSQL: the cursor must page the listing itself.
    services = container.services()
    world = await make_tenant(services)
    await _many_tickets(services, container, world)
    async with hub_client(services, TEST_SECRET_KEY) as client:
        await sign_in(client, world.owner.email, PASSWORD)
        base = f"/customers/{world.customers[0].id}/tickets"
        first = await client.get(f"{base}?sort=summary&dir=asc")
        issued = re.search(r'rel="next" href="[^"]*after=([^"&]+)', first.text)
        assert issued, "60 tickets do not fit on one page"
        cursor = issued.group(1)
        forged = ListPosition(value="x", integration_id=uuid4(), vendor_id="\x00" * 3).encode()

        following = await client.get(f"{base}?sort=summary&dir=asc&after={cursor}")
        other_sort = await client.get(f"{base}?sort=updated&after={cursor}")
        unsigned = await client.get(f"{base}?sort=summary&after={forged}")
        tampered = await client.get(f"{base}?sort=summary&after={forged}.{cursor.split('.')[-1]}")

    assert following.status_code == 200 and "Printer problem 50" in following.text
    for refused in (other_sort, unsigned, tampered):
        assert refused.status_code == 400
        assert "page link is not valid" in refused.text


async def test_the_api_timeline_refuses_a_cursor_it_did_not_issue(
    client: httpx.AsyncClient, world: World, token: dict[str, str]
) -> None:
    forged = TimelinePosition(occurred_at=NOW, event_id=1).encode()
    url = f"/api/v1/customers/{world.customers[0].id}/timeline"

    response = await client.get(f"{url}?after={forged}", headers=token)

    assert "page link is not valid" in _problem(response)


# Redirects ----------------------------------------------------------------------------------


@pytest.mark.parametrize("target", HOSTILE_TARGETS)
async def test_sign_in_never_sends_anyone_off_site(
    client: httpx.AsyncClient, world: World, target: str
) -> None:
    form = await client.get("/login", params={"next": target})
    response = await client.post(
        "/login",
        data={
            "email": world.owner.email,
            "password": PASSWORD,
            "csrf_token": csrf_token(form.text),
            "next": target,
        },
    )

    assert 'name="next" value="/customers"' in form.text
    assert response.status_code == 303
    assert response.headers["location"] == "/customers"


@pytest.mark.parametrize("target", HOSTILE_TARGETS)
async def test_the_write_back_page_links_back_only_within_the_hub(
    services: Services, client: httpx.AsyncClient, world: World, target: str
) -> None:
    integration = await add_connectwise(services, world)
    await sign_in(client, world.owner.email, PASSWORD)
    requested = await services.writebacks.request(
        world.principal, integration.id, AddTicketNote(ticket_id="4821", text="On it.")
    )

    page = await client.get(f"/writebacks/{requested.id}", params={"back": target})

    assert page.status_code == 200
    assert '<a href="/customers">Back</a>' in page.text


async def test_a_same_site_back_link_is_kept(
    services: Services, client: httpx.AsyncClient, world: World
) -> None:
    integration = await add_connectwise(services, world)
    await sign_in(client, world.owner.email, PASSWORD)
    requested = await services.writebacks.request(
        world.principal, integration.id, AddTicketNote(ticket_id="4821", text="On it.")
    )
    back = f"/customers/{world.customers[0].id}/tickets?q=printer jam&state=all"

    page = await client.get(f"/writebacks/{requested.id}", params={"back": back})

    assert f'<a href="{back.replace("&", "&amp;")}">Back</a>' in page.text


# Webhooks -----------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["a\x00b", "a\ud800b"], ids=["nul", "lone-surrogate"])
async def test_an_authentic_delivery_carrying_nul_or_a_lone_surrogate_is_a_400(
    services: Services, client: httpx.AsyncClient, world: World, text: str
) -> None:
    secret = "whsec-edge-test"
    ninjaone = await services.integrations.add(
        world.principal,
        vendor="ninjaone",
        name="NinjaOne",
        base_url="https://app.ninjarmm.com",
        credentials=Credentials(
            values={"client_id": "c", "client_secret": "s", WEBHOOK_SECRET: secret}
        ),
        test=False,
    )
    activity = {
        "id": 1,
        "activityTime": NOW.timestamp(),
        "activityType": "CONDITION",
        "statusCode": "TRIGGERED",
        "message": text,
        "deviceId": 7,
    }
    body = json.dumps(activity).encode()  # escaped as \u0000 and \ud800

    response = await client.post(
        f"/webhooks/{ninjaone.id}",
        content=body,
        headers={"Content-Type": "application/json", "X-Vectis-Webhook-Secret": secret},
    )

    assert "delivery.message contains" in _problem(response)


@pytest.mark.parametrize(
    ("body", "deeper"),
    [
        (b"[" * 33 + b"]" * 33, True),
        (b"[" * 32 + b"]" * 32, False),
        (b'[{"a": ' * 17 + b"1" + b"}]" * 17, True),
        (b'{"note": "' + b"[" * 100 + b'"}', False),  # brackets in a string are text
        (b'{"note": "a \\" [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[ "}', False),
        (b"[" * 100_000, True),
    ],
)
def test_nesting_is_told_before_decoding(body: bytes, deeper: bool) -> None:
    assert nests_deeper_than(body, 32) is deeper
