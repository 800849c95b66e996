"""NinjaOne as ``Alerting``: an alert is reset by its uid."""

from __future__ import annotations

import logging
from urllib.parse import quote

from vectis.adapters.vendors.ninjaone import mapping
from vectis.adapters.vendors.ninjaone.client import NinjaOneClient
from vectis.domain.errors import VendorNotFound

logger = logging.getLogger(__name__)


class NinjaOneAlerts:
    """``Alerting`` on NinjaOne: ``POST /v2/alert/{uid}/reset``."""

    def __init__(self, client: NinjaOneClient) -> None:
        self._client = client

    async def reset_alert(self, alert_id: str, *, idempotency_key: str) -> None:
        # Resetting is idempotent by nature; an alert already reset (or gone) answers 404.
        try:
            await self._client.post(
                f"/alert/{quote(alert_id, safe='')}/reset", mapping.reset_body(idempotency_key)
            )
        except VendorNotFound:
            logger.info("NinjaOne alert %s was already reset", alert_id)
