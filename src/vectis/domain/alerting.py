"""The alerting capability an RMM connector offers (NinjaOne)."""

from __future__ import annotations

from typing import Protocol

from vectis.domain.integration import capability


@capability("has no alerts Vectis can acknowledge")
class Alerting(Protocol):
    async def reset_alert(self, alert_id: str, *, idempotency_key: str) -> None:
        """Acknowledge and clear an alert; resetting one already gone is not an error."""
        ...
