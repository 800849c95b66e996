"""ConnectWise pieces that need no HTTP: the cursor, write bodies, links and the sandbox's queries."""

from __future__ import annotations

import pytest

from vectis.adapters.vendors._kit.markers import marker
from vectis.adapters.vendors.connectwise import mapping, wire
from vectis.adapters.vendors.connectwise.cursor import Watermark
from vectis.adapters.vendors.connectwise.settings import ConnectWiseAccount, ConnectWiseOptions
from vectis.domain.records import TicketChange, TicketDraft
from vectis_sandbox.connectwise_query import QueryError, matcher, ordered

ACCOUNT = ConnectWiseAccount(
    base_url="https://api-eu.myconnectwise.net/v4_6_release",
    company_id="harbor point",
    public_key="pub",
    private_key="priv",
    client_id="client",
)


def record(record_id: int, updated: str) -> dict[str, object]:
    return {"id": record_id, "_info": {"lastUpdated": updated}}


def test_a_watermark_remembers_the_parents_read_at_its_second() -> None:
    mark = Watermark.parse(None)
    for raw in (record(1, "2026-11-27T08:00:00Z"), record(2, "2026-11-27T09:00:00Z")):
        mark = mark.advance(raw)
    mark = mark.advance(record(3, "2026-11-27T09:00:00.250Z"))

    cursor = mark.encode(with_seen=True)

    assert cursor == "2026-11-27T09:00:00Z|2,3"
    again = Watermark.parse(cursor)
    assert again.condition() == "lastUpdated >= [2026-11-27T09:00:00Z]"
    assert again.already_read(record(2, "2026-11-27T09:00:00Z"))
    assert not again.already_read(record(4, "2026-11-27T09:00:00Z")), "same second, not read"
    assert not again.already_read(record(2, "2026-11-27T09:05:00Z")), "changed again since"
    assert again.encode(with_seen=False) == "2026-11-27T09:00:00Z"


def test_an_unreadable_cursor_reads_everything_again() -> None:
    assert Watermark.parse("yesterday").condition() is None


@pytest.mark.parametrize(
    "flags",
    [
        {"detailDescriptionFlag": True, "internalAnalysisFlag": True, "externalFlag": True},
        {"detailDescriptionFlag": True, "internalFlag": True},
        {"resolutionFlag": True, "internalFlag": True, "externalFlag": True},
        {"internalAnalysisFlag": True},
    ],
)
def test_a_note_flagged_internal_is_internal_whatever_else_it_carries(
    flags: dict[str, bool],
) -> None:
    note = wire.structure({"id": 1, "ticketId": 2, "text": "t", **flags}, wire.TicketNote)
    assert mapping.ticket_note(note).internal


def test_a_note_with_no_internal_flag_is_public() -> None:
    flags = {"detailDescriptionFlag": True, "resolutionFlag": True, "externalFlag": True}
    note = wire.structure({"id": 1, "ticketId": 2, "text": "t", **flags}, wire.TicketNote)
    assert not mapping.ticket_note(note).internal


def test_a_long_summary_is_shortened_and_kept_whole_in_the_description() -> None:
    summary = "Backup failed on " + "FS01 " * 30
    body = mapping.new_ticket(
        TicketDraft(company_id="AldridgeCo", summary=summary.strip(), description="Details."),
        board_id="30",
        marker=marker("k"),
    )

    assert len(body["summary"]) == mapping.SUMMARY_LIMIT and body["summary"].endswith("…")
    assert body["initialDescription"].startswith(summary.strip())
    assert body["company"] == {"identifier": "AldridgeCo"}
    assert body["board"] == {"id": 30} and "priority" not in body
    assert body["externalXRef"] == marker("k")


def test_a_change_patches_the_board_before_the_status() -> None:
    operations = mapping.ticket_patch(TicketChange(status_id="571", board_id="31"))

    assert [op["path"] for op in operations] == ["board", "status"]


def test_the_ticket_link_points_at_the_console_host() -> None:
    default = ConnectWiseOptions().ticket_url(ACCOUNT, 42)
    on_premise = ConnectWiseOptions(console_url="https://cw.example.com/v2025_1")

    assert default == (
        "https://eu.myconnectwise.net/v4_6_release/services/system_io/Service/"
        "fv_sr100_request.rails?service_recid=42&companyName=harbor%20point"
    )
    assert on_premise.ticket_url(ACCOUNT, 42).startswith("https://cw.example.com/v2025_1/")
    assert ConnectWiseOptions(ticket_url_template="").ticket_url(ACCOUNT, 42) == ""


def test_the_sandbox_reads_connectwise_conditions() -> None:
    tickets = [
        {"id": 1, "externalXRef": "Vectis:K1", "_info": {"lastUpdated": "2026-11-27T08:00:00Z"}},
        {"id": 2, "company": {"id": 250}, "_info": {"lastUpdated": "2026-11-27T09:00:00Z"}},
    ]

    def ids(conditions: str) -> list[int]:
        wanted = matcher(conditions)
        return [int(str(t["id"])) for t in tickets if wanted(t)]

    assert ids("lastUpdated >= [2026-11-27T09:00:00Z]") == [2]
    assert ids('externalXRef="vectis:k1"') == [1]
    assert ids("company/id=250 and lastUpdated > [2026-11-27T08:30:00Z]") == [2]
    assert [t["id"] for t in ordered(tickets, "lastUpdated desc")] == [2, 1]
    with pytest.raises(QueryError):
        matcher("id=1 or id=2")


def test_the_sandbox_promises_no_order_among_equal_keys() -> None:
    same = "2026-11-27T08:00:00Z"
    records = [{"id": n, "_info": {"lastUpdated": same}} for n in (1, 2, 3)]

    assert [r["id"] for r in ordered(records, "lastUpdated asc")] == [3, 2, 1]
    assert [r["id"] for r in ordered(records, None)] == [1, 2, 3]
