"""The runtime role reaches only what it needs: no tenant directory, no hand on the audit chain.

- ``tenants`` is no longer readable in full: a tenant sees its own row, and a pre-tenant
  lookup sees the one row whose slug it names (as the other pre-tenant lookups do). The
  periodic jobs that visit every tenant get bare ids from ``vectis_tenant_ids()``.
- ``audit_chain``, ``audit_chain_heads`` and ``audit_pending`` are written only by
  ``vectis_link_audit()``, which now runs with its owner's rights; the runtime role keeps
  ``SELECT`` on them and ``INSERT`` on ``audit_pending`` (marking an entry to be linked), so a
  foothold in the runtime can no longer move a chain head or drop a pending entry.

Functions that run with their owner's rights pin ``search_path`` (``pg_temp`` last), and only
``vectis_app`` may execute them. A policy ``TO`` the owning role lets those functions read
past row-level security when the owner is not a superuser (``FORCE ROW LEVEL SECURITY``
applies to owners too); the runtime role can never become the owner, so it gains nothing.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# Spelled out, not formatted in: these statements take no input.

TENANTS = """
DROP POLICY directory ON tenants;
CREATE POLICY own_row ON tenants FOR SELECT
    USING (id = (SELECT vectis_current_tenant()));
CREATE POLICY slug_lookup ON tenants FOR SELECT
    USING (slug = (SELECT vectis_lookup('slug')));
CREATE POLICY owner_functions ON tenants FOR SELECT TO CURRENT_USER USING (true);

CREATE FUNCTION vectis_tenant_ids() RETURNS SETOF uuid
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, public, pg_temp
    AS $$ SELECT id FROM public.tenants ORDER BY created_at, id $$;
REVOKE EXECUTE ON FUNCTION vectis_tenant_ids() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION vectis_tenant_ids() TO vectis_app;
"""

AUDIT = """
REVOKE INSERT ON audit_chain FROM vectis_app;
REVOKE INSERT, UPDATE ON audit_chain_heads FROM vectis_app;
REVOKE DELETE ON audit_pending FROM vectis_app;

-- As in 0001, but with its owner's rights, and the caller's tenant setting put back after.
CREATE OR REPLACE FUNCTION vectis_link_audit(p_tenant uuid, p_limit integer) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, public, pg_temp
    AS $$
DECLARE
    caller_tenant text := current_setting('vectis.tenant_id', true);
    head_seq bigint;
    head_hash bytea;
    item record;
    linked integer := 0;
BEGIN
    PERFORM set_config('vectis.tenant_id', p_tenant::text, true);
    INSERT INTO audit_chain_heads (tenant_id, seq, hash)
    VALUES (p_tenant, 0, sha256(convert_to('vectis-audit-genesis:' || p_tenant::text, 'UTF8')))
    ON CONFLICT DO NOTHING;
    SELECT seq, hash INTO head_seq, head_hash FROM audit_chain_heads
    WHERE tenant_id = p_tenant FOR UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
        PERFORM set_config('vectis.tenant_id', coalesce(caller_tenant, ''), true);
        RETURN -1;
    END IF;
    FOR item IN
        SELECT entry_id, digest FROM audit_pending
        WHERE tenant_id = p_tenant ORDER BY entry_id LIMIT p_limit
    LOOP
        head_seq := head_seq + 1;
        INSERT INTO audit_chain (tenant_id, seq, entry_id, prev_hash, hash)
        VALUES (p_tenant, head_seq, item.entry_id, head_hash,
                sha256(head_hash || int8send(head_seq) || item.digest))
        RETURNING hash INTO head_hash;
        DELETE FROM audit_pending WHERE entry_id = item.entry_id;
        linked := linked + 1;
    END LOOP;
    IF linked > 0 THEN
        UPDATE audit_chain_heads SET seq = head_seq, hash = head_hash WHERE tenant_id = p_tenant;
    END IF;
    PERFORM set_config('vectis.tenant_id', coalesce(caller_tenant, ''), true);
    RETURN linked;
END
$$;
REVOKE EXECUTE ON FUNCTION vectis_link_audit(uuid, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION vectis_link_audit(uuid, integer) TO vectis_app;
"""


def upgrade() -> None:
    op.execute(TENANTS)
    op.execute(AUDIT)


def downgrade() -> None:
    raise NotImplementedError("privileges are only ever narrowed; restore a backup to widen them")
