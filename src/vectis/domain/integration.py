"""A tenant's connection to one vendor account, and the credentials it uses."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from attrs import field, frozen

WEBHOOK_SECRET = "webhook_secret"  # noqa: S105 - the name of a credential, not its value
"""The credential Vectis generates for every integration: the shared secret the vendor's
webhooks authenticate with (Autotask's ``SecretKey``, NinjaOne's custom header, HaloPSA's
basic-auth password)."""


@frozen(kw_only=True, repr=False)
class Credentials:
    """Secret values for one integration; they never print, log or serialise by accident."""

    values: Mapping[str, str] = field(factory=dict)

    def __getitem__(self, key: str) -> str:
        return self.values[key]

    def get(self, key: str, default: str | None = None) -> str | None:
        return self.values.get(key, default)

    def __repr__(self) -> str:
        return f"Credentials(<{len(self.values)} redacted values>)"

    __str__ = __repr__


@frozen(kw_only=True)
class Integration:
    """A configured connector: which vendor, where, with which settings and how healthy."""

    id: UUID
    tenant_id: UUID
    vendor: str
    name: str
    base_url: str
    created_at: datetime
    settings: Mapping[str, Any] = field(factory=dict)
    last_success_at: datetime | None = None
    last_error_at: datetime | None = None
    last_error: str | None = None

    def setting(self, key: str, default: Any = None) -> Any:
        return self.settings.get(key, default)

    @property
    def failing(self) -> bool:
        """Whether the latest contact with the vendor failed."""
        if self.last_error_at is None:
            return False
        return self.last_success_at is None or self.last_error_at > self.last_success_at


@frozen(kw_only=True)
class CredentialField:
    """One credential an operator supplies when connecting a vendor account."""

    key: str
    label: str
    secret: bool = True


class Capability:
    TICKETS = "tickets"
    ALERTS = "alerts"
    WEBHOOKS = "webhooks"


@frozen(kw_only=True)
class VendorInfo:
    """What an operator needs to know to connect one vendor."""

    key: str
    label: str
    credential_fields: tuple[CredentialField, ...]
    base_url_hint: str
    capabilities: frozenset[str] = frozenset()
    """``tickets`` (create, update, notes), ``alerts`` (acknowledge), ``webhooks``."""
