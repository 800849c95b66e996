"""Tickets keep their PSA's service-level targets, so the hub can show breaches.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE tickets "
        "ADD COLUMN sla_name text, "
        "ADD COLUMN sla_respond_by timestamptz, "
        "ADD COLUMN sla_responded_at timestamptz, "
        "ADD COLUMN sla_resolve_by timestamptz, "
        "ADD COLUMN sla_in_sla boolean"
    )


def downgrade() -> None:
    op.execute(
        "ALTER TABLE tickets DROP COLUMN sla_name, DROP COLUMN sla_respond_by, "
        "DROP COLUMN sla_responded_at, DROP COLUMN sla_resolve_by, DROP COLUMN sla_in_sla"
    )
