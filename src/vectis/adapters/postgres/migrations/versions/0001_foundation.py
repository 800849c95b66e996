"""Foundation: tenancy, identity, audit log, event stream, inbox, write-backs, job queue.

Every tenant-owned table is under FORCE ROW LEVEL SECURITY keyed on the transaction-local
setting ``vectis.tenant_id``. Requests and jobs run as ``vectis_app``, which owns nothing,
cannot bypass RLS and may only append to the audit log and the event stream.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from alembic import op
from procrastinate.schema import SchemaManager

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

APP_ROLE = "vectis_app"

ROLE = f"""
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
        CREATE ROLE {APP_ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;  -- another migration created it at the same moment
END
$$;
GRANT {APP_ROLE} TO CURRENT_USER;
GRANT USAGE ON SCHEMA public TO {APP_ROLE};
"""

FUNCTIONS = """
CREATE FUNCTION vectis_current_tenant() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT nullif(current_setting('vectis.tenant_id', true), '')::uuid $$;

-- A narrow, per-transaction key for the lookups that precede knowing the tenant: sign-in
-- by e-mail, a session cookie, an access token and a webhook's integration. A row is
-- visible through it only when the caller already holds the exact e-mail, digest or id.
CREATE FUNCTION vectis_lookup(kind text) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT nullif(current_setting('vectis.lookup_' || kind, true), '') $$;

CREATE FUNCTION vectis_refuse_audit_change() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
"""

TABLES = """
CREATE TABLE tenants (
    id uuid PRIMARY KEY,
    slug text NOT NULL UNIQUE,
    name text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE customers (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    name text NOT NULL,
    slug text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, slug),
    UNIQUE (tenant_id, id)
);
CREATE INDEX customers_by_name ON customers (tenant_id, lower(name));

CREATE TABLE sites (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    customer_id uuid NOT NULL,
    name text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (customer_id, name),
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE operators (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    email text NOT NULL UNIQUE CHECK (email = lower(email)),
    display_name text NOT NULL,
    role text NOT NULL CHECK (role IN ('owner', 'admin', 'tech', 'read_only')),
    password_hash text NOT NULL,
    time_zone text NOT NULL DEFAULT 'UTC',
    created_at timestamptz NOT NULL DEFAULT now(),
    disabled_at timestamptz,
    UNIQUE (tenant_id, id)
);

CREATE TABLE access_tokens (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    operator_id uuid NOT NULL,
    name text NOT NULL,
    role text NOT NULL CHECK (role IN ('owner', 'admin', 'tech', 'read_only')),
    hint text NOT NULL,
    digest bytea NOT NULL UNIQUE CHECK (length(digest) = 32),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz,
    revoked_at timestamptz,
    last_used_at timestamptz,
    FOREIGN KEY (tenant_id, operator_id) REFERENCES operators (tenant_id, id)
);

CREATE TABLE operator_sessions (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    operator_id uuid NOT NULL,
    digest bytea NOT NULL UNIQUE CHECK (length(digest) = 32),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    ended_at timestamptz,
    FOREIGN KEY (tenant_id, operator_id) REFERENCES operators (tenant_id, id)
);

-- Not tenant-owned: failed sign-ins are counted before any tenant is known.
CREATE TABLE login_failures (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key text NOT NULL,
    failed_at timestamptz NOT NULL
);
CREATE INDEX login_failures_by_key ON login_failures (key, failed_at);

CREATE TABLE integrations (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    vendor text NOT NULL,
    name text NOT NULL,
    base_url text NOT NULL,
    credentials bytea NOT NULL,
    settings jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    last_success_at timestamptz,
    last_error_at timestamptz,
    last_error text,
    UNIQUE (tenant_id, name),
    UNIQUE (tenant_id, id)
);

CREATE TABLE customer_links (
    tenant_id uuid NOT NULL,
    integration_id uuid NOT NULL,
    company_ref text NOT NULL,
    customer_id uuid NOT NULL,
    PRIMARY KEY (integration_id, company_ref),
    FOREIGN KEY (tenant_id, integration_id) REFERENCES integrations (tenant_id, id)
        ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    customer_id uuid,
    site_id uuid,
    source text NOT NULL,
    kind text NOT NULL,
    occurred_at timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    title text NOT NULL,
    detail text NOT NULL DEFAULT '',
    subject_system text,
    subject_type text,
    subject_id text,
    integration_id uuid,
    payload jsonb NOT NULL DEFAULT '{}'
);
-- "The latest events of one customer in a range", newest first, with a keyset tiebreak.
CREATE INDEX events_by_customer_time
    ON events (tenant_id, customer_id, occurred_at DESC, id DESC);
-- Consumers (the rules engine) read a tenant's stream in arrival order.
CREATE INDEX events_by_tenant_id ON events (tenant_id, id);

CREATE TABLE inbox (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id uuid NOT NULL,
    integration_id uuid NOT NULL,
    external_id text NOT NULL,
    kind text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    event jsonb NOT NULL,
    processed_at timestamptz,
    UNIQUE (integration_id, external_id),
    FOREIGN KEY (tenant_id, integration_id) REFERENCES integrations (tenant_id, id)
        ON DELETE CASCADE
);
CREATE INDEX inbox_pending ON inbox (tenant_id, id) WHERE processed_at IS NULL;

CREATE TABLE audit_log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    occurred_at timestamptz NOT NULL,
    actor_kind text NOT NULL,
    actor_id text,
    actor_label text NOT NULL,
    action text NOT NULL,
    target_system text NOT NULL,
    target_id text,
    payload json NOT NULL,
    outcome text NOT NULL,
    UNIQUE (tenant_id, id)
);
CREATE INDEX audit_log_by_time ON audit_log (tenant_id, occurred_at DESC);

-- The hash chain: one link per entry, one linear chain per tenant. Links are appended right
-- after the entry's own transaction commits (so concurrent writers never wait on each other's
-- commit) by whoever holds the tenant's chain head; audit_pending lists entries not yet linked.
CREATE TABLE audit_chain (
    tenant_id uuid NOT NULL,
    seq bigint NOT NULL CHECK (seq > 0),
    entry_id bigint NOT NULL UNIQUE,
    prev_hash bytea NOT NULL,
    hash bytea NOT NULL,
    PRIMARY KEY (tenant_id, seq),
    FOREIGN KEY (tenant_id, entry_id) REFERENCES audit_log (tenant_id, id)
);

CREATE TABLE audit_pending (
    entry_id bigint PRIMARY KEY,
    tenant_id uuid NOT NULL,
    digest bytea NOT NULL CHECK (length(digest) = 32),
    FOREIGN KEY (tenant_id, entry_id) REFERENCES audit_log (tenant_id, id)
);
CREATE INDEX audit_pending_by_tenant ON audit_pending (tenant_id, entry_id);

CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION vectis_refuse_audit_change();
CREATE TRIGGER audit_chain_no_update_delete BEFORE UPDATE OR DELETE ON audit_chain
    FOR EACH ROW EXECUTE FUNCTION vectis_refuse_audit_change();
-- Row triggers do not see TRUNCATE; statement triggers do.
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION vectis_refuse_audit_change();
CREATE TRIGGER audit_chain_no_truncate BEFORE TRUNCATE ON audit_chain
    FOR EACH STATEMENT EXECUTE FUNCTION vectis_refuse_audit_change();

CREATE TABLE audit_chain_heads (
    tenant_id uuid PRIMARY KEY REFERENCES tenants (id),
    seq bigint NOT NULL,
    hash bytea NOT NULL
);

-- Link up to p_limit pending entries of a tenant onto its chain, server-side, in one call.
-- Returns how many were linked, or -1 when another session holds the tenant's chain head.
-- It scopes its own transaction to the tenant (row-level security still applies to it).
-- hash = sha256(prev_hash || seq as 8 big-endian bytes || content digest): the same formula
-- as vectis.domain.audit.chain_hash, which `vectis audit verify` recomputes from the entries.
CREATE FUNCTION vectis_link_audit(p_tenant uuid, p_limit integer) RETURNS integer
    LANGUAGE plpgsql
    AS $$
DECLARE
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
    RETURN linked;
END
$$;

CREATE TABLE writebacks (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    integration_id uuid NOT NULL,
    action text NOT NULL,
    params jsonb NOT NULL,
    idempotency_key text NOT NULL,
    status text NOT NULL CHECK (status IN ('pending', 'running', 'succeeded', 'failed')),
    requested_by jsonb NOT NULL,
    requested_at timestamptz NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    finished_at timestamptz,
    result jsonb NOT NULL DEFAULT '{}',
    error text,
    UNIQUE (tenant_id, idempotency_key),
    FOREIGN KEY (tenant_id, integration_id) REFERENCES integrations (tenant_id, id)
);
CREATE INDEX writebacks_recent ON writebacks (tenant_id, requested_at DESC);
"""

TENANT_SCOPED = (
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
)

LOOKUP_POLICIES = """
CREATE POLICY sign_in_lookup ON operators FOR SELECT
    USING (email = (SELECT vectis_lookup('email')));
CREATE POLICY digest_lookup ON access_tokens FOR SELECT
    USING (digest = decode((SELECT vectis_lookup('digest')), 'hex'));
CREATE POLICY digest_lookup ON operator_sessions FOR SELECT
    USING (digest = decode((SELECT vectis_lookup('digest')), 'hex'));
-- A vendor's webhook names only the integration it is for.
CREATE POLICY webhook_lookup ON integrations FOR SELECT
    USING (id = (SELECT vectis_lookup('integration'))::uuid);
"""

TENANT_POLICIES = """
ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenants FORCE ROW LEVEL SECURITY;
-- The tenant directory is readable (sign-in and the portal resolve tenants by slug);
-- only the tenant itself may change its row.
CREATE POLICY directory ON tenants FOR SELECT USING (true);
CREATE POLICY own_row_insert ON tenants FOR INSERT
    WITH CHECK (id = (SELECT vectis_current_tenant()));
CREATE POLICY own_row_update ON tenants FOR UPDATE
    USING (id = (SELECT vectis_current_tenant()));
"""

GRANTS = f"""
GRANT SELECT, INSERT, UPDATE ON tenants TO {APP_ROLE};
GRANT SELECT, INSERT, UPDATE, DELETE ON customers, sites, customer_links TO {APP_ROLE};
GRANT SELECT, INSERT, UPDATE ON operators, access_tokens, operator_sessions TO {APP_ROLE};
GRANT SELECT, INSERT, DELETE ON login_failures TO {APP_ROLE};
GRANT SELECT, INSERT, UPDATE ON integrations, writebacks TO {APP_ROLE};
GRANT SELECT, INSERT ON events TO {APP_ROLE};
GRANT SELECT, INSERT, UPDATE ON inbox TO {APP_ROLE};
GRANT SELECT, INSERT ON audit_log, audit_chain TO {APP_ROLE};
GRANT SELECT, INSERT, DELETE ON audit_pending TO {APP_ROLE};
GRANT SELECT, INSERT, UPDATE ON audit_chain_heads TO {APP_ROLE};
GRANT SELECT ON alembic_version TO {APP_ROLE};
"""


# The runtime role's name is spelled out: these statements take no input.
JOB_QUEUE_GRANTS = """
DO $$
DECLARE item record;
BEGIN
    FOR item IN SELECT tablename FROM pg_tables
                WHERE schemaname = 'public' AND tablename LIKE 'procrastinate%' LOOP
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO vectis_app', item.tablename);
    END LOOP;
END
$$;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO vectis_app;
"""


def upgrade() -> None:
    op.execute(ROLE)
    op.execute(FUNCTIONS)
    op.execute(TABLES)
    op.execute(TENANT_POLICIES)
    for table in TENANT_SCOPED:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON {table} "
            "USING (tenant_id = (SELECT vectis_current_tenant())) "
            "WITH CHECK (tenant_id = (SELECT vectis_current_tenant()))"
        )
    op.execute(LOOKUP_POLICIES)
    op.execute(GRANTS)
    _install_job_queue()


def downgrade() -> None:
    raise NotImplementedError("the foundation migration cannot be reverted; restore a backup")


def _install_job_queue() -> None:
    """procrastinate's own schema, on the same database, usable by the runtime role."""
    op.execute(SchemaManager.get_schema())
    op.execute(JOB_QUEUE_GRANTS)
