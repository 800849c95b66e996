"""What the runtime role ``vectis_app`` may reach, object by object: the allowlist.

A migration that grants the runtime role anything must add it here, in the same commit; the
privilege-inventory test enumerates every table, sequence, function, schema and database
privilege the role holds and fails on any difference, so a new table cannot arrive readable
(or writable) by accident. Entries name objects in the ``public`` schema.
"""

from __future__ import annotations

from collections.abc import Mapping

READ = frozenset({"SELECT"})
APPEND = frozenset({"SELECT", "INSERT"})
WRITE = frozenset({"SELECT", "INSERT", "UPDATE"})
WRITE_DELETE = frozenset({"SELECT", "INSERT", "UPDATE", "DELETE"})
NEXTVAL = frozenset({"SELECT", "USAGE"})
EXECUTE = frozenset({"EXECUTE"})
# Runs with its owner's rights: each such function is a narrow, audited door.
EXECUTE_AS_OWNER = frozenset({"EXECUTE AS OWNER"})

DATABASE: Mapping[str, frozenset[str]] = {
    # TEMPORARY: the sync stages each page in a temporary table before upserting it.
    "current": frozenset({"CONNECT", "TEMPORARY"}),
}

SCHEMAS: Mapping[str, frozenset[str]] = {"public": frozenset({"USAGE"})}

TABLES: Mapping[str, frozenset[str]] = {
    "alembic_version": READ,  # readiness compares the schema revision
    # Tenancy and identity: rows under row-level security; none is ever deleted.
    "tenants": WRITE,
    "customers": WRITE_DELETE,
    "sites": WRITE_DELETE,
    "customer_links": WRITE_DELETE,
    "operators": WRITE,
    "access_tokens": WRITE,
    "operator_sessions": WRITE,
    "integrations": WRITE,
    "rate_buckets": WRITE,
    "request_slots": WRITE,
    # Append-only: the audit log, its chain (linked by vectis_link_audit) and the events.
    "audit_log": APPEND,
    "audit_pending": APPEND,
    "audit_chain": READ,
    "audit_chain_heads": READ,
    "events": APPEND,
    "inbox": WRITE,
    "writebacks": WRITE,
    # The unified model, kept up to date by the sync; deletions are marks, not DELETEs.
    "ticket_references": WRITE,
    "vendor_companies": WRITE,
    "vendor_sites": WRITE,
    "contacts": WRITE,
    "tickets": WRITE,
    "ticket_notes": WRITE,
    "contracts": WRITE,
    "devices": WRITE,
    "alerts": WRITE,
    "daily_metrics": WRITE,
    "sync_runs": WRITE,
    "sync_cursors": WRITE,
    "customer_notes": WRITE,
    "customer_note_revisions": APPEND,  # a note's earlier texts are kept, never changed
    # The job queue (procrastinate) on the same database.
    "procrastinate_jobs": WRITE_DELETE,
    "procrastinate_events": WRITE_DELETE,
    "procrastinate_periodic_defers": WRITE_DELETE,
    "procrastinate_workers": WRITE_DELETE,
}

SEQUENCES: Mapping[str, frozenset[str]] = {
    name: NEXTVAL
    for name in (
        "audit_log_id_seq",
        "events_id_seq",
        "inbox_id_seq",
        "procrastinate_events_id_seq",
        "procrastinate_jobs_id_seq",
        "procrastinate_periodic_defers_id_seq",
        "procrastinate_workers_id_seq",
    )
}

FUNCTIONS: Mapping[str, frozenset[str]] = {
    "vectis_current_tenant()": EXECUTE,  # row-level security policies call these two
    "vectis_lookup(text)": EXECUTE,
    "vectis_refuse_audit_change()": EXECUTE,  # a trigger function: not callable directly
    "vectis_link_audit(uuid,integer)": EXECUTE_AS_OWNER,
    "vectis_tenant_ids()": EXECUTE_AS_OWNER,
    "vectis_refresh_statistics(text)": EXECUTE_AS_OWNER,  # ANALYZE of a synced table only
    # The sign-in throttle (no table privilege): count or refuse, succeed, list, clear.
    "vectis_sign_in_reserve(bytea,bytea,bytea,bytea,uuid,uuid,timestamp with time zone,"
    "interval,integer,integer,integer,interval,interval,interval)": EXECUTE_AS_OWNER,
    "vectis_sign_in_succeeded(bytea,bytea,bytea,bytea,uuid,uuid,timestamp with time zone,"
    "integer)": EXECUTE_AS_OWNER,
    "vectis_sign_in_locks(timestamp with time zone,interval,integer)": EXECUTE_AS_OWNER,
    "vectis_sign_in_unlock(uuid)": EXECUTE_AS_OWNER,
}

# procrastinate's own functions change with its version; the role may execute those (and
# only those) by their prefix, and none of them may run with its owner's rights.
JOB_QUEUE_FUNCTION_PREFIX = "procrastinate_"
