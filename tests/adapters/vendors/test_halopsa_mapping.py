"""HaloPSA's anti-corruption layer: times, list wrappers and captured objects as records."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from vectis.adapters.vendors.halopsa import mapping, wire
from vectis.adapters.vendors.halopsa.client import one, unwrap
from vectis.domain.errors import InvalidValue, VendorRejected
from vectis.domain.events import EventKind

RECORDINGS = Path(__file__).parents[3] / "contract_tests/vendors/halopsa/recordings"
SYSTEM_ACTION = {
    # Fields of the action in Halo's captured create response (reference pack).
    "ticket_id": 9499,
    "id": 3,
    "outcome": "Rule Applied",
    "who": "System",
    "who_type": 0,
    "who_agentid": 0,
    "datetime": "2024-06-20T14:45:18.0782286Z",
    "actiondatecreated": "2024-06-20T14:45:18.0782271Z",
    "note": "Matched Rules Changed: Add default 1st line support group to new ticket",
    "hiddenfromuser": True,
    "actionby_application_id": "Halo API Test",
}


def captured_ticket() -> dict[str, object]:
    """The captured create response of the reference pack, as the recordings trim it."""
    loaded = json.loads((RECORDINGS / "create_ticket.json").read_text())
    response: dict[str, object] = loaded["interactions"][1]["response"]["json"]
    return response


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-06-20T14:45:15.9746271Z", datetime(2024, 6, 20, 14, 45, 15, 974627, tzinfo=UTC)),
        ("2022-09-26T16:15:38.897", datetime(2022, 9, 26, 16, 15, 38, 897000, tzinfo=UTC)),
        ("1900-01-01T00:00:00", None),
        ("1899-12-30T00:00:00", None),
        ("0001-01-01T00:00:00", None),
        ("", None),
        (None, None),
        ("not a date", None),
    ],
)
def test_halo_times_read_as_utc_and_placeholder_dates_as_none(
    value: str | None, expected: datetime | None
) -> None:
    assert mapping.parse_time(value) == expected


def test_a_list_rows_time_is_read_by_name_and_anything_else_is_none() -> None:
    row = {"last_update": "2024-06-27T08:24:23.933", "deleted": True}
    assert mapping.listed_time(row, "last_update") == datetime(
        2024, 6, 27, 8, 24, 23, 933000, tzinfo=UTC
    )
    assert mapping.listed_time(row, "deleted") is None
    assert mapping.listed_time(["not", "a", "row"], "last_update") is None


@pytest.mark.parametrize(
    ("body", "rows", "total"),
    [
        ([{"id": 1}], [{"id": 1}], None),
        ({"record_count": 1, "tickets": [{"id": 1}]}, [{"id": 1}], 1),
        ({"record_count": 1, "results": [{"id": 1}]}, [{"id": 1}], 1),
        ({"record_count": 0, "tickets": None}, [], 0),
        ({"record_count": 0}, [], 0),
    ],
)
def test_lists_are_read_bare_or_wrapped(
    body: object, rows: list[object], total: int | None
) -> None:
    assert unwrap(body, "tickets") == (rows, total)


def test_an_answer_that_is_no_list_is_refused() -> None:
    with pytest.raises(VendorRejected, match="record_count"):
        unwrap({"message": "nope"}, "tickets", "/Tickets")


def test_a_write_answers_with_one_object_or_an_array_of_one() -> None:
    assert one([{"id": 5}]) == {"id": 5} == one({"id": 5})
    with pytest.raises(VendorRejected):
        one([{"id": 5}, {"id": 6}])


def test_the_captured_create_response_maps_to_a_ticket() -> None:
    raw = captured_ticket()

    ticket = mapping.ticket(wire.structure(raw, wire.Ticket), base_url="https://dbt.halopsa.com/")

    assert (ticket.id, ticket.number, ticket.company_id, ticket.site_id) == (
        "9499",
        "9499",
        "12",
        "18",
    )
    assert ticket.priority is not None and (ticket.priority.id, ticket.priority.name) == (
        "2",
        "High",
    )
    assert ticket.board is not None and ticket.board.name == "1st Line Support"
    assert ticket.status is not None and ticket.status.id == "1"
    assert ticket.updated_at == datetime(2024, 6, 20, 14, 45, 17, 152103, tzinfo=UTC)
    assert ticket.owner is None and not ticket.closed
    assert ticket.url == "https://dbt.halopsa.com/tickets?id=9499"


def test_a_ticket_without_an_opening_date_is_unreadable() -> None:
    row = wire.structure({"id": 7, "dateoccurred": "1900-01-01T00:00:00"}, wire.Ticket)
    with pytest.raises(InvalidValue, match="opening date"):
        mapping.ticket(row, base_url="https://x.halopsa.com")


def test_a_status_counts_as_closed_by_the_configured_ids() -> None:
    row = wire.structure({**captured_ticket(), "status_id": 12}, wire.Ticket)

    assert not mapping.ticket(row, base_url="https://x").closed
    assert mapping.ticket(row, base_url="https://x", closed_status_ids={9, 12}).closed


def test_the_captured_system_action_is_an_internal_note_not_a_customer_reply() -> None:
    note = mapping.note(wire.structure(SYSTEM_ACTION, wire.Action))

    assert (note.id, note.ticket_id, note.author) == ("9499-3", "9499", "System")
    assert note.internal and not note.from_customer
    assert note.created_at == datetime(2024, 6, 20, 14, 45, 18, 78228, tzinfo=UTC)


def test_the_captured_user_maps_to_a_contact_of_its_client() -> None:
    raw = json.loads((RECORDINGS / "users.json").read_text())["response"]["json"]["users"][0]

    contact = mapping.contact(wire.structure(raw, wire.User))

    assert (contact.id, contact.company_id, contact.email) == ("38", "12", "some.body@example.com")
    assert contact.updated_at == datetime(2024, 6, 27, 8, 24, 23, 933000, tzinfo=UTC)


def test_a_webhook_ticket_opened_moments_ago_is_an_opened_event() -> None:
    raw = {**captured_ticket(), "lastupdate": "2024-06-20T14:45:20.0000000Z"}

    (event,) = mapping.webhook_events(
        {"ticket": raw},
        received_at=datetime(2024, 6, 20, 14, 46, tzinfo=UTC),
        delivery_id="d1",
        base_url="https://dbt.halopsa.com",
    )

    assert event.kind == EventKind.TICKET_OPENED
    assert event.external_id == "ticket.opened:9499"
    assert event.detail == "Printer on the second floor shows offline · High"


def test_a_webhook_about_something_else_yields_no_event() -> None:
    events = mapping.webhook_events(
        {"event": "Client Updated", "client_id": 12},
        received_at=datetime(2024, 6, 20, tzinfo=UTC),
        delivery_id="d2",
        base_url="https://dbt.halopsa.com",
    )
    assert events == []
