"""The sync engine against a real PostgreSQL: idempotent upserts, events, cursors, failures."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar, cast

import attrs
import psycopg
import pytest
from attrs import define, field
from dependency_injector import providers

from tests.conftest import app_connection, owner_connection
from tests.factories import World, make_tenant
from vectis.application import sync_pages
from vectis.application.services import Services
from vectis.container import Container
from vectis.domain.errors import VendorAuthFailed, VendorUnavailable
from vectis.domain.events import EventKind, InboundEvent, SubjectRef, event_key
from vectis.domain.integration import Credentials, Integration, VendorInfo
from vectis.domain.records import (
    Alert,
    AlertState,
    AvState,
    Device,
    Named,
    Reference,
    ReferenceKind,
    SkippedRecord,
    SyncBatch,
    Ticket,
    TicketNote,
    VendorCompany,
)
from vectis.domain.sync import SyncSource, SyncStatus

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)

P = TypeVar("P")


def ticket(
    number: int, *, closed: bool = False, status: str = "New", company: str = "C1"
) -> Ticket:
    return Ticket(
        id=str(number),
        number=str(number),
        company_id=company,
        summary=f"Problem {number}",
        opened_at=T0 + timedelta(hours=number),
        updated_at=T0 + timedelta(hours=number, minutes=30 if closed else 5),
        status=Named(id=status.lower(), name=status),
        priority=Named(id="3", name="Normal"),
        closed=closed,
        closed_at=T0 + timedelta(hours=number, minutes=30) if closed else None,
    )


@define
class FakeSource:
    """A vendor account in memory: each stream is a list of pages; ``failures`` break one."""

    pages: dict[str, list[list[Any]]]
    snapshots: tuple[str, ...] = ()
    read_methods: dict[str, str] = field(factory=dict)
    failures: dict[str, Exception] = field(factory=dict)
    skipped: dict[str, list[SkippedRecord]] = field(factory=dict)
    reads: list[tuple[str, str | None]] = field(factory=list)

    @property
    def streams(self) -> Sequence[str]:
        return list(self.pages)

    async def check(self) -> str:
        return "fake account"

    async def read(self, stream: str, cursor: str | None) -> AsyncIterator[SyncBatch]:
        self.reads.append((stream, cursor))
        pages = self.pages[stream]
        for index, page in enumerate(pages):
            if stream in self.failures and index == 1:
                raise self.failures[stream]
            last = index == len(pages) - 1
            yield SyncBatch(
                records=page,
                skipped=self.skipped.get(stream, []) if last else [],
                cursor=f"{stream}-{len(page)}" if last else None,
            )


@define
class FakeConnectors:
    source: FakeSource

    def vendors(self) -> list[VendorInfo]:
        return [VendorInfo(key="connectwise", label="PSA", credential_fields=(), base_url_hint="")]

    async def check_credentials(self, integration: Integration, credentials: Credentials) -> str:
        return await self.source.check()

    def port(self, port: type[P], integration: Integration, credentials: Credentials) -> P:
        assert port is SyncSource, f"the sync asks for no {port.__name__}"
        return cast(P, self.source)


@pytest.fixture
def source() -> FakeSource:
    return FakeSource(
        pages={
            "companies": [
                [VendorCompany(id="C1", name="Acme Ltd"), VendorCompany(id="C2", name="Birch")]
            ],
            "tickets": [[ticket(1), ticket(2, closed=True)], [ticket(3)]],
            "notes": [
                [
                    TicketNote(
                        id="n1",
                        ticket_id="1",
                        text="It broke",
                        internal=False,
                        from_customer=True,
                        created_at=T0 + timedelta(hours=1),
                    ),
                    TicketNote(
                        id="n2",
                        ticket_id="1",
                        text="Looking now",
                        internal=False,
                        created_at=T0 + timedelta(hours=1, minutes=20),
                    ),
                    TicketNote(
                        id="n3",
                        ticket_id="1",
                        text="Still broken",
                        internal=False,
                        from_customer=True,
                        created_at=T0 + timedelta(hours=2),
                    ),
                ]
            ],
        }
    )


@pytest.fixture
def services(container: Container, source: FakeSource) -> Services:
    container.connectors.override(providers.Object(FakeConnectors(source)))
    return container.services()


async def _integration(services: Services, world: World) -> Integration:
    integration = await services.integrations.add(
        world.principal,
        vendor="connectwise",
        name="PSA",
        base_url="https://api-na.myconnectwise.net/v4_6_release",
        credentials=Credentials(values={"private_key": "k"}),
    )
    await services.integrations.link_customer(
        world.principal, integration.id, "C1", world.customers[0].id
    )
    return integration


def _rows(database_url: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with owner_connection(database_url) as connection:
        return connection.execute(sql, params).fetchall()


async def test_a_first_sync_stores_records_for_the_linked_customer_and_their_events(
    services: Services, database_url: str
) -> None:
    world = await make_tenant(services, customers=("Acme",))
    integration = await _integration(services, world)

    run = await services.sync.run(world.tenant.id, integration.id)

    assert run.status is SyncStatus.SUCCEEDED
    assert run.counts["tickets"].fetched == 3 and run.counts["tickets"].created == 3
    assert run.counts["notes"].created == 3
    tickets = _rows(
        database_url, "SELECT vendor_id, customer_id, closed FROM tickets ORDER BY vendor_id"
    )
    assert tickets == [
        ("1", world.customers[0].id, False),
        ("2", world.customers[0].id, True),
        ("3", world.customers[0].id, False),
    ]
    kinds = _rows(
        database_url,
        "SELECT kind, title, customer_id FROM events WHERE integration_id = %s "
        "ORDER BY occurred_at, id",
        integration.id,
    )
    assert [kind for kind, _, _ in kinds] == [
        EventKind.TICKET_OPENED,  # 1 (its first customer note is the description: no event)
        EventKind.TICKET_NOTE_ADDED,
        EventKind.TICKET_OPENED,  # 2
        EventKind.TICKET_REPLY_RECEIVED,
        EventKind.TICKET_CLOSED,  # 2
        EventKind.TICKET_OPENED,  # 3
    ]
    assert kinds[0][1] == "Ticket #1 opened" and kinds[0][2] == world.customers[0].id
    assert kinds[3][1] == "Reply received on ticket #1 · Problem 1"
    assert _rows(database_url, "SELECT stream, cursor FROM sync_cursors ORDER BY stream") == [
        ("companies", "companies-2"),
        ("notes", "notes-3"),
        ("tickets", "tickets-1"),
    ]
    (health,) = _rows(database_url, "SELECT last_success_at, last_error FROM integrations")
    assert health[0] is not None and health[1] is None


async def test_a_sync_that_grows_a_table_has_the_database_count_its_rows(
    services: Services, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sync_pages, "STATISTICS_AFTER", 2)
    world = await make_tenant(services, customers=("Acme",))
    integration = await _integration(services, world)
    never_counted = _rows(database_url, "SELECT reltuples FROM pg_class WHERE relname = 'tickets'")

    await services.sync.run(world.tenant.id, integration.id)

    # The first two tickets passed the threshold: ANALYZE counted them (-1 is "never").
    assert never_counted == [(-1,)]
    assert _rows(database_url, "SELECT reltuples FROM pg_class WHERE relname = 'tickets'") == [(2,)]


def test_the_runtime_role_may_refresh_the_statistics_of_synced_tables_only(
    database_url: str,
) -> None:
    with app_connection(database_url) as connection:
        connection.execute("SELECT vectis_refresh_statistics('tickets')")
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="not a synced table"):
            connection.execute("SELECT vectis_refresh_statistics('operators')")
        connection.rollback()
        # Directly, the runtime role (which owns no table) is only warned and skipped.
        notices: list[str] = []
        connection.add_notice_handler(lambda notice: notices.append(notice.message_primary))
        connection.execute("ANALYZE tickets")
    assert any("skipping" in notice for notice in notices), notices


async def test_running_the_same_sync_again_changes_nothing_and_resumes_from_the_cursors(
    services: Services, source: FakeSource, database_url: str
) -> None:
    world = await make_tenant(services)
    integration = await _integration(services, world)
    await services.sync.run(world.tenant.id, integration.id)
    events_before = _rows(database_url, "SELECT count(*) FROM events")[0][0]

    again = await services.sync.run(world.tenant.id, integration.id)

    assert again.total.created == 0 and again.total.updated == 0
    assert again.total.fetched == 8
    assert _rows(database_url, "SELECT count(*) FROM tickets")[0][0] == 3
    assert _rows(database_url, "SELECT count(*) FROM events")[0][0] == events_before
    assert ("tickets", "tickets-1") in source.reads[-3:]


async def test_a_closure_and_a_status_change_become_events_once(
    services: Services, source: FakeSource, database_url: str
) -> None:
    world = await make_tenant(services)
    integration = await _integration(services, world)
    await services.sync.run(world.tenant.id, integration.id)
    source.pages["tickets"] = [[ticket(1, closed=True), ticket(3, status="In Progress")]]

    run = await services.sync.run(world.tenant.id, integration.id)
    await services.sync.run(world.tenant.id, integration.id)

    assert run.counts["tickets"].updated == 2
    titles = [
        row[0]
        for row in _rows(
            database_url,
            "SELECT title FROM events WHERE kind IN (%s, %s) ORDER BY id",
            EventKind.TICKET_CLOSED,
            EventKind.TICKET_UPDATED,
        )
    ]
    assert titles == ["Ticket #2 closed", "Ticket #1 closed", "Ticket #3 moved to In Progress"]


async def test_alerts_missing_from_a_complete_listing_are_resolved(
    services: Services, source: FakeSource, database_url: str
) -> None:
    world = await make_tenant(services)
    alert = Alert(id="a1", company_id="C1", message="Disk full", severity="critical", raised_at=T0)
    other = Alert(id="a2", company_id="C1", message="CPU", severity="medium", raised_at=T0)
    source.pages = {"alerts": [[alert, other]]}
    source.snapshots = ("alerts",)
    integration = await _integration(services, world)
    await services.sync.run(world.tenant.id, integration.id)
    source.pages = {"alerts": [[other]]}

    await services.sync.run(world.tenant.id, integration.id)

    assert _rows(database_url, "SELECT vendor_id, state FROM alerts ORDER BY vendor_id") == [
        ("a1", AlertState.RESOLVED),
        ("a2", AlertState.OPEN),
    ]
    kinds = [row[0] for row in _rows(database_url, "SELECT kind FROM events ORDER BY id")]
    assert kinds.count(EventKind.ALERT_RAISED) == 2 and kinds.count(EventKind.ALERT_RESET) == 1


async def test_a_complete_listing_of_two_record_types_deletes_each_by_its_own_ids(
    services: Services, source: FakeSource, database_url: str
) -> None:
    world = await make_tenant(services)

    def note(note_id: str) -> TicketNote:
        return TicketNote(id=note_id, ticket_id="1", text=note_id, internal=True)

    # One stream yields tickets and their notes; note "2" shares its id with ticket 2.
    source.pages = {"tickets": [[ticket(1), ticket(2), note("2"), note("n9")]]}
    source.snapshots = ("tickets",)
    integration = await _integration(services, world)
    await services.sync.run(world.tenant.id, integration.id)
    source.pages = {"tickets": [[ticket(1), note("2")]]}

    await services.sync.run(world.tenant.id, integration.id)

    live = "deleted_at IS NULL FROM {} ORDER BY vendor_id"
    assert _rows(database_url, "SELECT vendor_id, " + live.format("tickets")) == [
        ("1", True),
        ("2", False),
    ]
    assert _rows(database_url, "SELECT vendor_id, " + live.format("ticket_notes")) == [
        ("2", True),
        ("n9", False),
    ]


async def test_a_device_whose_kind_changes_at_the_vendor_is_updated(
    services: Services, source: FakeSource, database_url: str
) -> None:
    world = await make_tenant(services)
    source.pages = {"devices": [[Device(id="d1", company_id="C1", name="WS", kind="workstation")]]}
    integration = await _integration(services, world)
    await services.sync.run(world.tenant.id, integration.id)
    source.pages = {"devices": [[Device(id="d1", company_id="C1", name="WS", kind="server")]]}

    again = await services.sync.run(world.tenant.id, integration.id)

    assert again.counts["devices"].updated == 1
    assert _rows(database_url, "SELECT kind FROM devices") == [("server",)]


async def test_antivirus_definitions_renewed_between_syncs_become_one_event(
    services: Services, source: FakeSource, database_url: str
) -> None:
    world = await make_tenant(services)
    outdated = Device(id="d1", company_id="C1", name="WS", av_state=AvState.OUTDATED)
    source.pages = {"devices": [[outdated]]}
    integration = await _integration(services, world)
    await services.sync.run(world.tenant.id, integration.id)
    renewed = attrs.evolve(outdated, av_state=AvState.PROTECTED, av_definitions_at=T0)
    source.pages = {"devices": [[renewed]]}

    await services.sync.run(world.tenant.id, integration.id)
    await services.sync.run(world.tenant.id, integration.id)

    assert _rows(database_url, "SELECT kind, title FROM events WHERE kind LIKE 'av.%%'") == [
        ("av.definitions_updated", "Antivirus definitions updated on WS")
    ]


async def test_the_sync_run_record_says_how_each_stream_was_read(
    services: Services, source: FakeSource
) -> None:
    world = await make_tenant(services)
    source.read_methods = {"tickets": "full read, changes detected"}
    integration = await _integration(services, world)

    await services.sync.run(world.tenant.id, integration.id)

    [run] = await services.sync.runs(world.principal, integration.id)
    assert run.counts["tickets"].method == "full read, changes detected"
    assert run.counts["companies"].method == ""


async def test_a_failing_stream_keeps_what_was_stored_and_the_rest_goes_on(
    services: Services, source: FakeSource, database_url: str
) -> None:
    world = await make_tenant(services)
    integration = await _integration(services, world)
    source.failures["tickets"] = VendorUnavailable("ConnectWise answered 503")
    source.skipped["notes"] = [SkippedRecord(stream="notes", vendor_id="n9", reason="no ticket id")]

    run = await services.sync.run(world.tenant.id, integration.id)

    assert run.status is SyncStatus.PARTIAL
    assert "tickets: ConnectWise answered 503" in run.errors
    assert "notes: skipped n9: no ticket id" in run.errors
    assert run.counts["notes"].skipped == 1 and run.counts["notes"].created == 3
    assert _rows(database_url, "SELECT vendor_id FROM tickets ORDER BY 1") == [("1",), ("2",)]
    assert "tickets" not in dict(_rows(database_url, "SELECT stream, cursor FROM sync_cursors"))
    (error,) = _rows(database_url, "SELECT last_error FROM integrations")[0]
    assert error == "tickets: ConnectWise answered 503"
    (stored,) = await services.sync.runs(world.principal, integration.id)
    assert stored.status is SyncStatus.PARTIAL and stored.errors == run.errors


async def test_refused_credentials_stop_the_whole_run(
    services: Services, source: FakeSource
) -> None:
    world = await make_tenant(services)
    integration = await _integration(services, world)
    source.failures["companies"] = VendorAuthFailed("ConnectWise refused the credentials (401)")
    source.pages["companies"].append([])

    run = await services.sync.run(world.tenant.id, integration.id)

    assert run.status is SyncStatus.FAILED
    assert [stream for stream, _ in source.reads] == ["companies"]


async def test_linking_a_company_later_moves_its_records_to_the_customer(
    services: Services, database_url: str
) -> None:
    world = await make_tenant(services, customers=("Acme", "Birch & Co"))
    integration = await _integration(services, world)
    await services.sync.run(world.tenant.id, integration.id)

    suggestions = {
        s.company.id: s
        for s in await services.integrations.suggest_links(world.principal, integration.id)
    }
    assert suggestions["C1"].confirmed and suggestions["C1"].customer_id == world.customers[0].id
    assert (
        not suggestions["C2"].confirmed and suggestions["C2"].customer_id == world.customers[1].id
    )

    await services.integrations.link_customer(
        world.principal, integration.id, "C1", world.customers[1].id
    )

    assert {row[0] for row in _rows(database_url, "SELECT customer_id FROM tickets")} == {
        world.customers[1].id
    }
    assert {row[0] for row in _rows(database_url, "SELECT customer_id FROM ticket_notes")} == {
        world.customers[1].id
    }


async def test_a_change_delivered_by_webhook_and_then_synced_is_one_event(
    services: Services, database_url: str
) -> None:
    world = await make_tenant(services)
    integration = await _integration(services, world)
    delivered = InboundEvent(
        external_id=event_key(EventKind.TICKET_OPENED, "1"),
        kind=EventKind.TICKET_OPENED,
        occurred_at=T0,
        subject=SubjectRef(system="connectwise", type="ticket", id="1"),
        title="Ticket #1 opened",
        company_ref="C1",
    )
    await services.inbox.receive(world.tenant.id, integration.id, [delivered])
    await services.inbox.process(world.tenant.id)

    await services.sync.run(world.tenant.id, integration.id)

    opened = _rows(
        database_url,
        "SELECT subject_id FROM events WHERE kind = %s ORDER BY 1",
        EventKind.TICKET_OPENED,
    )
    assert opened == [("1",), ("2",), ("3",)]


async def test_a_complete_listing_tells_references_apart_by_kind(
    services: Services, source: FakeSource, database_url: str
) -> None:
    world = await make_tenant(services)
    status = Reference(kind=ReferenceKind.STATUS, id="4", name="Waiting")
    priority = Reference(kind=ReferenceKind.PRIORITY, id="4", name="Low")
    source.pages = {"references": [[status, priority]]}
    source.snapshots = ("references",)
    integration = await _integration(services, world)
    await services.sync.run(world.tenant.id, integration.id)
    source.pages = {"references": [[status]]}

    await services.sync.run(world.tenant.id, integration.id)

    rows = _rows(
        database_url,
        "SELECT kind, deleted_at IS NOT NULL FROM ticket_references ORDER BY kind",
    )
    assert rows == [("priority", True), ("status", False)]


async def test_the_schedule_queues_one_sync_per_integration_that_is_due(
    services: Services, database_url: str
) -> None:
    world = await make_tenant(services)
    due = await _integration(services, world)
    recent = await services.integrations.add(
        world.principal,
        vendor="connectwise",
        name="Synced just now",
        base_url="https://api-eu.myconnectwise.net/v4_6_release",
        credentials=Credentials(values={"private_key": "k"}),
    )
    await services.sync.run(world.tenant.id, recent.id)

    first = await services.sync.schedule_due()
    again = await services.sync.schedule_due()

    assert first == 1 and again == 0, "a waiting sync is not queued twice"
    queued = _rows(
        database_url,
        "SELECT args->>'integration_id' FROM procrastinate_jobs WHERE task_name LIKE %s",
        "%sync_integration",
    )
    assert queued == [(str(due.id),)]


async def test_a_sync_that_breaks_on_our_side_is_recorded_as_failed_not_left_running(
    services: Services, source: FakeSource
) -> None:
    world = await make_tenant(services)
    integration = await _integration(services, world)
    source.failures["tickets"] = RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        await services.sync.run(world.tenant.id, integration.id)

    (stored,) = await services.sync.runs(world.principal, integration.id)
    assert stored.status is SyncStatus.FAILED and stored.finished_at is not None
    assert stored.errors[-1] == "the sync stopped: RuntimeError: disk full"
    (health,) = await services.integrations.list(world.principal)
    assert health.failing
