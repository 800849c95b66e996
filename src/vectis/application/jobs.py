"""Background jobs: thin procrastinate tasks that call application services.

The worker hands the services in through procrastinate's ``additional_context``, so this
module never imports the composition root.
"""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

import procrastinate
from procrastinate import JobContext, RetryStrategy

from vectis.application.inbox import PROCESS_INBOX
from vectis.application.sync_queue import SYNC_INTEGRATION
from vectis.application.writebacks import MAX_ATTEMPTS, PERFORM_WRITEBACK
from vectis.domain.errors import VendorUnavailable

logger = logging.getLogger(__name__)
NAMESPACE = "vectis"


def job_blueprint() -> procrastinate.Blueprint:
    """A fresh blueprint of Vectis's tasks (procrastinate renames a blueprint's tasks in place
    when an app adopts them, so every app gets its own)."""
    blueprint = procrastinate.Blueprint()

    @blueprint.task(
        name=_local(PROCESS_INBOX),
        queue="inbox",
        pass_context=True,
        retry=RetryStrategy(max_attempts=10, exponential_wait=2),
    )
    async def process_inbox(context: JobContext, tenant_id: str) -> None:
        processed = await _services(context).inbox.process(UUID(tenant_id))
        logger.info("processed %d inbound events for tenant %s", processed, tenant_id)

    @blueprint.task(
        name=_local(PERFORM_WRITEBACK),
        queue="writebacks",
        pass_context=True,
        retry=RetryStrategy(
            max_attempts=MAX_ATTEMPTS - 1, exponential_wait=3, retry_exceptions={VendorUnavailable}
        ),
    )
    async def perform_writeback(context: JobContext, tenant_id: str, writeback_id: str) -> None:
        await _services(context).writebacks.perform(UUID(tenant_id), UUID(writeback_id))

    @blueprint.task(
        name=_local(SYNC_INTEGRATION),
        queue="sync",
        pass_context=True,
        retry=RetryStrategy(
            max_attempts=3, exponential_wait=30, retry_exceptions={VendorUnavailable}
        ),
    )
    async def sync_integration(
        context: JobContext, tenant_id: str, integration_id: str, full: bool = False
    ) -> None:
        run = await _services(context).sync.run(UUID(tenant_id), UUID(integration_id), full=full)
        total = run.total
        logger.info(
            "sync of integration %s: %s, %d records read (%d new, %d changed, %d skipped)",
            integration_id,
            run.status.value,
            total.fetched,
            total.created,
            total.updated,
            total.skipped,
        )

    @blueprint.periodic(cron="*/5 * * * *", periodic_id="schedule-syncs")
    @blueprint.task(name="schedule_syncs", queue="maintenance", pass_context=True)
    async def schedule_syncs(context: JobContext, timestamp: int) -> None:
        """Queue a sync of every integration whose interval has passed."""
        queued = await _services(context).sync.schedule_due()
        if queued:
            logger.info("queued %d integration syncs", queued)

    @blueprint.periodic(cron="* * * * *", periodic_id="seal-audit")
    @blueprint.task(name="seal_audit_chains", queue="maintenance", pass_context=True)
    async def seal_audit_chains(context: JobContext, timestamp: int) -> None:
        """Link audit entries whose writer stopped between committing and linking them."""
        linked = await _services(context).audit.seal_all()
        if linked:
            logger.warning("linked %d audit entries that had been left pending", linked)

    @blueprint.periodic(cron="* * * * *", periodic_id="retry-stalled")
    @blueprint.task(name="retry_stalled_jobs", queue="maintenance", pass_context=True)
    async def retry_stalled_jobs(context: JobContext, timestamp: int) -> None:
        """Requeue jobs whose worker stopped sending heartbeats (it crashed or was killed)."""
        await requeue_stalled_jobs(context.app)

    return blueprint


async def requeue_stalled_jobs(app: procrastinate.App) -> int:
    """Put jobs of workers that stopped sending heartbeats back in the queue."""
    stalled = list(await app.job_manager.get_stalled_jobs())
    for job in stalled:
        logger.warning("retrying job %s of a worker that stopped responding", job.id)
        await app.job_manager.retry_job(job)
    return len(stalled)


def _services(context: JobContext) -> Any:
    return context.additional_context["services"]


def _local(name: str) -> str:
    return name.removeprefix(f"{NAMESPACE}:")
