"""The ASGI application factory: services in, a Falcon app out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import falcon
import falcon.asgi
from attrs import frozen

from vectis.application.services import Services
from vectis.entrypoints.http import health, problems, webhooks
from vectis.entrypoints.http.api import resources as api
from vectis.entrypoints.http.client_address import ClientAddress, Network
from vectis.entrypoints.http.cursors import PageCursors
from vectis.entrypoints.http.edge import InputGuard, StrictFormHandler, StrictJSONHandler
from vectis.entrypoints.http.hub import customer, pages, records, settings
from vectis.entrypoints.http.hub.errors import BrandedErrorPages
from vectis.entrypoints.http.security import (
    AuthMiddleware,
    CsrfTokens,
    SecurityHeaders,
    SignInRequired,
    redirect_to_sign_in,
)

STATIC = Path(__file__).parent / "hub" / "static"


@frozen(kw_only=True)
class HttpConfig:
    csrf_key: bytes
    cursor_key: bytes
    """Signs page cursors (``after=``)."""
    trusted_proxies: tuple[Network, ...] = ()
    """Proxies whose ``X-Forwarded-For`` names the client (``VECTIS_TRUSTED_PROXIES``)."""


def create_app(services: Services, config: HttpConfig) -> falcon.asgi.App[Any, Any]:
    csrf = CsrfTokens(config.csrf_key)
    cursors = PageCursors(config.cursor_key)
    middleware: list[Any] = [
        ClientAddress(config.trusted_proxies),
        SecurityHeaders(),
        InputGuard(),
        AuthMiddleware(services.identity, csrf),
    ]
    app: falcon.asgi.App[Any, Any] = falcon.asgi.App(middleware=middleware)
    app.req_options.strip_url_path_trailing_slash = True
    app.req_options.media_handlers[falcon.MEDIA_JSON] = StrictJSONHandler()
    app.req_options.media_handlers[falcon.MEDIA_URLENCODED] = StrictFormHandler()

    app.add_route("/healthz", health.Liveness())
    app.add_route("/readyz", health.Readiness(services))

    app.add_route("/", pages.Home())
    app.add_route("/login", pages.SignIn(services, csrf))
    app.add_route("/logout", pages.SignOut(services))
    app.add_route("/customers", pages.Customers(services))
    app.add_route("/audit", pages.AuditLog(services))
    hub = customer.CustomerHub(services, cursors)
    app.add_route("/customers/{customer_id:uuid}", hub)
    for tab in ("tickets", "alerts", "devices", "contracts", "notes", "timeline"):
        app.add_route(f"/customers/{{customer_id:uuid}}/{tab}", hub, suffix=tab)
    # Tabs whose connectors are yet to come (backups, invoices, security, M365, licensing).
    app.add_route("/customers/{customer_id:uuid}/{tab}", hub, suffix="planned")
    app.add_route("/customers/{customer_id:uuid}/notes/{note_id:uuid}", customer.NotePage(services))
    app.add_route("/customers/{customer_id:uuid}/tickets/new", records.CustomerTickets(services))
    app.add_route("/tickets/{integration_id:uuid}/{ticket_id}", records.TicketPage(services))
    app.add_route(
        "/alerts/{integration_id:uuid}/{alert_id}/acknowledge",
        records.AlertAcknowledgement(services),
    )
    app.add_route("/writebacks/{writeback_id:uuid}", records.WriteBackPage(services))
    app.add_route("/integrations", records.IntegrationsPage(services))
    app.add_route("/integrations/{integration_id:uuid}", records.IntegrationPage(services))
    app.add_route("/settings", settings.BrandingSettings(services))
    app.add_route("/settings/time-zone", settings.TimeZoneSetting(services))
    app.add_route("/settings/sign-in-locks", settings.SignInLockClearing(services))
    app.add_route("/branding/logo", settings.Logo(services))
    app.add_route("/branding/theme.css", settings.Theme(services))
    app.add_static_route("/static", str(STATIC))

    app.add_route("/api/v1/openapi.json", api.OpenApiDocument())
    app.add_route("/api/v1/me", api.Me())
    app.add_route("/api/v1/customers", api.Customers(services))
    app.add_route("/api/v1/customers/{customer_id:uuid}", api.Customer(services))
    app.add_route("/api/v1/customers/{customer_id:uuid}/timeline", api.Timeline(services, cursors))
    app.add_route("/api/v1/customers/{customer_id:uuid}/notes", api.Notes(services))
    app.add_route("/api/v1/customers/{customer_id:uuid}/notes/{note_id:uuid}", api.Note(services))
    app.add_route("/api/v1/writebacks", api.WriteBacks(services))
    app.add_route("/api/v1/writebacks/{writeback_id:uuid}", api.WriteBack(services))
    app.add_route("/api/v1/audit", api.AuditEntries(services))
    app.add_route("/api/v1/sign-in-locks", api.SignInLocks(services))
    app.add_route("/api/v1/sign-in-locks/{operator_id:uuid}", api.SignInLock(services))

    app.add_route("/webhooks/{integration_id:uuid}", webhooks.WebhookReceiver(services))

    problems.install(app, BrandedErrorPages(services, csrf))
    app.add_error_handler(SignInRequired, redirect_to_sign_in)
    return app
