"""A customer note remembers the submission that wrote it, so a form sent twice (a double
click, a resubmitted page) or an API call retried with its ``Idempotency-Key`` writes one note.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE customer_notes ADD COLUMN idempotency_key text;"
        "CREATE UNIQUE INDEX customer_notes_idempotency ON customer_notes "
        "(tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL;"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE customer_notes DROP COLUMN idempotency_key")
