"""The connector kit's settings reader: conversion by type, defaults, bounds and its one error."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import pytest
from attrs import field, frozen

from tests.factories import settings_link
from vectis.adapters.vendors._entry import Link
from vectis.adapters.vendors._kit.settings import credentials, read_settings, within
from vectis.adapters.vendors.halopsa.settings import HaloSettings
from vectis.adapters.vendors.ninjaone.settings import NinjaOneAccount
from vectis.domain.errors import VendorRejected

MAX = 100


@frozen(kw_only=True)
class Choices:
    page_size: int = field(default=MAX, metadata=within(1, MAX))
    lookback_hours: float = 72.0
    sync_sites: bool = True
    template: str = "{id}"
    board_id: str | None = None
    ticket_type_id: int | None = None
    closed_ids: frozenset[int] = frozenset({9})
    events: tuple[int, ...] = (3, 61)
    mixed_ids: tuple[int | str, ...] = ()
    codes: Mapping[str, Sequence[str]] | None = None
    list_keys: Mapping[str, str] = field(factory=lambda: {"/Tickets": "tickets", "/Site": "sites"})
    scope: str = "all"


def link(settings: Mapping[str, Any] | None = None, **secrets: str) -> Link:
    return settings_link("halopsa", settings or {}, **secrets)


def read(**settings: Any) -> Choices:
    return read_settings(Choices, link(settings), vendor="HaloPSA", names={"scope": "oauth_scope"})


def test_absent_none_and_blank_settings_keep_the_class_defaults() -> None:
    assert read() == Choices()
    assert read(page_size=None, lookback_hours="", closed_ids=" ", board_id="") == Choices()


def test_an_empty_text_setting_is_a_value_not_the_default() -> None:
    assert read(template="").template == ""


@pytest.mark.parametrize(
    ("name", "given", "read_as"),
    [
        ("page_size", "25", 25),
        ("page_size", 25.0, 25),
        ("lookback_hours", "1.5", 1.5),
        ("lookback_hours", 2, 2.0),
        ("template", "{id}/open", "{id}/open"),
        ("board_id", 7, "7"),
        ("ticket_type_id", "12", 12),
        ("closed_ids", [9, "10"], frozenset({9, 10})),
        ("closed_ids", 11, frozenset({11})),
        ("closed_ids", "9, 12", frozenset({9, 12})),
        ("events", ["61", 3], (61, 3)),
        ("mixed_ids", ["7", "abc"], (7, "abc")),
        ("codes", {"CONDITION": ["TRIGGERED"]}, {"CONDITION": ("TRIGGERED",)}),
    ],
)
def test_each_setting_is_converted_by_its_fields_type(name: str, given: Any, read_as: Any) -> None:
    assert getattr(read(**{name: given}), name) == read_as


@pytest.mark.parametrize(
    ("given", "read_as"),
    [
        (True, True),
        (False, False),
        ("true", True),
        ("False", False),
        ("1", True),
        ("0", False),
        ("on", True),
        ("off", False),
        (1, True),
        (0, False),
    ],
)
def test_a_flag_takes_the_strings_a_form_sends(given: Any, read_as: bool) -> None:
    assert read(sync_sites=given).sync_sites is read_as


def test_numbers_are_clamped_to_the_bounds_declared_on_the_field() -> None:
    assert read(page_size=5000).page_size == MAX
    assert read(page_size=0).page_size == 1
    assert read(page_size=-3).page_size == 1


def test_a_mapping_setting_is_merged_over_the_default() -> None:
    keys = read(list_keys={"/Site": "site_list", "/Agent": "agents"}).list_keys

    assert keys == {"/Tickets": "tickets", "/Site": "site_list", "/Agent": "agents"}


def test_a_setting_can_have_a_name_other_than_its_field() -> None:
    assert read(oauth_scope="monitoring").scope == "monitoring"
    assert read(scope="ignored").scope == "all"


@pytest.mark.parametrize(
    ("name", "given", "message"),
    [
        ("page_size", "abc", "HaloPSA setting page_size must be a whole number, not 'abc'"),
        ("page_size", 2.5, "HaloPSA setting page_size must be a whole number, not 2.5"),
        ("page_size", True, "HaloPSA setting page_size must be a whole number, not True"),
        ("lookback_hours", "soon", "setting lookback_hours must be a number, not 'soon'"),
        ("lookback_hours", "nan", "setting lookback_hours must be a number, not 'nan'"),
        ("sync_sites", "maybe", "setting sync_sites must be true or false, not 'maybe'"),
        ("sync_sites", 2, "setting sync_sites must be true or false, not 2"),
        ("template", ["a"], "setting template must be text, not ['a']"),
        ("board_id", {"id": 1}, "setting board_id must be text, not {'id': 1}"),
        ("closed_ids", {"a": 1}, "setting closed_ids must be a list, not {'a': 1}"),
        ("closed_ids", ["x"], "closed_ids must be a list whose every value is a whole number"),
        ("list_keys", ["/Tickets"], "setting list_keys must be a mapping of names to values"),
        ("list_keys", {"/Site": [1]}, "must be a mapping whose every value is text"),
        ("oauth_scope", 3.5j, "HaloPSA setting oauth_scope must be text"),
    ],
)
def test_a_wrong_setting_is_one_rejection_naming_the_vendor_and_the_setting(
    name: str, given: Any, message: str
) -> None:
    with pytest.raises(VendorRejected) as refused:
        read(**{name: given})

    assert message in str(refused.value)
    assert str(refused.value).startswith(f"HaloPSA setting {name} must be ")


def test_a_long_wrong_value_is_shortened_in_the_message() -> None:
    with pytest.raises(VendorRejected) as refused:
        read(page_size="9" * 50 + "x" * 50)

    assert len(str(refused.value)) < 120


def test_a_field_of_a_type_the_kit_cannot_read_is_our_bug_not_the_tenants() -> None:
    @frozen(kw_only=True)
    class Odd:
        when: datetime | None = None

    with pytest.raises(TypeError):
        read_settings(Odd, link({"when": "2026-01-01"}), vendor="HaloPSA")


def test_credentials_are_returned_by_name_or_the_first_lacking_one_is_named() -> None:
    assert credentials(link(client_id="id", client_secret="s"), "HaloPSA", "client_id") == {
        "client_id": "id"
    }
    with pytest.raises(VendorRejected, match=r"^NinjaOne credentials lack client_secret$"):
        NinjaOneAccount.of(link(client_id="id"))


def test_halo_reads_its_event_numbers_sorted_once_from_their_setting() -> None:
    settings = HaloSettings.of(link({"webhook_event_numbers": "61, 3, 61", "contract_lines": "0"}))

    assert settings.webhook_events == (3, 61)
    assert settings.contract_lines is False
