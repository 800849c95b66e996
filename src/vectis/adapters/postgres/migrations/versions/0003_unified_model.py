"""The unified model that connectors fill, sync runs and cursors, and event deduplication.

Every synced table is keyed by (integration_id, vendor_id): re-syncing updates in place and
never duplicates. ``customer_id`` is resolved from the integration's customer links when a row
is written and re-resolved when a link changes; ``deleted_at`` marks what the vendor removed.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

APP_ROLE = "vectis_app"

SYNCED = {
    "ticket_references": """
        kind text NOT NULL,
        name text NOT NULL,
        closed boolean NOT NULL DEFAULT false""",
    "vendor_companies": """
        name text NOT NULL,
        identifier text NOT NULL DEFAULT '',
        updated_at timestamptz""",
    "vendor_sites": """
        company_id text NOT NULL,
        name text NOT NULL,
        updated_at timestamptz""",
    "contacts": """
        company_id text NOT NULL,
        name text NOT NULL,
        email text NOT NULL DEFAULT '',
        phone text NOT NULL DEFAULT '',
        updated_at timestamptz""",
    "tickets": """
        company_id text,
        number text NOT NULL DEFAULT '',
        summary text NOT NULL,
        description text NOT NULL DEFAULT '',
        board_id text, board text,
        status_id text, status text,
        priority_id text, priority text,
        owner_id text, owner text,
        contact_id text,
        site_id text,
        closed boolean NOT NULL,
        opened_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        closed_at timestamptz,
        url text NOT NULL DEFAULT ''""",
    "ticket_notes": """
        ticket_id text NOT NULL,
        text text NOT NULL,
        internal boolean NOT NULL,
        from_customer boolean NOT NULL DEFAULT false,
        author text NOT NULL DEFAULT '',
        created_at timestamptz""",
    "contracts": """
        company_id text NOT NULL,
        name text NOT NULL,
        kind text NOT NULL DEFAULT '',
        status text NOT NULL,
        starts_on date,
        ends_on date,
        lines jsonb NOT NULL DEFAULT '[]',
        updated_at timestamptz""",
    "devices": """
        company_id text,
        name text NOT NULL,
        kind text NOT NULL DEFAULT '',
        os text NOT NULL DEFAULT '',
        site text NOT NULL DEFAULT '',
        online boolean,
        last_seen_at timestamptz,
        patch_state text NOT NULL,
        patches_pending integer NOT NULL DEFAULT 0,
        av_state text NOT NULL,
        av_definitions_at timestamptz,
        updated_at timestamptz,
        url text NOT NULL DEFAULT ''""",
    "alerts": """
        company_id text,
        device_id text,
        message text NOT NULL,
        severity text NOT NULL,
        state text NOT NULL,
        source text NOT NULL DEFAULT '',
        raised_at timestamptz NOT NULL,
        updated_at timestamptz,
        resolved_at timestamptz,
        url text NOT NULL DEFAULT ''""",
    "daily_metrics": """
        company_id text NOT NULL,
        day date NOT NULL,
        name text NOT NULL,
        value double precision NOT NULL""",
}

INDEXES = """
CREATE INDEX tickets_by_customer ON tickets (tenant_id, customer_id, closed, updated_at DESC);
CREATE INDEX tickets_by_company ON tickets (integration_id, company_id);
CREATE INDEX ticket_notes_by_ticket ON ticket_notes (integration_id, ticket_id, created_at);
CREATE INDEX devices_by_customer ON devices (tenant_id, customer_id, name);
CREATE INDEX alerts_by_customer ON alerts (tenant_id, customer_id, state, raised_at DESC);
CREATE INDEX contracts_by_customer ON contracts (tenant_id, customer_id, ends_on);
CREATE INDEX daily_metrics_by_customer ON daily_metrics (tenant_id, customer_id, name, day);
"""

RUNS = """
CREATE TABLE sync_runs (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    integration_id uuid NOT NULL,
    started_at timestamptz NOT NULL,
    finished_at timestamptz,
    full_sync boolean NOT NULL DEFAULT false,
    status text NOT NULL,
    counts jsonb NOT NULL DEFAULT '{}',
    errors jsonb NOT NULL DEFAULT '[]',
    FOREIGN KEY (tenant_id, integration_id) REFERENCES integrations (tenant_id, id)
        ON DELETE CASCADE
);
CREATE INDEX sync_runs_by_integration ON sync_runs (integration_id, started_at DESC);

CREATE TABLE sync_cursors (
    tenant_id uuid NOT NULL,
    integration_id uuid NOT NULL,
    stream text NOT NULL,
    cursor text NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (integration_id, stream),
    FOREIGN KEY (tenant_id, integration_id) REFERENCES integrations (tenant_id, id)
        ON DELETE CASCADE
);

-- The same change may reach Vectis twice (a webhook, then the next sync): one event.
ALTER TABLE events ADD COLUMN dedup_key text;
CREATE UNIQUE INDEX events_dedup ON events (integration_id, dedup_key)
    WHERE dedup_key IS NOT NULL;
"""


def _synced_table(name: str, columns: str) -> str:
    key = "kind, vendor_id" if name == "ticket_references" else "vendor_id"
    return f"""
CREATE TABLE {name} (
    tenant_id uuid NOT NULL,
    integration_id uuid NOT NULL,
    vendor_id text NOT NULL,
    customer_id uuid,
    {columns.strip()},
    synced_at timestamptz NOT NULL,
    deleted_at timestamptz,
    PRIMARY KEY (integration_id, {key}),
    FOREIGN KEY (tenant_id, integration_id) REFERENCES integrations (tenant_id, id)
        ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id) ON DELETE SET NULL
);
"""


def _tenant_scoped(name: str, privileges: str) -> str:
    return f"""
ALTER TABLE {name} ENABLE ROW LEVEL SECURITY;
ALTER TABLE {name} FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON {name}
    USING (tenant_id = (SELECT vectis_current_tenant()))
    WITH CHECK (tenant_id = (SELECT vectis_current_tenant()));
GRANT {privileges} ON {name} TO {APP_ROLE};
"""


def upgrade() -> None:
    for name, columns in SYNCED.items():
        op.execute(_synced_table(name, columns))
        op.execute(_tenant_scoped(name, "SELECT, INSERT, UPDATE"))
    op.execute(INDEXES)
    op.execute(RUNS)
    op.execute(_tenant_scoped("sync_runs", "SELECT, INSERT, UPDATE"))
    op.execute(_tenant_scoped("sync_cursors", "SELECT, INSERT, UPDATE"))


def downgrade() -> None:
    op.execute("DROP INDEX events_dedup; ALTER TABLE events DROP COLUMN dedup_key")
    op.execute("DROP TABLE sync_cursors, sync_runs")
    op.execute("DROP TABLE " + ", ".join(SYNCED))
