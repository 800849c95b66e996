"""The connector kit: a page of vendor rows read row by row, and the one idempotency marker."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs
import cattrs
import pytest
from attrs import frozen

from vectis.adapters.vendors._kit import markers
from vectis.adapters.vendors._kit.records import Page, UnreadableRecord, amount, read_each
from vectis.domain.errors import InvalidValue
from vectis.domain.records import Reference, ReferenceKind


@frozen(kw_only=True)
class Row:
    id: int
    name: str


CONVERTER = cattrs.Converter(forbid_extra_keys=False)


def structure(row: Any) -> Row:
    return CONVERTER.structure(row, Row)


def board(row: Any) -> Reference:
    wired = structure(row)
    if not wired.name:
        raise UnreadableRecord("the board has no name")
    return Reference(kind=ReferenceKind.BOARD, id=str(wired.id), name=wired.name)


def test_a_page_keeps_readable_rows_and_reports_each_unreadable_one_with_its_id() -> None:
    rows = [{"id": 1, "name": "Help desk"}, {"id": 2, "name": ""}, {"id": "x"}, "junk"]

    page = Page("references").read(rows, board)

    assert [getattr(record, "id", None) for record in page.records] == ["1"]
    assert [(s.vendor_id, s.stream) for s in page.skipped] == [
        ("2", "references"),
        ("x", "references"),
        (None, "references"),
    ]
    assert page.skipped[0].reason == "the board has no name"
    assert "name" in page.skipped[1].reason
    assert page.skipped[2].reason == "not a JSON object"


def test_a_value_the_domain_refuses_skips_the_row() -> None:
    def refused(row: Any) -> Reference:
        raise InvalidValue("an id longer than 200 characters")

    page = Page("tickets").read([{"id": 9}], refused)

    assert page.records == []
    assert page.skipped[0].reason == "an id longer than 200 characters"


@pytest.mark.parametrize(
    "bug", [KeyError("summary"), TypeError("bad operand"), AttributeError("name")]
)
def test_a_bug_in_our_mapping_fails_loudly_instead_of_skipping_the_row(bug: Exception) -> None:
    def buggy(row: Any) -> Reference:
        raise bug

    with pytest.raises(type(bug)):
        Page("tickets").read([{"id": 1}], buggy)


def test_a_row_may_yield_several_records_or_none() -> None:
    def children(row: Any) -> list[Reference] | None:
        if row["id"] == 2:
            return None
        return [board(row), attrs.evolve(board(row), id=f"{row['id']}-child")]

    page = Page("references").read([{"id": 1, "name": "a"}, {"id": 2, "name": "b"}], children)

    assert [getattr(record, "id", None) for record in page.records] == ["1", "1-child"]
    assert page.skipped == []


def test_read_each_structures_rows_and_reports_the_rest() -> None:
    wired, skipped = read_each("sites", [{"id": 1, "name": "HQ"}, {"name": "no id"}], structure)

    assert wired == [Row(id=1, name="HQ")]
    assert len(skipped) == 1 and skipped[0].stream == "sites"


def test_a_long_reason_is_cut_to_its_first_500_characters() -> None:
    def wordy(row: Any) -> Reference:
        raise UnreadableRecord("x" * 2000)

    page = Page("tickets").read([{"id": 1}], wordy)

    assert len(page.skipped[0].reason) == 500


def test_the_marker_is_the_same_short_safe_string_for_the_same_key() -> None:
    key = "wb-" + "é/\"' " * 100

    assert markers.marker(key) == markers.marker(key)
    assert markers.marker(key) != markers.marker(key + "1")
    assert len(markers.marker(key)) == markers.LENGTH == 39
    assert markers.is_marker(markers.marker(key))
    assert markers.marker(key).startswith("vectis:")
    assert markers.note_tag(key) == f"[{markers.marker(key)}]"
    assert not markers.is_marker("vectis:not-hex")


def test_a_marker_needs_a_key() -> None:
    with pytest.raises(ValueError):
        markers.marker("")


def test_a_vendor_number_becomes_an_exact_decimal_or_none_when_it_is_no_number() -> None:
    assert amount(0.1) == Decimal("0.1")
    assert amount(12) == Decimal(12)
    assert amount(None) is None
    assert amount(float("nan")) is None
    assert amount(float("inf")) is None
