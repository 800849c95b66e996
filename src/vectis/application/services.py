"""The application services, gathered so entrypoints and jobs receive them in one piece."""

from __future__ import annotations

from attrs import frozen

from vectis.application.audit import AuditService
from vectis.application.customer_hub import CustomerHubService
from vectis.application.customer_records import CustomerRecordsService
from vectis.application.health import HealthService
from vectis.application.identity import IdentityService
from vectis.application.inbox import InboxService
from vectis.application.integrations import IntegrationService
from vectis.application.sign_in_locks import SignInLockService
from vectis.application.sync import SyncService
from vectis.application.tenancy import TenancyService
from vectis.application.timeline import TimelineService
from vectis.application.writebacks import WriteBackService


@frozen(kw_only=True)
class Services:
    tenancy: TenancyService
    identity: IdentityService
    sign_in_locks: SignInLockService
    audit: AuditService
    integrations: IntegrationService
    records: CustomerRecordsService
    sync: SyncService
    writebacks: WriteBackService
    inbox: InboxService
    health: HealthService
    timeline: TimelineService
    hub: CustomerHubService
