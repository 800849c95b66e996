"""Autotask ↔ Vectis, both ways: rows and callouts in (``records``, ``events``), bodies out."""

from __future__ import annotations

from vectis.adapters.vendors.autotask.mapping.events import (
    webhook_events,
)
from vectis.adapters.vendors.autotask.mapping.records import (
    CONTRACT_TYPES,
    Lookups,
    company,
    contact,
    contract,
    device,
    format_time,
    optional_id,
    parse_time,
    references,
    required_time,
    resource_name,
    site,
    ticket,
    ticket_note,
    ticket_sla,
    ticket_url,
    units_by_service,
)
from vectis.adapters.vendors.autotask.mapping.requests import (
    new_note,
    new_ticket,
    new_webhook,
    number,
    ticket_update,
    webhook_field,
    webhook_field_ids,
    webhook_reactivation,
)

__all__ = [
    "CONTRACT_TYPES",
    "Lookups",
    "company",
    "contact",
    "contract",
    "device",
    "format_time",
    "new_note",
    "new_ticket",
    "new_webhook",
    "number",
    "optional_id",
    "parse_time",
    "references",
    "required_time",
    "resource_name",
    "site",
    "ticket",
    "ticket_note",
    "ticket_sla",
    "ticket_update",
    "ticket_url",
    "units_by_service",
    "webhook_events",
    "webhook_field",
    "webhook_field_ids",
    "webhook_reactivation",
]
