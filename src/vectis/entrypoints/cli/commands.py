"""One function per command; each opens what it needs from the runtime and calls services."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import json
import os
import re
import secrets
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import uvicorn

from vectis.application.demo import DemoSeeder
from vectis.application.errors import ConfigurationError
from vectis.application.services import Services
from vectis.application.tenancy import KEEP
from vectis.domain.audit import ChainHead
from vectis.domain.errors import InvalidValue
from vectis.domain.identity import Principal
from vectis.domain.integration import Credentials, VendorInfo
from vectis.domain.sync import StreamCounts, SyncStatus
from vectis.domain.tenancy import Role
from vectis.entrypoints.cli.runtime import Runtime

_DURATION = re.compile(r"^(\d+)([dhm])$")
DEMO_PASSWORD_VARIABLE = "VECTIS_DEMO_ADMIN_PASSWORD"  # noqa: S105 - a variable's name


async def migrate(runtime: Runtime, args: argparse.Namespace) -> int:
    with runtime.database():
        before, after = await runtime.migrate()
    if before == after:
        print(f"database schema is current (revision {after})")
    else:
        print(f"database schema migrated from {before or 'empty'} to revision {after}")
    return 0


async def serve(runtime: Runtime, args: argparse.Namespace) -> int:
    host, port = args.host or runtime.host, args.port or runtime.port
    runtime.check_port_free(host, port)
    with runtime.database():
        async with runtime.services() as services:
            await _serve_http(runtime, services, host, port)
    return 0


async def worker(runtime: Runtime, args: argparse.Namespace) -> int:
    with runtime.database():
        async with runtime.services() as services:
            await runtime.run_worker(services, concurrency=args.concurrency)
    return 0


async def demo(runtime: Runtime, args: argparse.Namespace) -> int:
    if not runtime.embedded:
        raise ConfigurationError(
            "the demo runs on its own embedded PostgreSQL; unset VECTIS_DATABASE_URL to use it"
        )
    host, port = args.host or runtime.host, args.port or runtime.port
    runtime.check_port_free(host, port)
    password, told = _demo_password(args)
    with runtime.exclusive_data_dir(), runtime.database():
        await runtime.migrate()
        async with runtime.sandbox() as accounts, runtime.services() as services:
            url = f"http://{_url_host(host)}:{port}/"
            login = await DemoSeeder(services).seed(
                admin_email=args.admin_email,
                admin_password=password,
                sandbox=accounts,
                webhook_base_url=url,
            )
            print(
                f"\nVectis demo for {login.tenant.name} is running at {url}\n"
                f"  sign in as {login.email} with {told}\n"
                f"  (also {', '.join(login.team)}, same password)\n"
                f"  data directory: {runtime.data_dir}\n"
                "  press Ctrl+C to stop\n",
                flush=True,
            )
            jobs = asyncio.create_task(runtime.run_worker(services, handle_signals=False))
            try:
                await _serve_http(runtime, services, host, port)
            finally:
                jobs.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await jobs
    return 0


async def token_create(runtime: Runtime, args: argparse.Namespace) -> int:
    role = Role.parse(args.role) if args.role else None
    expires_in = _duration(args.expires_in) if args.expires_in else None
    with runtime.database():
        async with runtime.services() as services:
            issued = await services.identity.issue_token(
                args.email, name=args.name, role=role, expires_in=expires_in
            )
    token = issued.token
    expiry = token.expires_at.isoformat() if token.expires_at else "never"
    print(issued.secret)
    print(
        f"token {token.id} for {args.email} in tenant {issued.tenant_slug}: role "
        f"{token.role.value}, expires {expiry}. It is shown only this once.",
        file=sys.stderr,
    )
    return 0


async def token_revoke(runtime: Runtime, args: argparse.Namespace) -> int:
    if not args.token and not (args.id and args.tenant):
        raise InvalidValue("give the token itself, or --id together with --tenant")
    token_id = _uuid(args.id) if args.id else None
    with runtime.database():
        async with runtime.services() as services:
            token = await services.identity.revoke_token(
                secret=args.token, token_id=token_id, tenant_slug=args.tenant
            )
    print(f"token {token.id} ({token.name}) revoked")
    return 0


async def token_list(runtime: Runtime, args: argparse.Namespace) -> int:
    with runtime.database():
        async with runtime.services() as services:
            tokens = await services.identity.list_tokens(args.tenant)
    now = datetime.now(UTC)
    for token in tokens:
        last_used = token.last_used_at.isoformat() if token.last_used_at else "never"
        print(
            f"{token.id}  {token.hint:<20} {token.role.value:<10} {token.state(now):<8} "
            f"last used {last_used}  {token.name}"
        )
    return 0


async def audit_verify(runtime: Runtime, args: argparse.Namespace) -> int:
    checkpoints = _read_checkpoint(args.checkpoint) if args.checkpoint else None
    with runtime.database():
        async with runtime.services() as services:
            report = await services.audit.verify(checkpoints)
    if report.ok:
        chains = "chain" if report.tenants == 1 else "chains"
        print(f"audit log verified: {report.entries} entries in {report.tenants} tenant {chains}")
        return 0
    for found in report.breaks:
        print(f"audit log broken: {found.describe()}", file=sys.stderr)
    return 2


async def audit_checkpoint(runtime: Runtime, args: argparse.Namespace) -> int:
    with runtime.database():
        async with runtime.services() as services:
            heads = await services.audit.checkpoint()
    document = json.dumps(
        {
            "heads": [
                {"tenant_id": str(head.tenant_id), "seq": head.seq, "hash": head.hash.hex()}
                for head in heads
            ]
        },
        indent=2,
    )
    if args.output:
        args.output.write_text(document + "\n")
        print(f"checkpoint of {len(heads)} tenant chains written to {args.output}")
    else:
        print(document)
    return 0


async def tenant_create(runtime: Runtime, args: argparse.Namespace) -> int:
    with runtime.database():
        async with runtime.services() as services:
            tenant = await services.tenancy.create_tenant(args.name, slug=args.slug)
    print(f"tenant {tenant.name} created with slug {tenant.slug} ({tenant.id})")
    return 0


async def tenant_brand(runtime: Runtime, args: argparse.Namespace) -> int:
    logo: bytes | object | None = KEEP
    if args.remove_logo:
        logo = None
    elif args.logo is not None:
        try:
            logo = args.logo.read_bytes()
        except OSError as error:
            raise InvalidValue(f"cannot read {args.logo}: {error.strerror}") from None
    with runtime.database():
        async with runtime.services() as services:
            tenant = await services.tenancy.find_tenant(args.tenant)
            current = await services.tenancy.get_tenant(Principal.system(tenant.id, "cli"))
            branded = await services.tenancy.set_branding(
                Principal.system(tenant.id, "cli"),
                accent=args.accent if args.accent is not None else current.accent_color,
                logo=logo,
            )
    logo_state = "with a logo" if branded.has_logo else "without a logo"
    print(f"{branded.slug}: accent {branded.accent_color or 'default'}, {logo_state}")
    return 0


async def operator_create(runtime: Runtime, args: argparse.Namespace) -> int:
    role = Role.parse(args.role)
    password = _read_password()
    with runtime.database():
        async with runtime.services() as services:
            tenant = await services.tenancy.find_tenant(args.tenant)
            operator = await services.tenancy.add_operator(
                tenant.id,
                email=args.email,
                display_name=args.name,
                role=role,
                password=password,
                time_zone=args.time_zone,
            )
    print(f"operator {operator.email} ({operator.role.value}) added to {tenant.slug}")
    return 0


async def operator_unlock(runtime: Runtime, args: argparse.Namespace) -> int:
    with runtime.database():
        async with runtime.services() as services:
            operator = await services.sign_in_locks.clear_by_email(args.email)
    print(f"sign-in lock of {operator.email} cleared; they can sign in again at once")
    return 0


async def customer_add(runtime: Runtime, args: argparse.Namespace) -> int:
    with runtime.database():
        async with runtime.services() as services:
            tenant = await services.tenancy.find_tenant(args.tenant)
            customer = await services.tenancy.add_customer(
                tenant.id, name=args.name, site_names=args.site
            )
    print(f"customer {customer.name} added to {tenant.slug} ({customer.id})")
    return 0


async def integration_add(runtime: Runtime, args: argparse.Namespace) -> int:
    settings = dict(_pairs(args.setting, "--setting"))
    with runtime.database():
        async with runtime.services() as services:
            tenant = await services.tenancy.find_tenant(args.tenant)
            vendor = services.integrations.vendor(args.vendor)
            credentials = _read_credentials(vendor, args.credentials_file)
            integration = await services.integrations.add(
                Principal.system(tenant.id, "cli"),
                vendor=vendor.key,
                name=args.name or vendor.label,
                base_url=args.base_url or "",
                credentials=credentials,
                settings=settings,
                test=not args.no_test,
            )
    tested = "credentials not tested" if args.no_test else "credentials work"
    print(f"integration {integration.name} ({vendor.label}) added: {integration.id}; {tested}")
    return 0


async def integration_test(runtime: Runtime, args: argparse.Namespace) -> int:
    with runtime.database():
        async with runtime.services() as services:
            tenant = await services.tenancy.find_tenant(args.tenant)
            principal = Principal.system(tenant.id, "cli")
            integration = await services.integrations.find(principal, args.integration)
            account = await services.sync.check(principal, integration.id)
    print(f"{integration.name}: credentials work ({account})")
    return 0


async def integration_list(runtime: Runtime, args: argparse.Namespace) -> int:
    with runtime.database():
        async with runtime.services() as services:
            tenant = await services.tenancy.find_tenant(args.tenant)
            principal = Principal.system(tenant.id, "cli")
            listed = await services.integrations.list(principal)
            latest = {
                integration.id: await services.sync.runs(principal, integration.id, limit=1)
                for integration in listed
            }
    for integration in listed:
        runs = latest[integration.id]
        synced = (
            f"last sync {runs[0].started_at:%Y-%m-%d %H:%M} {runs[0].status.value}"
            if runs
            else "never synced"
        )
        health = f"error: {integration.last_error}" if integration.failing else "healthy"
        print(
            f"{integration.id}  {integration.vendor:<12} {integration.name:<28} {synced}; {health}"
        )
    return 0


async def integration_sync(runtime: Runtime, args: argparse.Namespace) -> int:
    with runtime.database():
        async with runtime.services() as services:
            tenant = await services.tenancy.find_tenant(args.tenant)
            principal = Principal.system(tenant.id, "cli")
            integration = await services.integrations.find(principal, args.integration)
            bar = ProgressLine(sys.stderr)
            run = await services.sync.sync_now(
                principal, integration.id, full=args.full, progress=bar.update
            )
            bar.finish()
    total = run.total
    print(
        f"{integration.name}: sync {run.status.value} — {total.fetched} records read, "
        f"{total.created} new, {total.updated} changed, {total.skipped} skipped"
    )
    for error in run.errors:
        print(f"  {error}", file=sys.stderr)
    return 0 if run.status in (SyncStatus.SUCCEEDED, SyncStatus.PARTIAL) else 1


class ProgressLine:
    """A one-line progress display per stream: redrawn in place on a terminal, else a line
    per finished stream (so logs of a long sync stay readable)."""

    def __init__(self, stream: Any) -> None:
        self._out = stream
        self._tty = bool(getattr(stream, "isatty", lambda: False)())
        self._current: str | None = None
        self._counts: StreamCounts | None = None
        self._started = self._drawn = time.monotonic()

    def update(self, stream: str, counts: StreamCounts) -> None:
        if stream != self._current:
            self._end_stream()
            self._current, self._started = stream, time.monotonic()
        self._counts = counts
        now = time.monotonic()
        if self._tty and now - self._drawn > 0.1:
            self._drawn = now
            self._out.write("\r\033[K" + self._line())
            self._out.flush()

    def finish(self) -> None:
        self._end_stream()

    def _end_stream(self) -> None:
        if self._current is None:
            return
        self._out.write(("\r\033[K" if self._tty else "") + self._line() + "\n")
        self._out.flush()
        self._current = None

    def _line(self) -> str:
        counts = self._counts or StreamCounts()
        elapsed = max(time.monotonic() - self._started, 1e-6)
        filled = int(time.monotonic() * 4) % 20
        bar = "=" * filled + ">" + " " * (19 - filled) if self._tty else "=" * 20
        return (
            f"{self._current:<12} [{bar}] {counts.fetched:>9,} records "
            f"({counts.created:,} new, {counts.updated:,} changed, {counts.skipped:,} skipped) "
            f"{counts.fetched / elapsed:,.0f}/s"
        )


def http_server_config(app: Any, host: str, port: int) -> uvicorn.Config:
    """How the hub is served. Uvicorn's forwarded-header trust is off: it would believe
    X-Forwarded-For from any loopback client. The app reads that header itself, and only from
    ``VECTIS_TRUSTED_PROXIES`` (``entrypoints/http/client_address.py``)."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        proxy_headers=False,
        lifespan="off",
    )


async def _serve_http(runtime: Runtime, services: Services, host: str, port: int) -> None:
    server = uvicorn.Server(http_server_config(runtime.http_app(services), host, port))
    await server.serve()
    if not server.started:
        raise ConfigurationError(f"could not listen on {host}:{port}")


def _duration(text: str) -> timedelta:
    match = _DURATION.match(text.strip())
    if not match:
        raise InvalidValue(f"{text!r} is not a duration like 30d, 12h or 90m")
    amount, unit = int(match.group(1)), match.group(2)
    return {
        "d": timedelta(days=amount),
        "h": timedelta(hours=amount),
        "m": timedelta(minutes=amount),
    }[unit]


def _uuid(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        raise InvalidValue(f"{text!r} is not a token id") from None


def _demo_password(args: argparse.Namespace) -> tuple[str, str]:
    """The demo admin's password and how the sign-in line names it. It never comes from the
    command line, which every local user can read in ``ps``: standard input when asked for,
    else ``VECTIS_DEMO_ADMIN_PASSWORD``, else a fresh one that only this process prints."""
    if args.password_stdin:
        return _read_password(), "the password you gave"
    given = os.environ.get(DEMO_PASSWORD_VARIABLE)
    if given:
        return given, f"the password in {DEMO_PASSWORD_VARIABLE}"
    generated = secrets.token_urlsafe(12)
    return generated, f"password {generated}"


def _read_password() -> str:
    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Repeat password: ") != password:
            raise InvalidValue("the passwords do not match")
        return password
    return sys.stdin.readline().rstrip("\n")


def _read_checkpoint(path: Any) -> dict[UUID, ChainHead]:
    try:
        document = json.loads(path.read_text())
        return {
            UUID(head["tenant_id"]): ChainHead(
                tenant_id=UUID(head["tenant_id"]),
                seq=int(head["seq"]),
                hash=bytes.fromhex(head["hash"]),
            )
            for head in document["heads"]
        }
    except OSError as error:
        raise InvalidValue(f"cannot read the checkpoint {path}: {error.strerror}") from None
    except (ValueError, KeyError, TypeError):
        raise InvalidValue(
            f"{path} is not a checkpoint written by 'vectis audit checkpoint'"
        ) from None


def _read_credentials(vendor: VendorInfo, path: Any) -> Credentials:
    """Credentials from a JSON file (or stdin with ``-``), or asked for one by one on a
    terminal; never from the command line, where they would land in shell history."""
    if path is None and sys.stdin.isatty():
        values = {}
        for field in vendor.credential_fields:
            ask = getpass.getpass if field.secret else input
            values[field.key] = ask(f"{field.label}: ").strip()
        return Credentials(values=values)
    try:
        text = sys.stdin.read() if path in (None, "-") else Path(path).read_text()
        document = json.loads(text)
    except OSError as error:
        raise InvalidValue(f"cannot read {path}: {error.strerror}") from None
    except ValueError:
        raise InvalidValue("the credentials must be a JSON object of strings") from None
    if not isinstance(document, dict) or not all(
        isinstance(value, str) for value in document.values()
    ):
        raise InvalidValue("the credentials must be a JSON object of strings")
    return Credentials(values=document)


def _pairs(items: list[str], option: str) -> list[tuple[str, Any]]:
    pairs = []
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidValue(f"{option} takes key=value, not {item!r}")
        try:
            pairs.append((key, json.loads(value)))
        except ValueError:
            pairs.append((key, value))
    return pairs


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
