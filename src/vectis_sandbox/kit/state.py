"""What every sandboxed vendor's state holds, whatever the vendor: the base its state extends."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from attrs import define, field

from vectis_sandbox.kit.faults import Faults


@define(kw_only=True)
class SandboxState:
    """The fields the sandbox host and the tests read on any vendor; tests change them directly.

    A vendor's state subclasses this (``@define``) and adds its records and its credentials.
    """

    base_url: str = ""
    """What an operator types as the integration's base URL (``SandboxVendor.base_url_for``)."""
    faults: Faults = field(factory=Faults)
    company_ids: dict[str, str] = field(factory=dict)
    """World company key → the vendor's id for that company."""
    deliveries: list[asyncio.Task[None]] = field(factory=list)
    """Webhook posts under way; the host cancels them when the sandbox is seeded afresh."""

    @property
    def credentials(self) -> dict[str, str]:
        """What an operator types into the integration's credential fields."""
        raise NotImplementedError(f"{type(self).__name__} names no credentials")


def utc_now() -> datetime:
    """The current moment, in UTC: what a vendor stamps on a record it changes."""
    return datetime.now(UTC)
