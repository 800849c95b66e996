"""The MSP's customers and their sites: the account everything else hangs from."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from attrs import frozen


@frozen(kw_only=True)
class Site:
    """One location of a multi-site customer (a branch, a clinic, a warehouse)."""

    id: UUID
    tenant_id: UUID
    customer_id: UUID
    name: str
    created_at: datetime


@frozen(kw_only=True)
class Customer:
    """A customer account of the MSP; the hub shows one page per customer."""

    id: UUID
    tenant_id: UUID
    name: str
    slug: str
    created_at: datetime
    sites: tuple[Site, ...] = ()

    @property
    def is_multi_site(self) -> bool:
        return len(self.sites) > 1
