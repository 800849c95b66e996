"""The hub: operators' notes on customers (with every earlier text kept) and tenant branding.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

APP_ROLE = "vectis_app"

NOTES = """
CREATE TABLE customer_notes (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    customer_id uuid NOT NULL,
    body text NOT NULL,
    format text NOT NULL CHECK (format IN ('text', 'markdown')),
    author text NOT NULL,
    edited_by text NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    revision integer NOT NULL CHECK (revision > 0),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX customer_notes_by_customer ON customer_notes (tenant_id, customer_id, created_at DESC);

-- Every text a note has had, the current one included; rows are only ever added.
CREATE TABLE customer_note_revisions (
    tenant_id uuid NOT NULL,
    note_id uuid NOT NULL REFERENCES customer_notes (id) ON DELETE CASCADE,
    revision integer NOT NULL,
    body text NOT NULL,
    format text NOT NULL,
    author text NOT NULL,
    written_at timestamptz NOT NULL,
    PRIMARY KEY (note_id, revision)
);
"""

BRANDING = """
ALTER TABLE tenants
    ADD COLUMN accent_color text CHECK (accent_color ~ '^#[0-9a-f]{6}$'),
    ADD COLUMN logo bytea CHECK (octet_length(logo) <= 262144),
    ADD COLUMN logo_type text CHECK (logo_type IN ('image/png', 'image/jpeg', 'image/webp'));
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
    op.execute(NOTES)
    op.execute(_tenant_scoped("customer_notes", "SELECT, INSERT, UPDATE"))
    op.execute(_tenant_scoped("customer_note_revisions", "SELECT, INSERT"))
    op.execute(BRANDING)


def downgrade() -> None:
    op.execute(
        "ALTER TABLE tenants DROP COLUMN accent_color, DROP COLUMN logo, DROP COLUMN logo_type"
    )
    op.execute("DROP TABLE customer_note_revisions, customer_notes")
