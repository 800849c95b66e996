"""Adding an integration: an empty address means what the vendor documents (Autotask's zone
lookup, or a clear refusal naming the choices), and the first sync commits with the integration."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from dependency_injector import providers

from tests.conftest import TEST_SECRET_KEY, owner_connection
from tests.factories import PASSWORD, make_tenant
from tests.fakes import FakeUnitOfWorkFactory
from tests.http_client import csrf_token, hub_client, sign_in
from vectis.application.errors import ServiceUnavailable
from vectis.application.services import Services
from vectis.container import Container
from vectis.domain.errors import InvalidValue
from vectis.domain.integration import Credentials
from vectis_sandbox.server import Sandbox, running_sandbox
from vectis_sandbox.world import build_world

AUTOTASK_ZONE = "https://webservices5.autotask.net/atservicesrest"


class _AutotaskOnLoopback(httpx.AsyncBaseTransport):
    """Sends what is addressed to Autotask's hosts to the loopback sandbox, noting each call."""

    def __init__(self, sandbox_root: str) -> None:
        self._target = httpx.URL(sandbox_root)
        self._inner = httpx.AsyncHTTPTransport()
        self.calls: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert request.url.host.endswith(".autotask.net"), f"called {request.url}"
        self.calls.append(f"{request.url.host}{request.url.path}")
        url = request.url.copy_with(
            scheme=self._target.scheme, host=self._target.host, port=self._target.port
        )
        body = await request.aread()
        return await self._inner.handle_async_request(
            httpx.Request(request.method, url, headers=request.headers, content=body)
        )

    async def aclose(self) -> None:
        await self._inner.aclose()


@pytest.fixture
async def autotask() -> AsyncIterator[Sandbox]:
    """A sandboxed Autotask whose zone is named by Autotask's domain, as a real zone is."""
    async with running_sandbox(
        vendors=("autotask",), world=build_world(tickets_per_company=2)
    ) as sandbox:
        yield sandbox


def _sync_jobs(database_url: str) -> list[str]:
    with owner_connection(database_url) as owner:
        rows = owner.execute(
            "SELECT args->>'integration_id' FROM procrastinate_jobs "
            "WHERE task_name = 'vectis:sync_integration'"
        ).fetchall()
    return [row[0] for row in rows]


def _stored(database_url: str) -> list[tuple[str, str]]:
    with owner_connection(database_url) as owner:
        return [
            (row[0], row[1]) for row in owner.execute("SELECT name, base_url FROM integrations")
        ]


async def test_an_empty_autotask_address_on_the_hub_form_looks_the_zone_up(
    container: Container, autotask: Sandbox, database_url: str
) -> None:
    state = autotask.states["autotask"]
    routed = _AutotaskOnLoopback(state.base_url)
    state.base_url = AUTOTASK_ZONE  # what its zoneInformation answers
    container.http_client.override(providers.Object(httpx.AsyncClient(transport=routed)))
    services = container.services()
    world = await make_tenant(services)
    account = autotask.accounts[0]
    async with hub_client(services, TEST_SECRET_KEY) as client:
        await sign_in(client, world.owner.email, PASSWORD)
        page = await client.get("/integrations")
        added = await client.post(
            "/integrations",
            data={
                "csrf_token": csrf_token(page.text),
                "vendor": "autotask",
                "name": "Autotask",
                "base_url": "",
                **{f"credential_{key}": value for key, value in account.credentials.items()},
            },
        )

    assert added.status_code == 303, added.text
    assert routed.calls[0] == "webservices.autotask.net/atservicesrest/v1.0/zoneInformation"
    assert routed.calls[1].startswith("webservices5.autotask.net/atservicesrest/v1.0/")
    assert _stored(database_url) == [("Autotask", "")], "kept empty: looked up again later"
    integration_id = added.headers["location"].rsplit("/", 1)[-1]
    assert _sync_jobs(database_url) == [integration_id], "the first sync is queued with it"


async def test_an_empty_address_for_a_vendor_without_a_default_shows_the_form_again(
    fake_services: Services, fake_uow: FakeUnitOfWorkFactory
) -> None:
    world = await make_tenant(fake_services)
    async with hub_client(fake_services, TEST_SECRET_KEY) as client:
        await sign_in(client, world.owner.email, PASSWORD)
        page = await client.get("/integrations")
        refused = await client.post(
            "/integrations",
            data={
                "csrf_token": csrf_token(page.text),
                "vendor": "halopsa",
                "name": "Halo Main",
                "base_url": "",
                "credential_client_id": "typed-client-id",
                "credential_client_secret": "typed-secret",
                "credential_tenant": "",
            },
        )

    assert refused.status_code == 400
    assert "HaloPSA needs its API address" in refused.text
    assert "each HaloPSA tenant has its own address" in refused.text
    assert 'value="Halo Main"' in refused.text and 'value="typed-client-id"' in refused.text
    assert "typed-secret" not in refused.text, "secrets are typed again, never echoed"
    assert "yourcompany.halopsa.com" not in refused.text.split('name="base_url"')[1][:80]
    assert fake_uow.database.integrations == {}


@pytest.mark.parametrize(
    ("vendor", "choice"),
    [
        ("ninjaone", "https://eu.ninjarmm.com"),
        ("connectwise", "https://api-au.myconnectwise.net/v4_6_release"),
    ],
)
async def test_an_empty_address_is_refused_naming_the_documented_hosts(
    fake_services: Services, vendor: str, choice: str
) -> None:
    world = await make_tenant(fake_services)
    fields = fake_services.integrations.vendor(vendor).credential_fields
    with pytest.raises(InvalidValue, match="needs its API address") as refused:
        await fake_services.integrations.add(
            world.principal,
            vendor=vendor,
            name="No address",
            base_url="  ",
            credentials=Credentials(values={field.key: "x" for field in fields}),
            test=False,
        )
    assert choice in str(refused.value) and "no default" in str(refused.value)


CONNECTWISE = Credentials(
    values={"company_id": "c", "public_key": "p", "private_key": "k", "client_id": "i"}
)


async def test_the_first_sync_commits_with_the_integration_and_its_audit_entry(
    fake_services: Services, fake_uow: FakeUnitOfWorkFactory
) -> None:
    world = await make_tenant(fake_services)
    commits = fake_uow.database.commits

    added = await fake_services.integrations.add(
        world.principal,
        vendor="connectwise",
        name="ConnectWise",
        base_url="https://api-na.myconnectwise.net/v4_6_release",
        credentials=CONNECTWISE,
        test=False,
        first_sync=True,
    )

    stored = fake_uow.database
    assert stored.commits == commits + 1, "one unit of work"
    assert list(stored.integrations) == [added.id]
    assert stored.actions()[-1] == "integration.create"
    assert [job.arguments["integration_id"] for job in stored.jobs] == [str(added.id)]


async def test_an_integration_whose_first_sync_cannot_be_queued_is_not_saved(
    fake_services: Services, fake_uow: FakeUnitOfWorkFactory
) -> None:
    world = await make_tenant(fake_services)
    audited = fake_uow.database.actions()
    fake_uow.fail_defer = ServiceUnavailable("the job queue refused the job")

    with pytest.raises(ServiceUnavailable, match="job queue"):
        await fake_services.integrations.add(
            world.principal,
            vendor="connectwise",
            name="ConnectWise",
            base_url="https://api-na.myconnectwise.net/v4_6_release",
            credentials=CONNECTWISE,
            test=False,
            first_sync=True,
        )

    stored = fake_uow.database
    assert stored.integrations == {} and stored.jobs == []
    assert stored.actions() == audited, "no integration.create entry"


async def test_halopsas_tenant_may_be_left_empty_for_a_self_hosted_halo(
    fake_services: Services,
) -> None:
    world = await make_tenant(fake_services)
    fields = fake_services.integrations.vendor("halopsa").credential_fields
    assert [field.key for field in fields if field.optional] == ["tenant"]

    added = await fake_services.integrations.add(
        world.principal,
        vendor="halopsa",
        name="Halo on premises",
        base_url="https://halo.example.com",
        credentials=Credentials(
            values={"client_id": "typed-client-id", "client_secret": "s", "tenant": ""}
        ),
        test=False,
    )

    assert added.name == "Halo on premises"
    with pytest.raises(InvalidValue, match="Client secret"):
        await fake_services.integrations.add(
            world.principal,
            vendor="halopsa",
            name="Halo without a secret",
            base_url="https://halo.example.com",
            credentials=Credentials(values={"client_id": "c", "client_secret": " ", "tenant": ""}),
            test=False,
        )
