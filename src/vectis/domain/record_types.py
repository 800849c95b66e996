"""What Vectis knows about each kind of synced record, in one place per kind.

A ``RecordType`` names the record (as a ``Deletion`` and the storage name it), says how a
complete listing keys it, which customer it belongs to, which stored record its changes are
compared with and the events they make, and — for the hub's tables — the sorts and filters its
listing offers. The store, the sync, the listings and the hub read these instead of each
keeping its own ``if record is a Ticket`` branches. (The table and its row mapping are the
PostgreSQL adapter's half, keyed by the same name.)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from attrs import field, frozen

from vectis.domain.changes import (
    alert_events,
    device_events,
    note_events,
    ticket_deleted_events,
    ticket_events,
)
from vectis.domain.events import InboundEvent
from vectis.domain.records import (
    Alert,
    Contact,
    Contract,
    Device,
    Reference,
    Ticket,
    TicketNote,
    VendorCompany,
    VendorSite,
)

Changes = Callable[[str, Any, Any], list[InboundEvent]]
"""``(vendor, record, stored)`` → the events a record's change makes (``stored``: ``None``
when Vectis never saw the record it is compared with)."""
Removal = Callable[[str, str, Any, datetime], list[InboundEvent]]
"""``(vendor, vendor id, stored, at)`` → the events the vendor's deletion of a record makes."""


@frozen(kw_only=True)
class Listing:
    """A hub table over one record type: what it sorts and filters by."""

    name: str
    sorts: tuple[str, ...]
    filters: tuple[str, ...]
    defaults: Mapping[str, str] = field(factory=dict)
    """Filters set when the URL names none (the tickets table opens on open tickets)."""
    ascending_first: tuple[str, ...] = ()
    """Sorts that start ascending (names A→Z); the others start with the newest or worst."""


@frozen(kw_only=True)
class RecordType:
    name: str
    """How deletions and storage name the type: ``ticket``, ``alert``, ``note``…"""
    cls: type[Any]
    key: Callable[[Any], str] = field(default=lambda record: str(record.id))
    """How a complete listing names one record, unique within the type."""
    company: Callable[[Any, Any], str | None] = field(
        default=lambda record, stored: record.company_id
    )
    """``(record, stored)`` → the vendor's company it belongs to (its customer's link)."""
    compared_with: str | None = None
    """The record type whose stored state the events compare against (``None``: no events)."""
    compared_key: Callable[[Any], str] = field(default=lambda record: str(record.id))
    changes: Changes | None = None
    removal: Removal | None = None
    resolved_when_missing: bool = False
    """Missing from a complete listing means cleared (alerts), not deleted at the vendor."""
    listing: Listing | None = None


TICKET_LISTING = Listing(
    name="tickets",
    sorts=("updated", "opened", "summary", "status", "owner"),
    filters=("state", "status", "priority", "owner", "site", "sla"),
    defaults={"state": "open"},
)
ALERT_LISTING = Listing(
    name="alerts",
    sorts=("severity", "raised"),
    filters=("state", "severity", "site"),
    defaults={"state": "active"},
)
DEVICE_LISTING = Listing(
    name="devices",
    sorts=("name", "last_seen", "os"),
    filters=("patch", "av", "site"),
    ascending_first=("name", "os"),
)

REFERENCE = RecordType(
    name="reference",
    cls=Reference,
    # References are per kind: status 4 is not priority 4.
    key=lambda record: f"{record.kind}:{record.id}",
    company=lambda record, stored: None,
)
COMPANY = RecordType(name="company", cls=VendorCompany, company=lambda record, stored: record.id)
SITE = RecordType(name="site", cls=VendorSite)
CONTACT = RecordType(name="contact", cls=Contact)
TICKET = RecordType(
    name="ticket",
    cls=Ticket,
    compared_with="ticket",
    changes=ticket_events,
    removal=ticket_deleted_events,
    listing=TICKET_LISTING,
)
NOTE = RecordType(
    name="note",
    cls=TicketNote,
    # A note belongs to its ticket's company; its events are keyed by the note, so one seen
    # again (a re-read page) adds nothing to the stream.
    company=lambda note, ticket: ticket.company_id if ticket else None,
    compared_with="ticket",
    compared_key=lambda note: note.ticket_id,
    changes=note_events,
)
CONTRACT = RecordType(name="contract", cls=Contract)
DEVICE = RecordType(
    name="device",
    cls=Device,
    # An RMM that reports no antivirus-definitions event (NinjaOne) has the change between
    # syncs as its event.
    compared_with="device",
    changes=device_events,
    listing=DEVICE_LISTING,
)
ALERT = RecordType(
    name="alert",
    cls=Alert,
    compared_with="alert",
    changes=alert_events,
    resolved_when_missing=True,
    listing=ALERT_LISTING,
)

RECORD_TYPES = (REFERENCE, COMPANY, SITE, CONTACT, TICKET, NOTE, CONTRACT, DEVICE, ALERT)
_BY_CLASS = {record_type.cls: record_type for record_type in RECORD_TYPES}
_BY_NAME = {record_type.name: record_type for record_type in RECORD_TYPES}


def record_type_of(record: object) -> RecordType:
    """The descriptor of a synced record (a ``KeyError`` for what is not one: our bug)."""
    return _BY_CLASS[type(record)]


def named(name: str) -> RecordType | None:
    """The record type a vendor's ``Deletion`` names, if Vectis stores that type."""
    return _BY_NAME.get(name)
