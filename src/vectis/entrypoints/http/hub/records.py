"""Hub pages for what connectors bring in: a customer's records, a ticket, the integrations
settings, and the state of a write-back an operator started."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote
from uuid import UUID

import falcon
import falcon.asgi

from vectis.application.services import Services
from vectis.domain.errors import InvalidValue, VendorError
from vectis.domain.integration import Credentials, VendorInfo
from vectis.domain.tenancy import Permission
from vectis.entrypoints.http.hub.forms import form_fields, local_path
from vectis.entrypoints.http.hub.rendering import page
from vectis.entrypoints.http.hub.submissions import idempotency_key


class _Page:
    auth = "session"

    def __init__(self, services: Services) -> None:
        self._services = services

    async def _chrome(self, req: falcon.asgi.Request) -> Any:
        principal = req.context.principal
        req.context.tenant = await self._services.tenancy.get_tenant(principal)
        return principal


class CustomerTickets(_Page):
    """POST: open a ticket for the customer in one of its PSAs."""

    async def on_post(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, customer_id: UUID
    ) -> None:
        principal = await self._chrome(req)  # an error page shows the tenant's brand
        form = await form_fields(req)
        writeback = await self._services.records.open_ticket(
            principal,
            customer_id,
            _uuid(form.get("integration_id")),
            summary=form.get("summary", ""),
            description=form.get("description", ""),
            priority_id=form.get("priority_id"),
            board_id=form.get("board_id"),
            idempotency_key=idempotency_key(principal, form),
        )
        raise falcon.HTTPSeeOther(
            f"/writebacks/{writeback.id}?back=/customers/{customer_id}/tickets"
        )


class TicketPage(_Page):
    async def on_get(
        self,
        req: falcon.asgi.Request,
        resp: falcon.asgi.Response,
        integration_id: UUID,
        ticket_id: str,
    ) -> None:
        principal = await self._chrome(req)
        view = await self._services.records.ticket(principal, integration_id, ticket_id)
        page(
            req,
            resp,
            "ticket.html",
            view=view,
            can_write=principal.can(Permission.WRITE_BACK),
            zone=principal.time_zone,
        )

    async def on_post(
        self,
        req: falcon.asgi.Request,
        resp: falcon.asgi.Response,
        integration_id: UUID,
        ticket_id: str,
    ) -> None:
        principal = await self._chrome(req)  # an error page shows the tenant's brand
        form = await form_fields(req)
        if form.get("action") == "change":
            writeback = await self._services.records.change(
                principal,
                integration_id,
                ticket_id,
                status_id=form.get("status_id"),
                priority_id=form.get("priority_id"),
                board_id=form.get("board_id"),
                owner_id=form.get("owner_id"),
                idempotency_key=idempotency_key(principal, form),
            )
        else:
            writeback = await self._services.records.reply(
                principal,
                integration_id,
                ticket_id,
                form.get("text", ""),
                internal=form.get("internal") == "on",
                idempotency_key=idempotency_key(principal, form),
            )
        back = local_path(form.get("back") or f"/tickets/{integration_id}/{ticket_id}")
        raise falcon.HTTPSeeOther(f"/writebacks/{writeback.id}?back={quote(back, safe='/')}")


class AlertAcknowledgement(_Page):
    async def on_post(
        self,
        req: falcon.asgi.Request,
        resp: falcon.asgi.Response,
        integration_id: UUID,
        alert_id: str,
    ) -> None:
        principal = await self._chrome(req)  # an error page shows the tenant's brand
        form = await form_fields(req)
        writeback = await self._services.records.acknowledge_alert(
            principal, integration_id, alert_id, idempotency_key=idempotency_key(principal, form)
        )
        back = local_path(form.get("back"))
        raise falcon.HTTPSeeOther(f"/writebacks/{writeback.id}?back={quote(back, safe='/')}")


class WriteBackPage(_Page):
    """Where an action lands: pending → succeeded/failed, refreshing itself until final."""

    async def on_get(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, writeback_id: UUID
    ) -> None:
        principal = await self._chrome(req)
        writeback = await self._services.writebacks.get(principal, writeback_id)
        page(
            req,
            resp,
            "writeback.html",
            writeback=writeback,
            back=local_path(req.get_param("back")),
            zone=principal.time_zone,
        )


class IntegrationsPage(_Page):
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        principal = await self._chrome(req)
        await self._render(req, resp, principal)

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        """Connect a vendor and queue its first sync (one use case); a refusal shows the form
        again with what was typed, secrets left for the operator to type again."""
        principal = await self._chrome(req)
        form = await form_fields(req)
        vendor = self._services.integrations.vendor(form.get("vendor", ""))
        try:
            integration = await self._services.integrations.add(
                principal,
                vendor=vendor.key,
                name=form.get("name", "").strip() or vendor.label,
                base_url=form.get("base_url", ""),
                credentials=_credentials(vendor, form),
                first_sync=True,
            )
        except (InvalidValue, VendorError) as error:
            resp.status = falcon.HTTP_502 if isinstance(error, VendorError) else falcon.HTTP_400
            typed = {
                name: value
                for name, value in form.items()
                if name in ("vendor", "name", "base_url") or _not_secret(vendor, name)
            }
            await self._render(req, resp, principal, typed=typed, error=str(error))
            return
        raise falcon.HTTPSeeOther(f"/integrations/{integration.id}")

    async def _render(
        self,
        req: falcon.asgi.Request,
        resp: falcon.asgi.Response,
        principal: Any,
        *,
        typed: dict[str, str] | None = None,
        error: str | None = None,
    ) -> None:
        integrations = await self._services.integrations.list(principal)
        page(
            req,
            resp,
            "integrations.html",
            integrations=integrations,
            vendors=self._services.integrations.vendors(),
            can_manage=principal.can(Permission.MANAGE_INTEGRATIONS),
            typed=typed or {},
            error=error,
            zone=principal.time_zone,
        )


class IntegrationPage(_Page):
    async def on_get(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, integration_id: UUID
    ) -> None:
        principal = await self._chrome(req)
        await self._render(req, resp, principal, integration_id)

    async def _render(
        self,
        req: falcon.asgi.Request,
        resp: falcon.asgi.Response,
        principal: Any,
        integration_id: UUID,
        *,
        mapping_error: str | None = None,
    ) -> None:
        integration = await self._services.integrations.get(principal, integration_id)
        page(
            req,
            resp,
            "integration.html",
            mapping_error=mapping_error,
            integration=integration,
            runs=await self._services.sync.runs(principal, integration_id, limit=10),
            suggestions=await self._services.integrations.suggest_links(principal, integration_id),
            customers={
                customer.id: customer
                for customer in await self._services.tenancy.list_customers(principal)
            },
            vendor=self._services.integrations.vendor(integration.vendor),
            can_manage=principal.can(Permission.MANAGE_INTEGRATIONS),
            checked=req.get_param("checked"),
            queued=req.get_param("queued"),
            zone=principal.time_zone,
        )

    async def on_post(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, integration_id: UUID
    ) -> None:
        principal = await self._chrome(req)  # an error page shows the tenant's brand
        form = await form_fields(req)
        action = form.get("action")
        target = f"/integrations/{integration_id}"
        if action == "test":
            account = await self._services.sync.check(principal, integration_id)
            raise falcon.HTTPSeeOther(f"{target}?checked={account}")
        if action == "sync":
            await self._services.sync.request(
                principal, integration_id, full=form.get("full") == "on"
            )
            raise falcon.HTTPSeeOther(f"{target}?queued=1")
        if action == "connection":
            integration = await self._services.integrations.get(principal, integration_id)
            vendor = self._services.integrations.vendor(integration.vendor)
            await self._services.integrations.update_connection(
                principal,
                integration_id,
                base_url=form.get("base_url", "").strip() or integration.base_url,
                credentials=_credentials(vendor, form),
            )
            raise falcon.HTTPSeeOther(f"{target}?checked=new+credentials+saved")
        if action == "link":
            if not form.get("customer_id"):
                resp.status = falcon.HTTP_400
                await self._render(
                    req,
                    resp,
                    principal,
                    integration_id,
                    mapping_error=(
                        "Choose which Vectis customer the company is before you confirm it."
                    ),
                )
                return
            await self._services.integrations.link_customer(
                principal,
                integration_id,
                form.get("company_id", ""),
                _uuid(form.get("customer_id")),
            )
            raise falcon.HTTPSeeOther(target)
        raise falcon.HTTPBadRequest(
            title="Unknown action", description="Pick test, sync, connection or link."
        )


def _credentials(vendor: VendorInfo, form: dict[str, str]) -> Credentials:
    """The vendor's credential fields from a form (``credential_<key>``)."""
    return Credentials(
        values={
            field.key: form.get(f"credential_{field.key}", "").strip()
            for field in vendor.credential_fields
        }
    )


def _not_secret(vendor: VendorInfo, name: str) -> bool:
    return any(
        name == f"credential_{field.key}" and not field.secret for field in vendor.credential_fields
    )


def _uuid(value: str | None) -> UUID:
    try:
        return UUID(value or "")
    except ValueError:
        raise InvalidValue(
            "the form names no valid choice; reload the page and try again"
        ) from None
