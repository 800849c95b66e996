"""Per-integration request slots: how many requests to a vendor may be in flight at once,
across every process (a vendor's documented concurrency limit, beside its rate).

A slot is a row with a lease: a request takes a free slot (its lease expired or released)
under ``FOR UPDATE SKIP LOCKED``, holds it while it is in flight, and gives it back; a
process that dies holding one loses it when the lease runs out.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

SLOTS = """
CREATE TABLE request_slots (
    integration_id uuid NOT NULL,
    slot integer NOT NULL CHECK (slot >= 0),
    tenant_id uuid NOT NULL,
    held_until timestamptz NOT NULL DEFAULT '-infinity',
    holder uuid,
    PRIMARY KEY (integration_id, slot),
    FOREIGN KEY (tenant_id, integration_id) REFERENCES integrations (tenant_id, id)
        ON DELETE CASCADE
);
ALTER TABLE request_slots ENABLE ROW LEVEL SECURITY;
ALTER TABLE request_slots FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON request_slots
    USING (tenant_id = (SELECT vectis_current_tenant()))
    WITH CHECK (tenant_id = (SELECT vectis_current_tenant()));
GRANT SELECT, INSERT, UPDATE ON request_slots TO vectis_app;
"""


def upgrade() -> None:
    op.execute(SLOTS)


def downgrade() -> None:
    op.execute("DROP TABLE request_slots")
