"""The tables as SQLAlchemy Core sees them; the migrations own the DDL, RLS and grants."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Double,
    Identity,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
    Uuid,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData()


def _tenant_id() -> Column[object]:
    return Column("tenant_id", Uuid, nullable=False)


def _created_at() -> Column[object]:
    return Column("created_at", DateTime(timezone=True), nullable=False)


tenants = Table(
    "tenants",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("slug", Text, nullable=False, unique=True),
    Column("name", Text, nullable=False),
    _created_at(),
    Column("accent_color", Text),
    Column("logo", LargeBinary),
    Column("logo_type", Text),
)

customers = Table(
    "customers",
    metadata,
    Column("id", Uuid, primary_key=True),
    _tenant_id(),
    Column("name", Text, nullable=False),
    Column("slug", Text, nullable=False),
    _created_at(),
)

sites = Table(
    "sites",
    metadata,
    Column("id", Uuid, primary_key=True),
    _tenant_id(),
    Column("customer_id", Uuid, nullable=False),
    Column("name", Text, nullable=False),
    _created_at(),
)

operators = Table(
    "operators",
    metadata,
    Column("id", Uuid, primary_key=True),
    _tenant_id(),
    Column("email", Text, nullable=False, unique=True),
    Column("display_name", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("time_zone", Text, nullable=False),
    _created_at(),
    Column("disabled_at", DateTime(timezone=True)),
)

access_tokens = Table(
    "access_tokens",
    metadata,
    Column("id", Uuid, primary_key=True),
    _tenant_id(),
    Column("operator_id", Uuid, nullable=False),
    Column("name", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("hint", Text, nullable=False),
    Column("digest", LargeBinary, nullable=False, unique=True),
    _created_at(),
    Column("expires_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
    Column("last_used_at", DateTime(timezone=True)),
)

operator_sessions = Table(
    "operator_sessions",
    metadata,
    Column("id", Uuid, primary_key=True),
    _tenant_id(),
    Column("operator_id", Uuid, nullable=False),
    Column("digest", LargeBinary, nullable=False, unique=True),
    _created_at(),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True)),
)

# Reached only through the vectis_sign_in_* functions (migration 0007), never queried directly.
sign_in_throttle = Table(
    "sign_in_throttle",
    metadata,
    Column("key", LargeBinary, primary_key=True),
    Column("scope", Text, nullable=False),
    Column("tenant_id", Uuid),
    Column("operator_id", Uuid),
    Column("failures", Integer, nullable=False, server_default="0"),
    Column("window_started_at", DateTime(timezone=True), nullable=False),
    Column("last_failure_at", DateTime(timezone=True)),
    Column("locked_until", DateTime(timezone=True)),
)

integrations = Table(
    "integrations",
    metadata,
    Column("id", Uuid, primary_key=True),
    _tenant_id(),
    Column("vendor", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("base_url", Text, nullable=False),
    Column("credentials", LargeBinary, nullable=False),
    Column("settings", JSONB, nullable=False),
    _created_at(),
    Column("last_success_at", DateTime(timezone=True)),
    Column("last_error_at", DateTime(timezone=True)),
    Column("last_error", Text),
)

customer_links = Table(
    "customer_links",
    metadata,
    _tenant_id(),
    Column("integration_id", Uuid, primary_key=True),
    Column("company_ref", Text, primary_key=True),
    Column("customer_id", Uuid, nullable=False),
)

events = Table(
    "events",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    _tenant_id(),
    Column("customer_id", Uuid),
    Column("site_id", Uuid),
    Column("source", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("title", Text, nullable=False),
    Column("detail", Text, nullable=False),
    Column("subject_system", Text),
    Column("subject_type", Text),
    Column("subject_id", Text),
    Column("integration_id", Uuid),
    Column("payload", JSONB, nullable=False),
    Column("dedup_key", Text),
)

customer_notes = Table(
    "customer_notes",
    metadata,
    Column("id", Uuid, primary_key=True),
    _tenant_id(),
    Column("customer_id", Uuid, nullable=False),
    Column("body", Text, nullable=False),
    Column("format", Text, nullable=False),
    Column("author", Text, nullable=False),
    Column("edited_by", Text, nullable=False),
    _created_at(),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("idempotency_key", Text),
)

customer_note_revisions = Table(
    "customer_note_revisions",
    metadata,
    _tenant_id(),
    Column("note_id", Uuid, primary_key=True),
    Column("revision", Integer, primary_key=True),
    Column("body", Text, nullable=False),
    Column("format", Text, nullable=False),
    Column("author", Text, nullable=False),
    Column("written_at", DateTime(timezone=True), nullable=False),
)

inbox = Table(
    "inbox",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    _tenant_id(),
    Column("integration_id", Uuid, nullable=False),
    Column("external_id", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("event", JSONB, nullable=False),
    Column("processed_at", DateTime(timezone=True)),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    _tenant_id(),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("actor_kind", Text, nullable=False),
    Column("actor_id", Text),
    Column("actor_label", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("target_system", Text, nullable=False),
    Column("target_id", Text),
    # ``json`` keeps the canonical text byte for byte, which the hash chain covers.
    Column("payload", JSON, nullable=False),
    Column("outcome", Text, nullable=False),
)

audit_chain = Table(
    "audit_chain",
    metadata,
    Column("tenant_id", Uuid, primary_key=True),
    Column("seq", BigInteger, primary_key=True),
    Column("entry_id", BigInteger, nullable=False, unique=True),
    Column("prev_hash", LargeBinary, nullable=False),
    Column("hash", LargeBinary, nullable=False),
)

audit_pending = Table(
    "audit_pending",
    metadata,
    Column("entry_id", BigInteger, primary_key=True),
    _tenant_id(),
    Column("digest", LargeBinary, nullable=False),
)

audit_chain_heads = Table(
    "audit_chain_heads",
    metadata,
    Column("tenant_id", Uuid, primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("hash", LargeBinary, nullable=False),
)

writebacks = Table(
    "writebacks",
    metadata,
    Column("id", Uuid, primary_key=True),
    _tenant_id(),
    Column("integration_id", Uuid, nullable=False),
    Column("action", Text, nullable=False),
    Column("params", JSONB, nullable=False),
    Column("idempotency_key", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("requested_by", JSONB, nullable=False),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("result", JSONB, nullable=False),
    Column("error", Text),
)

rate_buckets = Table(
    "rate_buckets",
    metadata,
    Column("integration_id", Uuid, primary_key=True),
    _tenant_id(),
    Column("capacity", Double, nullable=False),
    Column("refill_per_second", Double, nullable=False),
    Column("tokens", Double, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

request_slots = Table(
    "request_slots",
    metadata,
    Column("integration_id", Uuid, primary_key=True),
    Column("slot", Integer, primary_key=True),
    _tenant_id(),
    Column("held_until", DateTime(timezone=True), nullable=False),
    Column("holder", Uuid),
)


def _synced(name: str, *columns: Column[Any], kind_key: bool = False) -> Table:
    """A table of one unified-model record type, keyed by (integration, vendor id)."""
    return Table(
        name,
        metadata,
        _tenant_id(),
        Column("integration_id", Uuid, primary_key=True),
        *([Column("kind", Text, primary_key=True)] if kind_key else []),
        Column("vendor_id", Text, primary_key=True),
        Column("customer_id", Uuid),
        *columns,
        Column("synced_at", DateTime(timezone=True), nullable=False),
        Column("deleted_at", DateTime(timezone=True)),
    )


def _at(name: str, nullable: bool = True) -> Column[object]:
    return Column(name, DateTime(timezone=True), nullable=nullable)


ticket_references = _synced(
    "ticket_references",
    Column("name", Text, nullable=False),
    Column("closed", Boolean, nullable=False),
    kind_key=True,
)
vendor_companies = _synced(
    "vendor_companies",
    Column("name", Text, nullable=False),
    Column("identifier", Text, nullable=False),
    _at("updated_at"),
)
vendor_sites = _synced(
    "vendor_sites",
    Column("company_id", Text, nullable=False),
    Column("name", Text, nullable=False),
    _at("updated_at"),
)
contacts = _synced(
    "contacts",
    Column("company_id", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("email", Text, nullable=False),
    Column("phone", Text, nullable=False),
    _at("updated_at"),
)
tickets = _synced(
    "tickets",
    Column("company_id", Text),
    Column("number", Text, nullable=False),
    Column("summary", Text, nullable=False),
    Column("description", Text, nullable=False),
    *(
        Column(f"{part}{suffix}", Text)
        for part in ("board", "status", "priority", "owner")
        for suffix in ("_id", "")
    ),
    Column("contact_id", Text),
    Column("site_id", Text),
    Column("closed", Boolean, nullable=False),
    _at("opened_at", nullable=False),
    _at("updated_at", nullable=False),
    _at("closed_at"),
    Column("url", Text, nullable=False),
    Column("sla_name", Text),
    _at("sla_respond_by"),
    _at("sla_responded_at"),
    _at("sla_resolve_by"),
    Column("sla_in_sla", Boolean),
)
ticket_notes = _synced(
    "ticket_notes",
    Column("ticket_id", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("internal", Boolean, nullable=False),
    Column("from_customer", Boolean, nullable=False),
    Column("author", Text, nullable=False),
    _at("created_at"),
)
contracts = _synced(
    "contracts",
    Column("company_id", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("starts_on", Date),
    Column("ends_on", Date),
    Column("lines", JSONB, nullable=False),
    _at("updated_at"),
)
devices = _synced(
    "devices",
    Column("company_id", Text),
    Column("name", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("os", Text, nullable=False),
    Column("site", Text, nullable=False),
    Column("online", Boolean),
    _at("last_seen_at"),
    Column("patch_state", Text, nullable=False),
    Column("patches_pending", Integer, nullable=False),
    Column("av_state", Text, nullable=False),
    _at("av_definitions_at"),
    _at("updated_at"),
    Column("url", Text, nullable=False),
)
alerts = _synced(
    "alerts",
    Column("company_id", Text),
    Column("device_id", Text),
    Column("message", Text, nullable=False),
    Column("severity", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("source", Text, nullable=False),
    _at("raised_at", nullable=False),
    _at("updated_at"),
    _at("resolved_at"),
    Column("url", Text, nullable=False),
)
daily_metrics = _synced(
    "daily_metrics",
    Column("company_id", Text, nullable=False),
    Column("day", Date, nullable=False),
    Column("name", Text, nullable=False),
    Column("value", Double, nullable=False),
)

sync_runs = Table(
    "sync_runs",
    metadata,
    Column("id", Uuid, primary_key=True),
    _tenant_id(),
    Column("integration_id", Uuid, nullable=False),
    _at("started_at", nullable=False),
    _at("finished_at"),
    Column("full_sync", Boolean, nullable=False),
    Column("status", Text, nullable=False),
    Column("counts", JSONB, nullable=False),
    Column("errors", JSONB, nullable=False),
)

sync_cursors = Table(
    "sync_cursors",
    metadata,
    _tenant_id(),
    Column("integration_id", Uuid, primary_key=True),
    Column("stream", Text, primary_key=True),
    Column("cursor", Text, nullable=False),
    _at("updated_at", nullable=False),
)

SYNCED_TABLES = (
    ticket_references,
    vendor_companies,
    vendor_sites,
    contacts,
    tickets,
    ticket_notes,
    contracts,
    devices,
    alerts,
    daily_metrics,
)

TENANT_TABLES = (
    "customers",
    "sites",
    "operators",
    "access_tokens",
    "operator_sessions",
    "integrations",
    "customer_links",
    "events",
    "inbox",
    "audit_log",
    "audit_chain",
    "audit_pending",
    "audit_chain_heads",
    "writebacks",
    "rate_buckets",
    "request_slots",
    *(table.name for table in SYNCED_TABLES),
    "sync_runs",
    "sync_cursors",
    "customer_notes",
    "customer_note_revisions",
)
