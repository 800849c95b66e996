"""Vendor faults during a sync, end to end: real connector, loopback sandbox, real PostgreSQL.

The sync backs off and retries what is safe to retry, records what failed on the sync run
and the integration's health, keeps what it had stored, and skips a bad record while the
rest of its page goes in.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import owner_connection
from tests.factories import World, make_tenant
from vectis.application.services import Services
from vectis.domain.errors import VendorUnavailable
from vectis.domain.integration import Credentials, Integration
from vectis.domain.sync import SyncStatus
from vectis.domain.writeback import CreateTicket, WriteBackStatus
from vectis.settings import Settings
from vectis_sandbox.server import Sandbox, SandboxHost


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.replace(vendor_timeout_seconds=1.0)


@pytest.fixture
def sandbox(sandbox_servers: SandboxHost) -> Iterator[Sandbox]:
    with sandbox_servers.seeded(vendors=("ninjaone",)) as sandbox:
        yield sandbox


async def _connect(services: Services, sandbox: Sandbox) -> tuple[World, Integration]:
    world = await make_tenant(services, customers=("Aldridge & Co.",))
    (account,) = sandbox.accounts
    integration = await services.integrations.add(
        world.principal,
        vendor=account.vendor,
        name=account.name,
        base_url=account.base_url,
        credentials=Credentials(values=account.credentials),
        settings={"requests_per_minute": 100_000},
    )
    return world, integration


def _count(database_url: str, sql: str, *params: Any) -> int:
    with owner_connection(database_url) as connection:
        row = connection.execute(sql, params).fetchone()
    return int(row[0]) if row else 0


async def test_rate_limits_and_server_errors_are_waited_out(
    services: Services, sandbox: Sandbox, database_url: str
) -> None:
    world, integration = await _connect(services, sandbox)
    faults = sandbox.state("ninjaone").faults
    faults.rate_limited, faults.retry_after = 1, 1
    faults.server_errors = 2
    started = time.monotonic()

    run = await services.sync.run(world.tenant.id, integration.id)

    assert run.status is SyncStatus.SUCCEEDED, run.errors
    assert time.monotonic() - started >= 1.0, "Retry-After was honoured"
    statuses = [path for _, path in faults.requests]
    assert len(statuses) > 3
    assert _count(database_url, "SELECT count(*) FROM devices") == len(sandbox.world.devices)


async def test_a_vendor_that_hangs_is_timed_out_and_retried(
    services: Services, sandbox: Sandbox, database_url: str
) -> None:
    world, integration = await _connect(services, sandbox)
    faults = sandbox.state("ninjaone").faults
    faults.timeouts, faults.timeout_seconds = 1, 3.0

    run = await services.sync.run(world.tenant.id, integration.id)

    assert run.status is SyncStatus.SUCCEEDED, run.errors
    assert _count(database_url, "SELECT count(*) FROM devices") == len(sandbox.world.devices)


async def test_a_stream_that_keeps_failing_is_recorded_and_the_rest_is_kept(
    services: Services, sandbox: Sandbox, database_url: str
) -> None:
    world, integration = await _connect(services, sandbox)
    faults = sandbox.state("ninjaone").faults
    faults.server_errors, faults.path_contains = 1000, "/alerts"

    run = await services.sync.run(world.tenant.id, integration.id)

    assert run.status is SyncStatus.PARTIAL
    assert any(error.startswith("alerts:") and "500" in error for error in run.errors)
    assert run.counts["devices"].created == len(sandbox.world.devices)
    assert _count(database_url, "SELECT count(*) FROM alerts") == 0
    (health,) = await services.integrations.list(world.principal)
    assert health.failing and "alerts" in (health.last_error or "")
    (stored,) = await services.sync.runs(world.principal, integration.id)
    assert stored.status is SyncStatus.PARTIAL and stored.errors == run.errors

    faults.clear()
    recovered = await services.sync.run(world.tenant.id, integration.id)

    assert recovered.status is SyncStatus.SUCCEEDED
    assert _count(database_url, "SELECT count(*) FROM alerts") > 0
    (health,) = await services.integrations.list(world.principal)
    assert not health.failing


async def test_a_malformed_body_fails_its_stream_without_losing_stored_records(
    services: Services, sandbox: Sandbox, database_url: str
) -> None:
    world, integration = await _connect(services, sandbox)
    await services.sync.run(world.tenant.id, integration.id)
    devices = _count(database_url, "SELECT count(*) FROM devices WHERE deleted_at IS NULL")
    faults = sandbox.state("ninjaone").faults
    faults.malformed, faults.path_contains = 1, "/devices-detailed"

    run = await services.sync.run(world.tenant.id, integration.id)

    assert run.status is SyncStatus.PARTIAL
    assert any(error.startswith("devices:") and "JSON" in error for error in run.errors)
    assert _count(database_url, "SELECT count(*) FROM devices WHERE deleted_at IS NULL") == devices


async def test_expired_credentials_fail_the_run_and_show_on_the_integration(
    services: Services, sandbox: Sandbox, database_url: str
) -> None:
    world, integration = await _connect(services, sandbox)
    await services.sync.run(world.tenant.id, integration.id)
    alerts = _count(database_url, "SELECT count(*) FROM alerts WHERE state <> 'resolved'")
    state = sandbox.state("ninjaone")
    state.faults.credentials_expired = True
    state.tokens.clear()

    run = await services.sync.run(world.tenant.id, integration.id)

    assert run.status is SyncStatus.FAILED
    assert len(run.errors) == 1 and "refused" in run.errors[0]
    (health,) = await services.integrations.list(world.principal)
    assert health.failing and "refused" in (health.last_error or "")
    assert _count(database_url, "SELECT count(*) FROM alerts WHERE state <> 'resolved'") == alerts


async def test_a_record_missing_required_fields_is_skipped_and_reported(
    services: Services, sandbox: Sandbox, database_url: str
) -> None:
    world, integration = await _connect(services, sandbox)
    state = sandbox.state("ninjaone")
    broken_id = max(state.devices) + 1
    # A device whose id is not a number: it cannot be keyed, so it cannot be stored.
    state.devices[broken_id] = {"id": "BROKEN-01", "systemName": "BROKEN-01"}

    run = await services.sync.run(world.tenant.id, integration.id)

    assert run.status is SyncStatus.PARTIAL
    assert run.counts["devices"].skipped >= 1
    assert any("devices: skipped" in error for error in run.errors), run.errors
    assert _count(database_url, "SELECT count(*) FROM devices") == len(sandbox.world.devices)


async def test_a_ticket_whose_answer_was_lost_is_created_once_through_the_write_back_service(
    services: Services, database_url: str, sandbox_servers: SandboxHost
) -> None:
    with sandbox_servers.seeded(vendors=("autotask",)) as sandbox:
        world = await make_tenant(services, customers=("Coast Logistics",))
        (account,) = sandbox.accounts
        integration = await services.integrations.add(
            world.principal,
            vendor=account.vendor,
            name=account.name,
            base_url=account.base_url,
            credentials=Credentials(values=account.credentials),
            settings={"requests_per_minute": 100_000},
        )
        company = next(ref for ref, name in account.companies.items() if name == "Coast Logistics")
        state = sandbox.state("autotask")
        # Autotask creates the ticket, but its answer never arrives before the client gives up.
        state.faults.lost_responses, state.faults.timeout_seconds = 1, 3.0
        state.faults.path_contains = "/Tickets"
        requested = await services.writebacks.request(
            world.principal,
            integration.id,
            CreateTicket(company_id=company, summary="Server room is too hot"),
        )

        with pytest.raises(VendorUnavailable):
            await services.writebacks.perform(world.tenant.id, requested.id)
        pending = await services.writebacks.get(world.principal, requested.id)
        retried = await services.writebacks.perform(world.tenant.id, requested.id)

        created = [
            row
            for row in state.table("Tickets").rows()
            if row.get("title") == "Server room is too hot"
        ]
    assert pending.status is WriteBackStatus.PENDING and "did not answer" in (pending.error or "")
    assert retried.status is WriteBackStatus.SUCCEEDED and retried.attempts == 2
    assert len(created) == 1, "the retry found the first ticket instead of opening a second"
    assert retried.result["ticket_id"] == str(created[0]["id"])
    outcomes = _count(
        database_url,
        "SELECT count(*) FROM audit_log WHERE action = 'writeback.ticket.create'",
    )
    assert outcomes == 3, "requested, the failed attempt, and the success are all audited"
