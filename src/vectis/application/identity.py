"""Signing operators in and out, hub sessions, and personal access tokens."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID, uuid4

from attrs import Factory, frozen

from vectis.application.audit import record
from vectis.application.errors import (
    AuthenticationFailed,
    InvalidToken,
    LoginThrottled,
    NotFound,
    PermissionDenied,
    SessionExpired,
)
from vectis.application.ports import Clock, PasswordHasher
from vectis.application.unit_of_work import UnitOfWork, UnitOfWorkFactory
from vectis.domain.audit import Actor, ActorKind, AuditTarget, Outcome
from vectis.domain.errors import InvalidValue, MalformedToken
from vectis.domain.identity import (
    OperatorSession,
    PersonalAccessToken,
    Principal,
    generate_personal_access_token,
    generate_session_secret,
    parse_personal_access_token,
    token_digest,
    token_hint,
)
from vectis.domain.sign_in_throttle import ThrottleRules, sign_in_attempt
from vectis.domain.tenancy import Operator, Permission, Role, normalize_email, validate_name


@frozen(kw_only=True)
class IdentityPolicy:
    """How long sessions live and how hard sign-in is throttled."""

    session_lifetime: timedelta = timedelta(hours=12)
    idle_timeout: timedelta = timedelta(hours=2)
    throttle: ThrottleRules = Factory(ThrottleRules)
    touch_interval: timedelta = timedelta(minutes=1)


@frozen(kw_only=True)
class SignedIn:
    """A new hub session: the secret goes into the cookie and is never stored."""

    secret: str
    principal: Principal
    expires_at: datetime


@frozen(kw_only=True)
class IssuedToken:
    """A new access token: ``secret`` is shown once and never again."""

    secret: str
    token: PersonalAccessToken
    tenant_slug: str


class IdentityService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        hasher: PasswordHasher,
        clock: Clock,
        policy: IdentityPolicy | None = None,
        *,
        throttle_secret: bytes,
    ) -> None:
        self._uow = uow
        self._hasher = hasher
        self._clock = clock
        self._policy = policy or IdentityPolicy()
        self._throttle_secret = throttle_secret
        self._decoy_hash: str | None = None

    async def sign_in(self, email: str, password: str, *, address: str) -> SignedIn:
        """Check an operator's password and open a session, throttled before the check.

        Known and unknown accounts take the same path: the same throttle, a password check
        (against a decoy hash when there is no account) and the same refusal."""
        now = self._clock.now()
        async with self._uow() as uow:
            try:
                found = await uow.operators.find_for_login(normalize_email(email))
            except InvalidValue:
                found = None
            attempt = sign_in_attempt(
                self._throttle_secret,
                email,
                address,
                tenant_id=found[0].tenant_id if found else None,
                operator_id=found[0].id if found else None,
            )
            wait = await uow.throttle.reserve(attempt, self._policy.throttle, now)
            await uow.commit()
        if wait is not None:
            raise LoginThrottled(wait)
        if found is None or not found[0].is_active:
            await self._hasher.verify(await self._decoy(), password)
            raise AuthenticationFailed
        operator, password_hash = found
        if not await self._hasher.verify(password_hash, password):
            await self._record_wrong_password(operator, address)
            raise AuthenticationFailed
        rehashed = (
            await self._hasher.hash(password) if self._hasher.needs_rehash(password_hash) else None
        )
        async with self._uow(operator.tenant_id) as uow:
            await uow.throttle.succeeded(attempt, self._policy.throttle, now)
            if rehashed is not None:
                await uow.operators.set_password(operator.id, rehashed)
            secret = generate_session_secret()
            session = OperatorSession(
                id=uuid4(),
                tenant_id=operator.tenant_id,
                operator_id=operator.id,
                created_at=now,
                expires_at=now + self._policy.session_lifetime,
                last_seen_at=now,
            )
            await uow.sessions.add(session, token_digest(secret))
            await record(
                uow,
                self._clock,
                actor=_operator_actor(operator),
                action="session.sign_in",
                target=AuditTarget(system="vectis", object_id=str(operator.id)),
                outcome=Outcome.SUCCEEDED,
                payload={"address": address, "session": str(session.id)},
            )
            await uow.commit()
        return SignedIn(
            secret=secret,
            principal=_operator_principal(operator, operator.role, session_id=session.id),
            expires_at=session.expires_at,
        )

    async def authenticate_session(self, secret: str) -> Principal:
        now = self._clock.now()
        async with self._uow() as uow:
            session = await uow.sessions.find_by_digest(token_digest(secret))
            if session is None or not session.is_live(now):
                raise SessionExpired
            await uow.bind_tenant(session.tenant_id)
            if now - session.last_seen_at > self._policy.idle_timeout:
                await uow.sessions.end(session.id, now)
                await uow.commit()
                raise SessionExpired(
                    "Your session ended after a period of inactivity; sign in again"
                )
            operator = await uow.operators.get(session.operator_id)
            if operator is None or not operator.is_active:
                raise SessionExpired
            if now - session.last_seen_at >= self._policy.touch_interval:
                await uow.sessions.touch(session.id, now)
                await uow.commit()
        return _operator_principal(operator, operator.role, session_id=session.id)

    async def sign_out(self, secret: str) -> None:
        now = self._clock.now()
        async with self._uow() as uow:
            session = await uow.sessions.find_by_digest(token_digest(secret))
            if session is None or session.ended_at is not None:
                return
            await uow.bind_tenant(session.tenant_id)
            await uow.sessions.end(session.id, now)
            operator = await uow.operators.get(session.operator_id)
            label = operator.email if operator else str(session.operator_id)
            await record(
                uow,
                self._clock,
                actor=Actor(kind=ActorKind.OPERATOR, id=str(session.operator_id), label=label),
                action="session.sign_out",
                target=AuditTarget(system="vectis", object_id=str(session.operator_id)),
                outcome=Outcome.SUCCEEDED,
                payload={"session": str(session.id)},
            )
            await uow.commit()

    async def issue_token(
        self,
        operator_email: str,
        *,
        name: str,
        role: Role | None = None,
        expires_in: timedelta | None = None,
        issued_by: Actor | None = None,
    ) -> IssuedToken:
        """Create a personal access token for an operator, with their role or a lesser one."""
        now = self._clock.now()
        name = validate_name(name, what="token name")
        if expires_in is not None and expires_in <= timedelta(0):
            raise InvalidValue("a token's lifetime must be positive")
        async with self._uow() as uow:
            found = await uow.operators.find_for_login(normalize_email(operator_email))
            if found is None:
                raise NotFound(f"no operator with the e-mail address {operator_email}")
            operator = found[0]
            await uow.bind_tenant(operator.tenant_id)
            granted = role or operator.role
            if not operator.role.includes(granted):
                raise PermissionDenied(
                    f"a token cannot have more rights than its operator ({operator.role.value})"
                )
            secret = generate_personal_access_token()
            token = PersonalAccessToken(
                id=uuid4(),
                tenant_id=operator.tenant_id,
                operator_id=operator.id,
                name=name,
                role=granted,
                hint=token_hint(secret),
                created_at=now,
                expires_at=now + expires_in if expires_in else None,
            )
            await uow.tokens.add(token, token_digest(secret))
            await record(
                uow,
                self._clock,
                actor=issued_by or _operator_actor(operator),
                action="token.issue",
                target=AuditTarget(system="vectis", object_id=str(token.id)),
                outcome=Outcome.SUCCEEDED,
                payload={
                    "name": name,
                    "role": granted.value,
                    "hint": token.hint,
                    "operator": operator.email,
                    "expires_at": token.expires_at.isoformat() if token.expires_at else None,
                },
            )
            tenant = await uow.tenants.get(operator.tenant_id)
            await uow.commit()
        assert tenant is not None
        return IssuedToken(secret=secret, token=token, tenant_slug=tenant.slug)

    async def revoke_token(
        self,
        *,
        secret: str | None = None,
        token_id: UUID | None = None,
        tenant_slug: str | None = None,
        revoked_by: Actor | None = None,
    ) -> PersonalAccessToken:
        """Revoke a token named by its secret (a leaked token) or by its id within a tenant."""
        now = self._clock.now()
        async with self._uow() as uow:
            token = await self._find_token(
                uow, secret=secret, token_id=token_id, tenant_slug=tenant_slug
            )
            await uow.bind_tenant(token.tenant_id)
            if token.revoked_at is None:
                await uow.tokens.revoke(token.id, now)
                await record(
                    uow,
                    self._clock,
                    actor=revoked_by or Actor(kind=ActorKind.SYSTEM, id=None, label="cli"),
                    action="token.revoke",
                    target=AuditTarget(system="vectis", object_id=str(token.id)),
                    outcome=Outcome.SUCCEEDED,
                    payload={"name": token.name, "hint": token.hint},
                )
            revoked = await uow.tokens.get(token.id)
            await uow.commit()
        assert revoked is not None
        return revoked

    async def list_tokens(self, tenant_slug: str) -> list[PersonalAccessToken]:
        async with self._uow() as uow:
            tenant = await uow.tenants.get_by_slug(tenant_slug)
            if tenant is None:
                raise NotFound(f"no tenant with the slug {tenant_slug!r}")
            await uow.bind_tenant(tenant.id)
            return await uow.tokens.list_all()

    async def authenticate_token(self, secret: str) -> Principal:
        """The principal behind a bearer token: never more than its operator's current role."""
        now = self._clock.now()
        try:
            parse_personal_access_token(secret)
        except MalformedToken as error:
            raise InvalidToken(str(error)) from error
        async with self._uow() as uow:
            token = await uow.tokens.find_by_digest(token_digest(secret))
            if token is None:
                raise InvalidToken
            if token.revoked_at is not None:
                raise InvalidToken("The access token has been revoked")
            if token.is_expired(now):
                raise InvalidToken("The access token has expired")
            await uow.bind_tenant(token.tenant_id)
            operator = await uow.operators.get(token.operator_id)
            if operator is None or not operator.is_active:
                raise InvalidToken("The access token's operator is disabled")
            if (
                token.last_used_at is None
                or now - token.last_used_at >= self._policy.touch_interval
            ):
                await uow.tokens.touch(token.id, now)
                await uow.commit()
        role = token.role if operator.role.includes(token.role) else operator.role
        return Principal(
            tenant_id=token.tenant_id,
            role=role,
            operator_id=operator.id,
            display_name=operator.display_name,
            time_zone=operator.time_zone,
            actor=Actor(
                kind=ActorKind.TOKEN, id=str(token.id), label=f"{operator.email} ({token.name})"
            ),
        )

    async def _find_token(
        self, uow: UnitOfWork, *, secret: str | None, token_id: UUID | None, tenant_slug: str | None
    ) -> PersonalAccessToken:
        if secret is not None:
            try:
                parse_personal_access_token(secret)
            except MalformedToken as error:
                raise InvalidToken(str(error)) from error
            token = await uow.tokens.find_by_digest(token_digest(secret))
            if token is None:
                raise NotFound("no such access token")
            return token
        if token_id is None or tenant_slug is None:
            raise InvalidValue("name the token by its secret, or by its id and tenant")
        tenant = await uow.tenants.get_by_slug(tenant_slug)
        if tenant is None:
            raise NotFound(f"no tenant with the slug {tenant_slug!r}")
        await uow.bind_tenant(tenant.id)
        found = await uow.tokens.get(token_id)
        if found is None:
            raise NotFound(f"no access token {token_id} in tenant {tenant_slug}")
        return found

    async def _decoy(self) -> str:
        """A hash to check when the account does not exist, so timing does not tell."""
        if self._decoy_hash is None:
            self._decoy_hash = await self._hasher.hash(generate_session_secret())
        return self._decoy_hash

    async def _record_wrong_password(self, operator: Operator, address: str) -> None:
        async with self._uow(operator.tenant_id) as uow:
            await record(
                uow,
                self._clock,
                actor=_operator_actor(operator),
                action="session.sign_in",
                target=AuditTarget(system="vectis", object_id=str(operator.id)),
                outcome=Outcome.DENIED,
                payload={"address": address, "reason": "wrong password"},
            )
            await uow.commit()


def _operator_actor(operator: Operator) -> Actor:
    return Actor(kind=ActorKind.OPERATOR, id=str(operator.id), label=operator.email)


def _operator_principal(operator: Operator, role: Role, *, session_id: UUID | None) -> Principal:
    return Principal(
        tenant_id=operator.tenant_id,
        role=role,
        operator_id=operator.id,
        session_id=session_id,
        display_name=operator.display_name,
        time_zone=operator.time_zone,
        actor=_operator_actor(operator),
    )


def require(principal: Principal, permission: Permission) -> None:
    """Refuse a use case to a principal whose role lacks the permission."""
    if not principal.can(permission):
        raise PermissionDenied(
            f"your role ({principal.role.value.replace('_', '-')}) does not allow this"
        )
