"""A customer's timeline over PostgreSQL: keyset pages, filters, tenant isolation, and the
internal notes that join it (audited, with their history kept). What a note's rules decide
alone runs on the in-memory unit of work (tests/fakes.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.factories import make_tenant
from vectis.application.errors import NotFound, PermissionDenied
from vectis.application.services import Services
from vectis.container import Container
from vectis.domain.errors import InvalidValue
from vectis.domain.events import Event, EventKind, SubjectRef
from vectis.domain.identity import Principal
from vectis.domain.tenancy import Role
from vectis.domain.timeline import MAX_PAGE_SIZE, TimelinePosition, TimelineQuery, Topic

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
KINDS = {
    "autotask": EventKind.TICKET_OPENED,
    "ninjaone": EventKind.ALERT_RAISED,
    "halopsa": EventKind.TICKET_CLOSED,
}


async def _seed(container: Container, tenant_id, customer_id, count: int) -> None:  # type: ignore[no-untyped-def]
    """``count`` events, one per hour going back, cycling through three sources; every
    fifth shares its time with the one before (the keyset must still split them)."""
    events = []
    for index in range(count):
        source = list(KINDS)[index % 3]
        hours = index - (1 if index % 5 == 4 else 0)
        events.append(
            Event(
                tenant_id=tenant_id,
                customer_id=customer_id,
                source=source,
                kind=KINDS[source],
                occurred_at=NOW - timedelta(hours=hours),
                title=f"event {index}",
                subject=SubjectRef(system=source, type="ticket", id=str(index)),
            )
        )
    async with container.uow()(tenant_id) as uow:
        await uow.events.append(events)
        await uow.commit()


async def test_pages_follow_each_other_without_gaps_or_repeats(
    services: Services, container: Container
) -> None:
    world = await make_tenant(services)
    customer = world.customers[0]
    await _seed(container, world.tenant.id, customer.id, 95)
    seen: list[str] = []
    after = None
    while True:
        page = await services.timeline.page(
            world.principal, TimelineQuery(customer_id=customer.id, limit=20, after=after)
        )
        seen.extend(entry.title for entry in page.entries)
        times = [(entry.occurred_at, entry.id) for entry in page.entries]
        assert times == sorted(times, reverse=True)
        if page.next is None:
            break
        after = TimelinePosition.decode(page.next.encode())
    assert len(seen) == 95
    assert len(set(seen)) == 95


async def test_a_page_of_the_largest_size_is_served_and_says_an_older_one_follows(
    services: Services, container: Container
) -> None:
    world = await make_tenant(services)
    customer = world.customers[0]
    await _seed(container, world.tenant.id, customer.id, MAX_PAGE_SIZE + 1)

    page = await services.timeline.page(
        world.principal, TimelineQuery(customer_id=customer.id, limit=MAX_PAGE_SIZE)
    )

    assert len(page.entries) == MAX_PAGE_SIZE
    assert page.next is not None
    assert page.next.event_id == page.entries[-1].id


async def test_filters_by_source_topic_and_range(services: Services, container: Container) -> None:
    world = await make_tenant(services)
    customer = world.customers[0]
    await _seed(container, world.tenant.id, customer.id, 60)
    page = await services.timeline.page(
        world.principal,
        TimelineQuery(
            customer_id=customer.id,
            sources=frozenset({"autotask", "halopsa"}),
            since=NOW - timedelta(hours=24),
            until=NOW + timedelta(hours=1),
        ),
    )
    assert page.entries
    assert {entry.source for entry in page.entries} == {"autotask", "halopsa"}
    assert all(entry.occurred_at >= NOW - timedelta(hours=24) for entry in page.entries)
    alerts = await services.timeline.page(
        world.principal,
        TimelineQuery(customer_id=customer.id, topics=frozenset({Topic.ALERTS})),
    )
    assert alerts.entries
    assert {entry.kind for entry in alerts.entries} == {EventKind.ALERT_RAISED}


async def test_another_tenants_customer_is_not_found(
    services: Services, container: Container
) -> None:
    ours = await make_tenant(services)
    theirs = await make_tenant(services, "Contoso MSP", customers=("Fabrikam",))
    await _seed(container, theirs.tenant.id, theirs.customers[0].id, 5)
    with pytest.raises(NotFound):
        await services.timeline.page(
            ours.principal, TimelineQuery(customer_id=theirs.customers[0].id)
        )


def test_a_tampered_page_link_is_refused() -> None:
    with pytest.raises(InvalidValue, match="page link"):
        TimelinePosition.decode("bm90LWEtcG9zaXRpb24")
    with pytest.raises(InvalidValue, match="page link"):
        TimelinePosition.decode("!!!")


async def test_a_note_is_audited_joins_the_timeline_and_keeps_its_history(
    services: Services,
) -> None:
    world = await make_tenant(services)
    customer = world.customers[0]
    tech = Principal.system(world.tenant.id, "Tess Tech")
    note = await services.timeline.add_note(
        tech, customer.id, "Door code is 4411\nAsk for Priya at reception", format="markdown"
    )
    edited = await services.timeline.edit_note(
        tech, customer.id, note.id, "Door code is 9902", format="text"
    )
    assert edited.revision == 2 and edited.author == "Tess Tech"

    page = await services.timeline.page(tech, TimelineQuery(customer_id=customer.id))
    assert [(entry.kind, entry.detail) for entry in page.entries] == [
        (EventKind.NOTE_EDITED, "Door code is 9902"),
        (EventKind.NOTE_ADDED, "Door code is 4411"),
    ]
    assert page.entries[0].subject == SubjectRef(system="vectis", type="note", id=str(note.id))

    current, history = await services.timeline.note(tech, customer.id, note.id)
    assert current.body == "Door code is 9902"
    assert [revision.body for revision in history] == [
        "Door code is 9902",
        "Door code is 4411\nAsk for Priya at reception",
    ]
    audit = await services.audit.recent(world.principal, limit=10)
    assert [record.entry.action for record in audit][:2] == ["note.edit", "note.add"]
    # The audit entry says what changed, never the note's text itself.
    assert "Door code" not in audit[0].entry.payload_json


async def test_an_unchanged_edit_adds_nothing(fake_services: Services) -> None:
    world = await make_tenant(fake_services)
    note = await fake_services.timeline.add_note(world.principal, world.customers[0].id, "Same")
    again = await fake_services.timeline.edit_note(
        world.principal, world.customers[0].id, note.id, "Same"
    )
    assert again.revision == 1
    _, history = await fake_services.timeline.note(world.principal, world.customers[0].id, note.id)
    assert len(history) == 1


async def test_read_only_operators_cannot_write_notes(fake_services: Services) -> None:
    world = await make_tenant(fake_services)
    reader = Principal(tenant_id=world.tenant.id, role=Role.READ_ONLY, actor=world.principal.actor)
    with pytest.raises(PermissionDenied):
        await fake_services.timeline.add_note(reader, world.customers[0].id, "hello")


@pytest.mark.parametrize("body", ["", "   \n  ", "x" * 20_001])
async def test_empty_or_huge_notes_are_refused(fake_services: Services, body: str) -> None:
    world = await make_tenant(fake_services)
    with pytest.raises(InvalidValue):
        await fake_services.timeline.add_note(world.principal, world.customers[0].id, body)
    assert await fake_services.timeline.notes(world.principal, world.customers[0].id) == []


async def test_a_note_is_found_and_edited_only_under_its_own_customer(
    fake_services: Services,
) -> None:
    world = await make_tenant(fake_services, customers=("Acme", "Birch"))
    acme, birch = world.customers
    note = await fake_services.timeline.add_note(world.principal, acme.id, "Acme only")
    with pytest.raises(NotFound):
        await fake_services.timeline.note(world.principal, birch.id, note.id)
    with pytest.raises(NotFound):
        await fake_services.timeline.edit_note(world.principal, birch.id, note.id, "Birch now")
    current, _ = await fake_services.timeline.note(world.principal, acme.id, note.id)
    assert current.body == "Acme only"
