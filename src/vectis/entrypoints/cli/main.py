"""``vectis``: parse the command line, run one command, print one line on failure."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from vectis.domain.errors import VectisError
from vectis.entrypoints.cli import commands
from vectis.entrypoints.cli.runtime import RuntimeFactory

logger = logging.getLogger("vectis")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vectis",
        description="Vectis: one screen per customer for managed IT service providers.",
    )
    database = argparse.ArgumentParser(add_help=False)
    database.add_argument(
        "--data-dir",
        type=Path,
        help="where the embedded PostgreSQL and the generated secret key live "
        "(default: $VECTIS_DATA_DIR or the user's data directory)",
    )
    server = argparse.ArgumentParser(add_help=False)
    server.add_argument("--host", help="address to listen on (default: $VECTIS_HOST or 127.0.0.1)")
    server.add_argument(
        "--port", type=int, help="port to listen on (default: $VECTIS_PORT or 8000)"
    )

    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser(
        "serve", parents=[database, server], help="serve the hub, REST API and webhooks over HTTP"
    ).set_defaults(run=commands.serve)
    worker = sub.add_parser("worker", parents=[database], help="run background jobs")
    worker.add_argument("--concurrency", type=int, help="jobs run at once (default 4)")
    worker.set_defaults(run=commands.worker)
    sub.add_parser(
        "migrate", parents=[database], help="create or upgrade the database schema (idempotent)"
    ).set_defaults(run=commands.migrate)

    demo = sub.add_parser(
        "demo",
        parents=[database, server],
        help="run everything on an embedded PostgreSQL with a seeded demo MSP and vendor sandbox",
    )
    demo.add_argument("--admin-email", default="admin@harbor-point.example")
    demo.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the demo admin's password from standard input (else VECTIS_DEMO_ADMIN_PASSWORD,"
        " or a generated one the demo prints)",
    )
    demo.set_defaults(run=commands.demo)

    _token_commands(sub, database)
    _audit_commands(sub, database)
    _tenancy_commands(sub, database)
    _integration_commands(sub, database)
    return parser


def main(argv: Sequence[str] | None, runtime_factory: RuntimeFactory) -> int:
    parser = build_parser()
    arguments = parser.parse_args(argv)
    level = os.environ.get("VECTIS_LOG_LEVEL", "INFO").upper()
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("vectis").setLevel(level)
    # SIGTERM unwinds like Ctrl+C, so servers stop gracefully and the embedded PostgreSQL is
    # shut down on the way out (uvicorn re-raises the signal once it has drained).
    signal.signal(signal.SIGTERM, _terminate)
    try:
        runtime = runtime_factory(data_dir=getattr(arguments, "data_dir", None))
        return asyncio.run(arguments.run(runtime, arguments)) or 0
    except VectisError as error:
        print(f"vectis: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as error:
        if logger.isEnabledFor(logging.DEBUG):
            logger.exception("unexpected error")
        print(
            f"vectis: unexpected error: {type(error).__name__}: {error} "
            "(set VECTIS_LOG_LEVEL=DEBUG for details)",
            file=sys.stderr,
        )
        return 1


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _token_commands(sub: argparse._SubParsersAction, database: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    token = sub.add_parser("token", help="manage personal access tokens")
    actions = token.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = actions.add_parser(
        "create", parents=[database], help="create a token for an operator and print it once"
    )
    create.add_argument("--email", required=True, help="the operator the token acts as")
    create.add_argument(
        "--name", required=True, help="what the token is for, e.g. 'PSA sync script'"
    )
    create.add_argument("--role", help="a role no higher than the operator's (default: theirs)")
    create.add_argument("--expires-in", help="lifetime such as 30d, 12h or 90m (default: never)")
    create.set_defaults(run=commands.token_create)
    revoke = actions.add_parser("revoke", parents=[database], help="revoke a token at once")
    revoke.add_argument("token", nargs="?", help="the token itself (for a leaked token)")
    revoke.add_argument("--id", help="the token's id, with --tenant")
    revoke.add_argument("--tenant", help="the tenant's slug, with --id")
    revoke.set_defaults(run=commands.token_revoke)
    listing = actions.add_parser("list", parents=[database], help="list a tenant's tokens")
    listing.add_argument("--tenant", required=True, help="the tenant's slug")
    listing.set_defaults(run=commands.token_list)


def _audit_commands(sub: argparse._SubParsersAction, database: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    audit = sub.add_parser("audit", help="verify and checkpoint the audit log's hash chains")
    actions = audit.add_subparsers(dest="action", required=True, metavar="ACTION")
    verify = actions.add_parser(
        "verify", parents=[database], help="walk every chain and name the first broken entry"
    )
    verify.add_argument(
        "--checkpoint", type=Path, help="a file from 'vectis audit checkpoint' to compare against"
    )
    verify.set_defaults(run=commands.audit_verify)
    checkpoint = actions.add_parser(
        "checkpoint", parents=[database], help="print each tenant's chain head, to keep elsewhere"
    )
    checkpoint.add_argument("--output", type=Path, help="write to this file instead of stdout")
    checkpoint.set_defaults(run=commands.audit_checkpoint)


def _tenancy_commands(sub: argparse._SubParsersAction, database: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    tenant = sub.add_parser("tenant", help="manage tenants (MSPs)")
    tenant_actions = tenant.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = tenant_actions.add_parser("create", parents=[database], help="create a tenant")
    create.add_argument("name")
    create.add_argument("--slug", help="URL name (default: derived from the name)")
    create.set_defaults(run=commands.tenant_create)
    brand = tenant_actions.add_parser(
        "brand", parents=[database], help="set a tenant's accent colour and logo in the hub"
    )
    brand.add_argument("--tenant", required=True, help="the tenant's slug or id")
    brand.add_argument("--accent", help="brand colour, #rrggbb")
    brand.add_argument("--logo", type=Path, help="a PNG, JPEG or WebP image (at most 256 KB)")
    brand.add_argument("--remove-logo", action="store_true", help="remove the current logo")
    brand.set_defaults(run=commands.tenant_brand)

    operator = sub.add_parser("operator", help="manage operators (the MSP's techs and admins)")
    operator_actions = operator.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = operator_actions.add_parser(
        "create", parents=[database], help="add an operator; reads the password from stdin"
    )
    add.add_argument("--tenant", required=True, help="the tenant's slug")
    add.add_argument("--email", required=True)
    add.add_argument("--name", required=True, help="display name")
    add.add_argument("--role", required=True, help="owner, admin, tech or read-only")
    add.add_argument(
        "--time-zone", default="UTC", help="IANA zone the hub shows times in (Europe/London)"
    )
    add.set_defaults(run=commands.operator_create)
    unlock = operator_actions.add_parser(
        "unlock",
        parents=[database],
        help="clear an operator's sign-in lock (their failed sign-ins); audited",
    )
    unlock.add_argument("--email", required=True)
    unlock.set_defaults(run=commands.operator_unlock)

    customer = sub.add_parser("customer", help="manage customers")
    customer_actions = customer.add_subparsers(dest="action", required=True, metavar="ACTION")
    add_customer = customer_actions.add_parser("add", parents=[database], help="add a customer")
    add_customer.add_argument("--tenant", required=True, help="the tenant's slug")
    add_customer.add_argument("name")
    add_customer.add_argument("--site", action="append", default=[], help="a site (repeatable)")
    add_customer.set_defaults(run=commands.customer_add)


def _integration_commands(
    sub: argparse._SubParsersAction,  # type: ignore[type-arg]
    database: argparse.ArgumentParser,
) -> None:
    integration = sub.add_parser("integration", help="connect and sync vendor accounts")
    actions = integration.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser(
        "add",
        parents=[database],
        help="connect a vendor account; its credentials are tested before they are saved",
        description="Credentials are asked for on a terminal, or read as a JSON object from "
        "--credentials-file (or stdin), never taken from the command line.",
    )
    add.add_argument("--tenant", required=True, help="the tenant's slug")
    add.add_argument("--vendor", required=True, help="connectwise, autotask, halopsa or ninjaone")
    add.add_argument("--name", help="a name for this connection (default: the vendor's)")
    add.add_argument(
        "--base-url",
        help="the account's API address; leave it out where the vendor documents a default "
        "or a lookup (Autotask looks the zone up)",
    )
    add.add_argument("--credentials-file", help="a JSON file of credentials, or - for stdin")
    add.add_argument("--setting", action="append", default=[], help="key=value (repeatable)")
    add.add_argument("--no-test", action="store_true", help="save without testing the credentials")
    add.set_defaults(run=commands.integration_add)
    for name, run, text in (
        ("test", commands.integration_test, "test an integration's credentials"),
        ("sync", commands.integration_sync, "sync an integration now, showing progress"),
    ):
        action = actions.add_parser(name, parents=[database], help=text)
        action.add_argument("--tenant", required=True, help="the tenant's slug")
        action.add_argument("integration", help="the integration's name or id")
        if name == "sync":
            action.add_argument(
                "--full", action="store_true", help="re-read everything and detect deletions"
            )
        action.set_defaults(run=run)
    listing = actions.add_parser("list", parents=[database], help="list a tenant's integrations")
    listing.add_argument("--tenant", required=True, help="the tenant's slug")
    listing.set_defaults(run=commands.integration_list)
