"""Per-integration rate limits for vendor calls: one token bucket row per integration.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BUCKETS = """
CREATE TABLE rate_buckets (
    integration_id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    capacity double precision NOT NULL CHECK (capacity > 0),
    refill_per_second double precision NOT NULL CHECK (refill_per_second > 0),
    tokens double precision NOT NULL,
    updated_at timestamptz NOT NULL,
    FOREIGN KEY (tenant_id, integration_id) REFERENCES integrations (tenant_id, id)
        ON DELETE CASCADE
);
ALTER TABLE rate_buckets ENABLE ROW LEVEL SECURITY;
ALTER TABLE rate_buckets FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON rate_buckets
    USING (tenant_id = (SELECT vectis_current_tenant()))
    WITH CHECK (tenant_id = (SELECT vectis_current_tenant()));
GRANT SELECT, INSERT, UPDATE ON rate_buckets TO vectis_app;
"""


def upgrade() -> None:
    op.execute(BUCKETS)


def downgrade() -> None:
    op.execute("DROP TABLE rate_buckets")
