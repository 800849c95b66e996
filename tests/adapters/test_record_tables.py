"""Each synced record type has one descriptor, and its PostgreSQL half agrees with it."""

from __future__ import annotations

import typing

from vectis.adapters.postgres.record_tables import TABLES, table_of
from vectis.domain.events import InboundEvent
from vectis.domain.record_types import RECORD_TYPES, Listing, record_type_of
from vectis.domain.records import Deletion, Reference, ReferenceKind, SyncedRecord


def test_every_record_a_sync_stores_has_a_record_type_and_a_table() -> None:
    stored = set(typing.get_args(SyncedRecord)) - {Deletion, InboundEvent}

    assert {record_type.cls for record_type in RECORD_TYPES} == stored
    assert set(TABLES) == {record_type.name for record_type in RECORD_TYPES}


def test_a_listing_sorts_by_the_columns_its_table_has() -> None:
    for record_type in RECORD_TYPES:
        if isinstance(record_type.listing, Listing):
            assert set(record_type.listing.sorts) == set(table_of(record_type).sorts)


def test_references_are_keyed_per_kind() -> None:
    status = Reference(kind=ReferenceKind.STATUS, id="4", name="Waiting")
    priority = Reference(kind=ReferenceKind.PRIORITY, id="4", name="Low")

    keys = {record_type_of(status).key(status), record_type_of(priority).key(priority)}

    assert len(keys) == 2
