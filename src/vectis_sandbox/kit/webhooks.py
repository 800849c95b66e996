"""Webhook deliveries from a sandboxed vendor: posted in the background, logged, cancellable."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

import httpx

from vectis_sandbox.kit.state import SandboxState

logger = logging.getLogger(__name__)
TIMEOUT_SECONDS = 10.0


def deliver_later(state: SandboxState, url: str, body: bytes, headers: Mapping[str, str]) -> None:
    """Post ``body`` to ``url`` in the background, as the vendor pushes a change.

    Without a running event loop (a test building state synchronously) nothing is posted. The
    task is kept on ``state.deliveries`` (finished ones dropped) so ``SandboxHost.clear``
    cancels what is still under way; the outcome is logged, never raised.
    """
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        logger.debug("no event loop: nothing posted to %s", url)
        return
    state.deliveries[:] = [task for task in state.deliveries if not task.done()]
    state.deliveries.append(loop.create_task(_post(url, body, dict(headers))))


async def _post(url: str, body: bytes, headers: dict[str, str]) -> None:
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS) as client:
            response = await client.post(url, content=body, headers=headers)
        logger.info("webhook %s → %s", url, response.status_code)
    except httpx.HTTPError as error:
        logger.warning("webhook to %s failed: %s", url, error)
