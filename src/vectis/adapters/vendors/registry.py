"""The one explicit list of vendors and the gateways each offers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

import attrs
import httpx

from vectis.adapters.postgres.rate_limits import PostgresRateLimiter
from vectis.adapters.vendors import autotask, connectwise, halopsa, ninjaone
from vectis.adapters.vendors._entry import Link, VendorEntry
from vectis.adapters.vendors._http.transport import UNPACED
from vectis.adapters.vendors.autotask import entry as autotask_entry
from vectis.adapters.vendors.connectwise import entry as connectwise_entry
from vectis.adapters.vendors.halopsa import entry as halopsa_entry
from vectis.adapters.vendors.ninjaone import entry as ninjaone_entry
from vectis.application.ports import Clock
from vectis.domain.errors import VendorRejected
from vectis.domain.integration import Credentials, Integration, VendorInfo
from vectis.domain.sync import SyncSource

P = TypeVar("P")

VENDORS: Mapping[str, VendorEntry] = {
    connectwise.VENDOR: connectwise_entry.ENTRY,
    autotask.VENDOR: autotask_entry.ENTRY,
    halopsa.VENDOR: halopsa_entry.ENTRY,
    ninjaone.VENDOR: ninjaone_entry.ENTRY,
}


class VendorConnectors:
    """Implements the ``Connectors`` port over the registry, sharing one HTTP client."""

    def __init__(self, http: httpx.AsyncClient, limiter: PostgresRateLimiter, clock: Clock) -> None:
        self._http = http
        self._limiter = limiter
        self._clock = clock
        self._key_cache: dict[str, tuple[float, bytes]] = {}

    def vendors(self) -> list[VendorInfo]:
        return [
            VendorInfo(
                key=key,
                label=entry.label,
                credential_fields=tuple(entry.credential_fields),
                base_url_hint=entry.base_url_hint,
                empty_base_url=entry.empty_base_url,
                record_ids=entry.record_ids,
                ports=frozenset(entry.ports),
                fills=entry.fills,
            )
            for key, entry in VENDORS.items()
        ]

    async def check_credentials(self, integration: Integration, credentials: Credentials) -> str:
        # The integration may not be stored yet, so it has no rate bucket: one unpaced call.
        entry = _entry(integration)
        if not entry.offers(SyncSource):
            raise VendorRejected(f"Vectis cannot connect {entry.label} yet")
        link = attrs.evolve(self._link(entry, integration, credentials), limit=UNPACED)
        return await entry.build(SyncSource, link).check()

    def port(self, port: type[P], integration: Integration, credentials: Credentials) -> P:
        entry = _entry(integration)
        return entry.build(port, self._link(entry, integration, credentials))

    def _link(self, entry: VendorEntry, integration: Integration, credentials: Credentials) -> Link:
        per_minute = float(integration.setting("requests_per_minute", entry.requests_per_minute))
        return Link(
            http=self._http,
            integration=integration,
            credentials=credentials,
            limit=self._limiter.for_integration(
                integration.tenant_id,
                integration.id,
                per_minute=per_minute,
                burst=entry.burst,
                at_once=entry.requests_at_once,
                lease_seconds=_lease_seconds(self._http),
            ),
            key_cache=self._key_cache,
            clock=self._clock,
        )


def _lease_seconds(http: httpx.AsyncClient) -> float:
    """How long a request slot is leased: past the longest a request may take, so a slot
    is only ever reclaimed from a process that died holding it."""
    timeout = http.timeout
    longest = sum(part or 60.0 for part in (timeout.connect, timeout.read, timeout.write))
    return longest + 30.0


def _entry(integration: Integration) -> VendorEntry:
    try:
        return VENDORS[integration.vendor]
    except KeyError:
        raise VendorRejected(f"no connector for vendor {integration.vendor!r}") from None
