"""What each vendor package declares about itself, and what its gateway factories receive."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar, cast

import httpx
from attrs import field, frozen

from vectis.adapters.vendors._http.transport import RateLimit
from vectis.application.ports import Clock, WebhookParser, WebhookSubscriptions
from vectis.domain.alerting import Alerting
from vectis.domain.errors import VendorRejected
from vectis.domain.integration import (
    WEBHOOK_SECRET,
    CredentialField,
    Credentials,
    EmptyBaseUrl,
    IdForm,
    Integration,
    lacking,
)
from vectis.domain.sync import SyncSource
from vectis.domain.ticketing import Ticketing

__all__ = [
    "WEBHOOK_SECRET",
    "Alerting",
    "CredentialField",
    "EmptyBaseUrl",
    "IdForm",
    "Link",
    "SyncSource",
    "Ticketing",
    "VendorEntry",
    "WebhookParser",
    "WebhookSubscriptions",
]

P = TypeVar("P")


@frozen(kw_only=True)
class Link:
    """What a gateway factory gets: the shared HTTP client, the account, the rate limit, the
    clock."""

    http: httpx.AsyncClient
    integration: Integration
    credentials: Credentials
    limit: RateLimit
    key_cache: dict[str, tuple[float, bytes]]
    clock: Clock


@frozen(kw_only=True)
class VendorEntry:
    """One vendor: how to connect it, and the capabilities its connector offers, as data.

    ``ports`` maps each port Protocol the connector offers to the factory building it; a new
    capability is a new key here, never a new field.
    """

    label: str
    requests_per_minute: float
    burst: float
    requests_at_once: int | None = None
    """The vendor's documented bound on requests in flight per integration, held across
    every process; ``None`` where it documents none."""
    credential_fields: Sequence[CredentialField]
    base_url_hint: str
    """Prose beside the address field, for people; never used as an address."""
    empty_base_url: EmptyBaseUrl
    """What an empty base URL means, as the vendor documents it (declared by every vendor)."""
    record_ids: Mapping[str, IdForm] = field(factory=dict)
    """The form of the vendor's ids by kind of record, checked when a write-back is requested."""
    ports: Mapping[type, Callable[[Link], object]] = field(factory=dict)
    """The factory of each port the connector offers, keyed by the port's Protocol; each
    factory returns an object implementing its key (tests/adapters/test_vendor_entries.py)."""
    fills: frozenset[str] = frozenset()
    """The kinds of record its sync fills (``tickets``, ``alerts``, ``devices``, ``contracts``,
    ``contacts``): the hub's tabs they feed."""

    def offers(self, port: type) -> bool:
        return port in self.ports

    def build(self, port: type[P], link: Link) -> P:
        """The connector's gateway for ``port``, or ``VendorRejected`` saying the vendor lacks
        it ("Autotask PSA has no alerts Vectis can acknowledge")."""
        factory = self.ports.get(port)
        if factory is None:
            raise VendorRejected(f"{self.label} {lacking(port)}")
        return cast(P, factory(link))
