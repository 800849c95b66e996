"""Jobs commit with the change that deferred them, and stalled jobs come back."""

from __future__ import annotations

from uuid import uuid4

import pytest

from tests.conftest import owner_connection
from tests.factories import add_connectwise, make_tenant
from tests.fakes import FakeUnitOfWorkFactory
from vectis.application.inbox import PROCESS_INBOX
from vectis.application.jobs import requeue_stalled_jobs
from vectis.application.services import Services
from vectis.application.writebacks import WriteBackService
from vectis.container import Container
from vectis.domain.events import EventKind, InboundEvent, SubjectRef
from vectis.domain.ticketing import Ticketing
from vectis.domain.writeback import AddTicketNote, WriteBackStatus


def _jobs(database_url: str) -> list[tuple[str, str]]:
    with owner_connection(database_url) as owner:
        return [
            (row[0], row[1])
            for row in owner.execute(
                "SELECT task_name, status FROM procrastinate_jobs "
                "WHERE task_name <> 'vectis:retry_stalled_jobs' ORDER BY id"
            )
        ]


async def test_a_rolled_back_unit_of_work_leaves_no_job_and_no_audit_entry(
    services: Services, container: Container, database_url: str
) -> None:
    world = await make_tenant(services)
    integration = await add_connectwise(services, world)

    async with container.uow()(world.tenant.id) as uow:
        await services.writebacks.request_in(
            uow,
            world.principal.actor,
            integration.id,
            AddTicketNote(ticket_id="1", text="hi"),  # type: ignore[attr-defined]
        )
        # leaving without commit()

    with owner_connection(database_url) as owner:
        audit = owner.execute(
            "SELECT count(*) FROM audit_log WHERE action LIKE 'writeback.%'"
        ).fetchone()
        writebacks = owner.execute("SELECT count(*) FROM writebacks").fetchone()
    assert _jobs(database_url) == []
    assert audit == (0,) and writebacks == (0,)


async def test_a_committed_request_leaves_its_job_audit_entry_and_record_together(
    services: Services, database_url: str
) -> None:
    world = await make_tenant(services)
    integration = await add_connectwise(services, world)

    await services.writebacks.request(
        world.principal, integration.id, AddTicketNote(ticket_id="1", text="hi")
    )  # type: ignore[attr-defined]

    assert _jobs(database_url) == [("vectis:perform_writeback", "todo")]


async def test_a_burst_of_inbound_events_queues_one_processing_job(
    services: Services, database_url: str
) -> None:
    world = await make_tenant(services)
    integration = await add_connectwise(services, world)

    for index in range(25):
        await services.inbox.receive(
            world.tenant.id,
            integration.id,  # type: ignore[attr-defined]
            [_inbound(f"message-{index}")],
        )
    duplicates = await services.inbox.receive(
        world.tenant.id, integration.id, [_inbound("message-3")]
    )  # type: ignore[attr-defined]

    assert duplicates == 0
    assert _jobs(database_url) == [(PROCESS_INBOX, "todo")]
    processed = await services.inbox.process(world.tenant.id)
    assert processed == 25


async def test_jobs_of_a_worker_that_died_are_requeued(
    container: Container, services: Services, database_url: str
) -> None:
    world = await make_tenant(services)
    integration = await add_connectwise(services, world)
    await services.writebacks.request(
        world.principal, integration.id, AddTicketNote(ticket_id="1", text="hi")
    )  # type: ignore[attr-defined]
    with owner_connection(database_url) as owner:
        (worker_id,) = owner.execute(
            "INSERT INTO procrastinate_workers (last_heartbeat) VALUES (now() - interval '10 minutes') RETURNING id"
        ).fetchone()  # type: ignore[misc]
        owner.execute(
            "UPDATE procrastinate_jobs SET status = 'doing', worker_id = %s WHERE task_name = 'vectis:perform_writeback'",
            (worker_id,),
        )

    app = container.job_app()
    async with app.open_async():
        requeued = await requeue_stalled_jobs(app)

    assert requeued == 1
    assert _jobs(database_url) == [("vectis:perform_writeback", "todo")]


class _TicketingThatCannotBuildItsRequest:
    """A PSA gateway whose own mapping fails before anything is sent, as a mapping bug does."""

    def __init__(self) -> None:
        self.attempts = 0

    async def add_note(self, ticket_id: str, text: str, **_: object) -> None:
        self.attempts += 1
        raise ValueError("invalid literal for int() with base 10: '\u00b2'")


class _Connectors:
    def __init__(self, ticketing: _TicketingThatCannotBuildItsRequest) -> None:
        self._ticketing = ticketing

    def port(self, port: type, integration: object, credentials: object) -> object:
        assert port is Ticketing
        return self._ticketing


async def test_a_write_back_whose_request_cannot_be_built_fails_at_once_with_the_reason(
    fake_container: Container, fake_services: Services, fake_uow: FakeUnitOfWorkFactory
) -> None:
    world = await make_tenant(fake_services)
    integration = await add_connectwise(fake_services, world)
    ticketing = _TicketingThatCannotBuildItsRequest()
    writebacks = WriteBackService(
        fake_container.uow(),
        fake_container.integrations(),
        _Connectors(ticketing),  # type: ignore[arg-type]
        fake_container.clock(),
    )
    requested = await writebacks.request(
        world.principal, integration.id, AddTicketNote(ticket_id="1", text="hi")
    )

    done = await writebacks.perform(world.tenant.id, requested.id)
    again = await writebacks.perform(world.tenant.id, requested.id)

    stored = await fake_services.writebacks.get(world.principal, requested.id)
    assert (done.status, stored.status, again.status) == (WriteBackStatus.FAILED,) * 3
    assert (
        stored.error and "could not make this request" in stored.error and "\u00b2" in stored.error
    )
    assert (stored.attempts, ticketing.attempts) == (1, 1), "a final failure is not retried"
    outcomes = [
        entry.outcome
        for entry in fake_uow.database.audit
        if entry.action == "writeback.ticket.add_note"
    ]
    assert outcomes == ["requested", "failed"]


@pytest.mark.parametrize("kind", [EventKind.TICKET_OPENED])
def test_inbound_events_need_a_vendor_id_and_a_time_zone(kind: str) -> None:
    from datetime import datetime

    from vectis.domain.errors import InvalidValue

    with pytest.raises(InvalidValue, match="deduplication"):
        InboundEvent(
            external_id="",
            kind=kind,
            occurred_at=datetime.now().astimezone(),
            subject=_subject(),
            title="x",
        )
    with pytest.raises(InvalidValue, match="time zone"):
        InboundEvent(
            external_id="1",
            kind=kind,
            occurred_at=datetime(2026, 1, 1),
            subject=_subject(),
            title="x",
        )


def _subject() -> SubjectRef:
    return SubjectRef(system="connectwise", type="ticket", id=str(uuid4()))


def _inbound(external_id: str) -> InboundEvent:
    from datetime import UTC, datetime

    return InboundEvent(
        external_id=external_id,
        kind=EventKind.TICKET_UPDATED,
        occurred_at=datetime.now(UTC),
        subject=_subject(),
        title="Ticket updated",
    )
