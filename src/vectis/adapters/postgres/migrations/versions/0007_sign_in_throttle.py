"""Sign-in throttling as one atomic step, behind functions: no table the runtime can read.

``login_failures`` (a row per failure, readable by the runtime role with no tenant set: the
e-mail addresses and client addresses of every tenant) is replaced by ``sign_in_throttle``: a
counter per key, where a key is an HMAC the application computes of the e-mail address, the
client's network or both, so the table names neither. The runtime role holds no privilege on
the table; it reaches it only through four functions that run with their owner's rights:

- ``vectis_sign_in_reserve`` counts an attempt under its (account, address), address and
  account keys, or refuses it, in one step under row locks taken in key order: parallel
  attempts cannot pass a limit, because each is counted before its password is checked;
- ``vectis_sign_in_succeeded`` forgives the account's failures from that address and
  remembers the address as one the account signs in from;
- ``vectis_sign_in_locks`` lists the current tenant's operators with recent failures;
- ``vectis_sign_in_unlock`` clears one of the current tenant's operators.

A caller names the keys it already holds; no function lists or returns another key. The rules
(limits, window, cool-down) are the application's and arrive as arguments.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# Spelled out, not formatted in: these statements take no input.

TABLE = """
DROP TABLE login_failures;

CREATE TABLE sign_in_throttle (
    key bytea PRIMARY KEY CHECK (length(key) = 32),
    scope text NOT NULL CHECK (scope IN ('pair', 'address', 'account', 'known')),
    -- The account's tenant and operator, when the account exists (never for an address).
    tenant_id uuid,
    operator_id uuid,
    failures integer NOT NULL DEFAULT 0 CHECK (failures >= 0),
    window_started_at timestamptz NOT NULL,
    last_failure_at timestamptz,
    locked_until timestamptz,
    CHECK ((tenant_id IS NULL) = (operator_id IS NULL)),
    CHECK (scope <> 'address' OR tenant_id IS NULL),
    FOREIGN KEY (tenant_id, operator_id) REFERENCES operators (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX sign_in_throttle_by_operator ON sign_in_throttle (tenant_id, operator_id);
CREATE INDEX sign_in_throttle_by_age ON sign_in_throttle (window_started_at);
REVOKE ALL ON sign_in_throttle FROM PUBLIC;
-- Only the functions below, running as the owner, touch the table. Were the runtime role ever
-- granted it, it would still see no more than its own tenant's accounts.
ALTER TABLE sign_in_throttle ENABLE ROW LEVEL SECURITY;
ALTER TABLE sign_in_throttle FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_functions ON sign_in_throttle TO CURRENT_USER USING (true) WITH CHECK (true);
CREATE POLICY tenant_isolation ON sign_in_throttle
    USING (tenant_id = (SELECT vectis_current_tenant()))
    WITH CHECK (tenant_id = (SELECT vectis_current_tenant()));
"""

RESERVE = """
CREATE FUNCTION vectis_sign_in_reserve(
    p_pair bytea, p_address bytea, p_account bytea, p_known bytea,
    p_tenant uuid, p_operator uuid, p_now timestamptz, p_window interval,
    p_pair_limit integer, p_address_limit integer, p_account_free integer,
    p_cooldown interval, p_cooldown_max interval, p_known_lifetime interval
) RETURNS interval
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, public, pg_temp
    AS $$
DECLARE
    pair sign_in_throttle;
    address sign_in_throttle;
    account sign_in_throttle;
    held integer;
    exempt boolean;
    wait interval := interval '0';
BEGIN
    -- Make sure the three rows exist, then lock them in key order (no deadlock); retry if a
    -- concurrent prune removed one in between.
    LOOP
        INSERT INTO sign_in_throttle (key, scope, tenant_id, operator_id, window_started_at)
        VALUES (p_pair, 'pair', p_tenant, p_operator, p_now),
               (p_address, 'address', NULL, NULL, p_now),
               (p_account, 'account', p_tenant, p_operator, p_now)
        ON CONFLICT (key) DO NOTHING;
        SELECT count(*) INTO held FROM (
            SELECT 1 FROM sign_in_throttle WHERE key IN (p_pair, p_address, p_account)
            ORDER BY key FOR UPDATE
        ) AS locked;
        EXIT WHEN held = 3;
    END LOOP;
    SELECT * INTO pair FROM sign_in_throttle WHERE key = p_pair;
    SELECT * INTO address FROM sign_in_throttle WHERE key = p_address;
    SELECT * INTO account FROM sign_in_throttle WHERE key = p_account;

    -- The pair and the address count over a window from their first failure; the account
    -- keeps counting until it has been quiet for a window and its cool-down has passed.
    IF pair.window_started_at <= p_now - p_window THEN
        pair.failures := 0;
        pair.window_started_at := p_now;
    END IF;
    IF address.window_started_at <= p_now - p_window THEN
        address.failures := 0;
        address.window_started_at := p_now;
    END IF;
    IF (account.last_failure_at IS NULL OR account.last_failure_at <= p_now - p_window)
       AND (account.locked_until IS NULL OR account.locked_until <= p_now) THEN
        account.failures := 0;
        account.locked_until := NULL;
        account.window_started_at := p_now;
    END IF;

    -- The account's cool-down holds every address but one with no failures in the window
    -- and one the account signed in from lately: others' failures never shut those out.
    exempt := address.failures = 0 OR EXISTS (
        SELECT 1 FROM sign_in_throttle
        WHERE key = p_known AND scope = 'known' AND window_started_at > p_now - p_known_lifetime
    );
    IF pair.failures >= p_pair_limit THEN
        wait := greatest(wait, pair.window_started_at + p_window - p_now);
    END IF;
    IF address.failures >= p_address_limit THEN
        wait := greatest(wait, address.window_started_at + p_window - p_now);
    END IF;
    IF account.locked_until > p_now AND NOT exempt THEN
        wait := greatest(wait, account.locked_until - p_now);
    END IF;
    IF wait > interval '0' THEN
        RETURN wait;
    END IF;

    account.failures := account.failures + 1;
    IF account.failures > p_account_free THEN
        account.locked_until := greatest(account.locked_until, p_now + least(
            p_cooldown * power(2, least(account.failures - p_account_free - 1, 20)),
            p_cooldown_max
        ));
    END IF;
    UPDATE sign_in_throttle
    SET failures = pair.failures + 1, window_started_at = pair.window_started_at,
        last_failure_at = p_now, tenant_id = p_tenant, operator_id = p_operator
    WHERE key = p_pair;
    UPDATE sign_in_throttle
    SET failures = address.failures + 1, window_started_at = address.window_started_at,
        last_failure_at = p_now
    WHERE key = p_address;
    UPDATE sign_in_throttle
    SET failures = account.failures, window_started_at = account.window_started_at,
        last_failure_at = p_now, locked_until = account.locked_until,
        tenant_id = p_tenant, operator_id = p_operator
    WHERE key = p_account;

    -- A little housekeeping per attempt keeps the table to the keys still counting.
    DELETE FROM sign_in_throttle WHERE key IN (
        SELECT key FROM sign_in_throttle
        WHERE CASE WHEN scope = 'known'
                   THEN window_started_at <= p_now - p_known_lifetime
                   ELSE window_started_at <= p_now - p_window
                        AND coalesce(last_failure_at, window_started_at) <= p_now - p_window
                        AND coalesce(locked_until, window_started_at) <= p_now END
        LIMIT 100 FOR UPDATE SKIP LOCKED
    );
    RETURN NULL;
END
$$;
REVOKE EXECUTE ON FUNCTION vectis_sign_in_reserve(
    bytea, bytea, bytea, bytea, uuid, uuid, timestamptz, interval,
    integer, integer, integer, interval, interval, interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION vectis_sign_in_reserve(
    bytea, bytea, bytea, bytea, uuid, uuid, timestamptz, interval,
    integer, integer, integer, interval, interval, interval) TO vectis_app;
"""

SUCCEEDED = """
CREATE FUNCTION vectis_sign_in_succeeded(
    p_pair bytea, p_address bytea, p_account bytea, p_known bytea,
    p_tenant uuid, p_operator uuid, p_now timestamptz, p_account_free integer
) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, public, pg_temp
    AS $$
DECLARE
    own integer;
BEGIN
    -- The attempts from this address, this one included, were the operator's own.
    DELETE FROM sign_in_throttle WHERE key = p_pair RETURNING failures INTO own;
    UPDATE sign_in_throttle SET failures = greatest(failures - coalesce(own, 1), 0)
    WHERE key = p_address;
    UPDATE sign_in_throttle
    SET failures = greatest(failures - coalesce(own, 1), 0),
        locked_until = CASE WHEN failures - coalesce(own, 1) > p_account_free
                            THEN locked_until END
    WHERE key = p_account;
    INSERT INTO sign_in_throttle (key, scope, tenant_id, operator_id, window_started_at)
    VALUES (p_known, 'known', p_tenant, p_operator, p_now)
    ON CONFLICT (key) DO UPDATE SET window_started_at = excluded.window_started_at;
END
$$;
REVOKE EXECUTE ON FUNCTION vectis_sign_in_succeeded(
    bytea, bytea, bytea, bytea, uuid, uuid, timestamptz, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION vectis_sign_in_succeeded(
    bytea, bytea, bytea, bytea, uuid, uuid, timestamptz, integer) TO vectis_app;
"""

OWNER_VIEW = """
CREATE FUNCTION vectis_sign_in_locks(p_now timestamptz, p_window interval, p_pair_limit integer)
RETURNS TABLE (
    operator_id uuid, failures integer, throttled_addresses integer,
    locked_until timestamptz, last_failure_at timestamptz
)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, public, pg_temp
    AS $$
    SELECT t.operator_id,
           coalesce(max(t.failures) FILTER (WHERE t.scope = 'account'), 0),
           count(*) FILTER (WHERE t.scope = 'pair' AND t.failures >= p_pair_limit
                                  AND t.window_started_at > p_now - p_window)::integer,
           max(t.locked_until) FILTER (WHERE t.scope = 'account' AND t.locked_until > p_now),
           max(t.last_failure_at)
    FROM sign_in_throttle t
    WHERE t.tenant_id = vectis_current_tenant() AND t.scope IN ('pair', 'account')
      AND t.failures > 0
      AND (t.last_failure_at > p_now - p_window OR t.locked_until > p_now)
    GROUP BY t.operator_id
$$;
REVOKE EXECUTE ON FUNCTION vectis_sign_in_locks(timestamptz, interval, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION vectis_sign_in_locks(timestamptz, interval, integer) TO vectis_app;

CREATE FUNCTION vectis_sign_in_unlock(p_operator uuid) RETURNS integer
    LANGUAGE sql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, public, pg_temp
    AS $$
    WITH cleared AS (
        DELETE FROM sign_in_throttle
        WHERE tenant_id = vectis_current_tenant() AND operator_id = p_operator
          AND scope IN ('pair', 'account')
        RETURNING 1
    )
    SELECT count(*)::integer FROM cleared
$$;
REVOKE EXECUTE ON FUNCTION vectis_sign_in_unlock(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION vectis_sign_in_unlock(uuid) TO vectis_app;
"""


def upgrade() -> None:
    op.execute(TABLE)
    op.execute(RESERVE)
    op.execute(SUCCEEDED)
    op.execute(OWNER_VIEW)


def downgrade() -> None:
    raise NotImplementedError("privileges are only ever narrowed; restore a backup to widen them")
