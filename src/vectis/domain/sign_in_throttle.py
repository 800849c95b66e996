"""Sign-in throttling: the rules, the keys an attempt is counted under, and what an owner sees.

An attempt is counted under three keys before its password is checked: the (account, address)
pair, the address alone and the account alone. Keys are HMACs of the e-mail address and the
client's network under a server secret, so the stored counters name no e-mail or address.
docs/security.md ("Sign-in throttling") describes the model these values drive.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
from datetime import datetime, timedelta
from uuid import UUID

from attrs import frozen

# An IPv6 client usually holds a whole /64: counting single addresses would let it rotate.
IPV6_THROTTLE_PREFIX = 64


@frozen(kw_only=True)
class ThrottleRules:
    """How hard sign-in is throttled; each count runs over ``window``."""

    window: timedelta = timedelta(minutes=15)
    # Refused outright once reached, until the window since the first failure has passed.
    failures_per_account_address: int = 5
    failures_per_address: int = 20
    # Across all addresses: past this many, each further failure doubles the account's
    # cool-down, from ``account_cooldown`` up to ``account_cooldown_max``.
    failures_per_account: int = 10
    account_cooldown: timedelta = timedelta(seconds=30)
    account_cooldown_max: timedelta = timedelta(minutes=15)
    # An address the account signed in from is not held by its cool-down this long after.
    known_address_lifetime: timedelta = timedelta(days=30)


@frozen(kw_only=True)
class SignInAttempt:
    """The throttle keys of one sign-in attempt, and the account's ids when it exists."""

    pair: bytes
    address: bytes
    account: bytes
    known: bytes
    tenant_id: UUID | None = None
    operator_id: UUID | None = None


@frozen(kw_only=True)
class SignInLock:
    """An operator's failed sign-ins in the window, as their tenant's owner sees them then."""

    operator_id: UUID
    email: str
    display_name: str
    failures: int
    """Across all addresses (each attempt counts until it succeeds)."""
    throttled_addresses: int
    """Addresses refused for this account, having reached their limit."""
    locked_until: datetime | None
    """The end of the account's cool-down, when one is running."""
    last_failure_at: datetime | None

    @property
    def is_locked(self) -> bool:
        """Whether some address is refused (the cool-down, or an address at its limit)."""
        return self.locked_until is not None or self.throttled_addresses > 0


def sign_in_attempt(
    secret: bytes,
    email: str,
    address: str,
    *,
    tenant_id: UUID | None = None,
    operator_id: UUID | None = None,
) -> SignInAttempt:
    """The keys for ``email`` signing in from ``address``, whether the account exists or not."""
    account = email.strip().lower()
    network = throttled_network(address)
    return SignInAttempt(
        pair=_key(secret, "pair", account, network),
        address=_key(secret, "address", network),
        account=_key(secret, "account", account),
        known=_key(secret, "known", account, network),
        tenant_id=tenant_id,
        operator_id=operator_id,
    )


def throttled_network(address: str) -> str:
    """What an address is counted as: an IPv4 address, or the /64 an IPv6 address lies in."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/{IPV6_THROTTLE_PREFIX}", strict=False))
    return str(parsed)


def _key(secret: bytes, *parts: str) -> bytes:
    # JSON keeps the parts apart whatever characters an e-mail address carries.
    return hmac.new(secret, json.dumps(parts).encode(), hashlib.sha256).digest()
