"""Antivirus definitions events derived from a device's state between two syncs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from vectis.domain.changes import StoredDevice, device_events
from vectis.domain.events import EventKind
from vectis.domain.records import AvState, Device

SEEN = datetime(2025, 3, 19, 19, 24, 12, tzinfo=UTC)


def device(av_state: str, **fields: object) -> Device:
    values: dict[str, object] = {
        "id": "33",
        "company_id": "2",
        "name": "CC-DC01",
        "av_state": av_state,
        "updated_at": SEEN,
        **fields,
    }
    return Device(**values)  # type: ignore[arg-type]


def test_definitions_that_became_current_make_one_definitions_event() -> None:
    (event,) = device_events(
        "ninjaone", device(AvState.PROTECTED), StoredDevice(av_state="outdated")
    )

    assert event.kind == EventKind.AV_DEFINITIONS_UPDATED
    assert event.external_id == f"av.definitions_updated:33:{SEEN.isoformat()}"
    assert (event.subject.type, event.subject.id, event.company_ref) == ("device", "33", "2")
    assert event.title == "Antivirus definitions updated on CC-DC01"
    assert event.occurred_at == SEEN
    again = device_events("ninjaone", device(AvState.PROTECTED), StoredDevice(av_state="outdated"))
    assert again == [event], "the same change read twice has the same key"


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (None, AvState.PROTECTED),
        (AvState.PROTECTED, AvState.PROTECTED),
        (AvState.OUTDATED, AvState.OUTDATED),
        (AvState.DISABLED, AvState.PROTECTED),
        (AvState.PROTECTED, AvState.OUTDATED),
        (AvState.UNKNOWN, AvState.PROTECTED),
    ],
)
def test_other_antivirus_states_make_no_definitions_event(before: str | None, after: str) -> None:
    stored = None if before is None else StoredDevice(av_state=before)
    assert device_events("ninjaone", device(after), stored) == []


def test_a_later_definitions_date_is_a_definitions_event() -> None:
    earlier = datetime(2025, 3, 18, tzinfo=UTC)
    later = datetime(2025, 3, 19, 6, tzinfo=UTC)
    stored = StoredDevice(av_state=AvState.PROTECTED, av_definitions_at=earlier)

    (event,) = device_events("datto", device(AvState.PROTECTED, av_definitions_at=later), stored)

    assert event.occurred_at == later
    same = StoredDevice(av_state=AvState.PROTECTED, av_definitions_at=later)
    assert device_events("datto", device(AvState.PROTECTED, av_definitions_at=later), same) == []
