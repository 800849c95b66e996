"""Let the sync refresh the planner's statistics of a synced table it has grown.

A first sync fills a table from nothing within minutes; until autovacuum analyzes it, the
planner believes the integration owns a handful of rows, and each page's lookup of the rows
it compares with scans every row the integration has (16 s of a 100,000-ticket sync's 37 s of
database time, growing with the square of its size). The runtime role owns no table, so it
analyzes through this function, which runs with its owner's rights and takes only the names
of the synced tables.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

SYNCED = (
    "ticket_references",
    "vendor_companies",
    "vendor_sites",
    "contacts",
    "tickets",
    "ticket_notes",
    "contracts",
    "devices",
    "alerts",
)

FUNCTION = f"""
CREATE FUNCTION vectis_refresh_statistics(table_name text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    IF table_name NOT IN ({", ".join(f"'{name}'" for name in SYNCED)}) THEN
        RAISE EXCEPTION 'not a synced table: %', table_name
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    EXECUTE format('ANALYZE public.%I', table_name);
END
$$;
REVOKE EXECUTE ON FUNCTION vectis_refresh_statistics(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION vectis_refresh_statistics(text) TO vectis_app;
"""


def upgrade() -> None:
    op.execute(FUNCTION)


def downgrade() -> None:
    op.execute("DROP FUNCTION vectis_refresh_statistics(text)")
