"""Operators, personal access tokens, hub sessions and the sign-in throttle."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from vectis.adapters.postgres.repositories._lookup import lookup_key
from vectis.adapters.postgres.tables import (
    access_tokens,
    operator_sessions,
    operators,
)
from vectis.application.errors import Conflict
from vectis.domain.identity import OperatorSession, PersonalAccessToken
from vectis.domain.sign_in_throttle import SignInAttempt, SignInLock, ThrottleRules
from vectis.domain.tenancy import Operator, Role


class PostgresOperatorRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, operator: Operator, password_hash: str) -> None:
        statement = (
            pg_insert(operators)
            .values(
                id=operator.id,
                tenant_id=operator.tenant_id,
                email=operator.email,
                display_name=operator.display_name,
                role=operator.role.value,
                password_hash=password_hash,
                time_zone=operator.time_zone,
                created_at=operator.created_at,
                disabled_at=operator.disabled_at,
            )
            .on_conflict_do_nothing()
            .returning(operators.c.id)
        )
        if (await self._connection.execute(statement)).first() is None:
            raise Conflict(f"an operator with the e-mail address {operator.email} already exists")

    async def get(self, operator_id: UUID) -> Operator | None:
        row = (
            await self._connection.execute(select(operators).where(operators.c.id == operator_id))
        ).first()
        return _operator(row._mapping) if row else None

    async def find_for_login(self, email: str) -> tuple[Operator, str] | None:
        async with lookup_key(self._connection, "email", email):
            row = (
                await self._connection.execute(select(operators).where(operators.c.email == email))
            ).first()
        return (_operator(row._mapping), row._mapping["password_hash"]) if row else None

    async def set_password(self, operator_id: UUID, password_hash: str) -> None:
        await self._connection.execute(
            update(operators)
            .where(operators.c.id == operator_id)
            .values(password_hash=password_hash)
        )

    async def set_time_zone(self, operator_id: UUID, zone: str) -> None:
        await self._connection.execute(
            update(operators).where(operators.c.id == operator_id).values(time_zone=zone)
        )


class PostgresTokenRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, token: PersonalAccessToken, digest: bytes) -> None:
        await self._connection.execute(
            insert(access_tokens).values(
                id=token.id,
                tenant_id=token.tenant_id,
                operator_id=token.operator_id,
                name=token.name,
                role=token.role.value,
                hint=token.hint,
                digest=digest,
                created_at=token.created_at,
                expires_at=token.expires_at,
            )
        )

    async def get(self, token_id: UUID) -> PersonalAccessToken | None:
        statement = select(access_tokens).where(access_tokens.c.id == token_id)
        row = (await self._connection.execute(statement)).first()
        return _token(row._mapping) if row else None

    async def find_by_digest(self, digest: bytes) -> PersonalAccessToken | None:
        async with lookup_key(self._connection, "digest", digest.hex()):
            statement = select(access_tokens).where(access_tokens.c.digest == digest)
            row = (await self._connection.execute(statement)).first()
        return _token(row._mapping) if row else None

    async def revoke(self, token_id: UUID, at: datetime) -> None:
        await self._connection.execute(
            update(access_tokens)
            .where(access_tokens.c.id == token_id, access_tokens.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )

    async def touch(self, token_id: UUID, at: datetime) -> None:
        await self._connection.execute(
            update(access_tokens).where(access_tokens.c.id == token_id).values(last_used_at=at)
        )

    async def list_all(self, *, operator_id: UUID | None = None) -> list[PersonalAccessToken]:
        statement = select(access_tokens).order_by(access_tokens.c.created_at)
        if operator_id is not None:
            statement = statement.where(access_tokens.c.operator_id == operator_id)
        return [_token(row._mapping) for row in await self._connection.execute(statement)]


class PostgresSessionRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, session: OperatorSession, digest: bytes) -> None:
        await self._connection.execute(
            insert(operator_sessions).values(
                id=session.id,
                tenant_id=session.tenant_id,
                operator_id=session.operator_id,
                digest=digest,
                created_at=session.created_at,
                expires_at=session.expires_at,
                last_seen_at=session.last_seen_at,
            )
        )

    async def find_by_digest(self, digest: bytes) -> OperatorSession | None:
        async with lookup_key(self._connection, "digest", digest.hex()):
            statement = select(operator_sessions).where(operator_sessions.c.digest == digest)
            row = (await self._connection.execute(statement)).first()
        if row is None:
            return None
        values = row._mapping
        return OperatorSession(
            id=values["id"],
            tenant_id=values["tenant_id"],
            operator_id=values["operator_id"],
            created_at=values["created_at"],
            expires_at=values["expires_at"],
            last_seen_at=values["last_seen_at"],
            ended_at=values["ended_at"],
        )

    async def end(self, session_id: UUID, at: datetime) -> None:
        await self._connection.execute(
            update(operator_sessions)
            .where(operator_sessions.c.id == session_id, operator_sessions.c.ended_at.is_(None))
            .values(ended_at=at)
        )

    async def touch(self, session_id: UUID, at: datetime) -> None:
        await self._connection.execute(
            update(operator_sessions)
            .where(operator_sessions.c.id == session_id)
            .values(last_seen_at=at)
        )


class PostgresLoginThrottleStore:
    """Through the ``vectis_sign_in_*`` functions only: the runtime role cannot read the table."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def reserve(
        self, attempt: SignInAttempt, rules: ThrottleRules, at: datetime
    ) -> timedelta | None:
        wait = await self._connection.scalar(
            _RESERVE,
            {
                **_keys(attempt),
                "now": at,
                "window": rules.window,
                "pair_limit": rules.failures_per_account_address,
                "address_limit": rules.failures_per_address,
                "account_free": rules.failures_per_account,
                "cooldown": rules.account_cooldown,
                "cooldown_max": rules.account_cooldown_max,
                "known_lifetime": rules.known_address_lifetime,
            },
        )
        return wait if isinstance(wait, timedelta) else None

    async def succeeded(self, attempt: SignInAttempt, rules: ThrottleRules, at: datetime) -> None:
        await self._connection.execute(
            _SUCCEEDED, {**_keys(attempt), "now": at, "account_free": rules.failures_per_account}
        )

    async def locks(self, rules: ThrottleRules, at: datetime) -> list[SignInLock]:
        rows = await self._connection.execute(
            _LOCKS,
            {"now": at, "window": rules.window, "pair_limit": rules.failures_per_account_address},
        )
        return [
            SignInLock(
                operator_id=row.operator_id,
                email=row.email,
                display_name=row.display_name,
                failures=row.failures,
                throttled_addresses=row.throttled_addresses,
                locked_until=row.locked_until,
                last_failure_at=row.last_failure_at,
            )
            for row in rows
        ]

    async def clear(self, operator_id: UUID) -> int:
        cleared = await self._connection.scalar(
            text("SELECT vectis_sign_in_unlock(:operator)"), {"operator": operator_id}
        )
        return int(cleared or 0)


_RESERVE = text(
    """SELECT vectis_sign_in_reserve(
        p_pair => :pair, p_address => :address, p_account => :account, p_known => :known,
        p_tenant => :tenant, p_operator => :operator, p_now => :now, p_window => :window,
        p_pair_limit => :pair_limit, p_address_limit => :address_limit,
        p_account_free => :account_free, p_cooldown => :cooldown,
        p_cooldown_max => :cooldown_max, p_known_lifetime => :known_lifetime)"""
)
_SUCCEEDED = text(
    """SELECT vectis_sign_in_succeeded(
        p_pair => :pair, p_address => :address, p_account => :account, p_known => :known,
        p_tenant => :tenant, p_operator => :operator, p_now => :now,
        p_account_free => :account_free)"""
)
_LOCKS = text(
    """SELECT lock.*, operators.email, operators.display_name
    FROM vectis_sign_in_locks(:now, :window, :pair_limit) AS lock
    JOIN operators ON operators.id = lock.operator_id
    ORDER BY lock.last_failure_at DESC NULLS LAST, operators.email"""
)


def _keys(attempt: SignInAttempt) -> dict[str, object]:
    return {
        "pair": attempt.pair,
        "address": attempt.address,
        "account": attempt.account,
        "known": attempt.known,
        "tenant": attempt.tenant_id,
        "operator": attempt.operator_id,
    }


def _operator(row: Any) -> Operator:
    return Operator(
        id=row["id"],
        tenant_id=row["tenant_id"],
        email=row["email"],
        display_name=row["display_name"],
        role=Role(row["role"]),
        time_zone=row["time_zone"],
        created_at=row["created_at"],
        disabled_at=row["disabled_at"],
    )


def _token(row: Any) -> PersonalAccessToken:
    return PersonalAccessToken(
        id=row["id"],
        tenant_id=row["tenant_id"],
        operator_id=row["operator_id"],
        name=row["name"],
        role=Role(row["role"]),
        hint=row["hint"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        revoked_at=row["revoked_at"],
        last_used_at=row["last_used_at"],
    )
