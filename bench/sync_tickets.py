"""Initial sync of a large Autotask account: Vectis's sync vs fetching alone vs a raw COPY.

The sandboxed Autotask (a separate process, so its memory is not counted) serves N tickets
with two notes each. In the same run, each in a fresh child process:

- (a) fetch: the connector's HTTP client pages through every ticket and note and decodes the
  JSON, storing nothing — the vendor-side limit of any sync;
- sync: ``SyncService.run`` — fetch, map, batched upserts, events, cursors — with peak RSS;
- (b) COPY: the rows the sync stored, copied back into the same tables with ``COPY FROM``;
- incremental: a second sync with nothing changed, counting the requests it sends per stream.

Each phase also reports the CPU seconds spent by the phase's own process, the sandbox and the
PostgreSQL server (all on this machine), so the figures say which of them bounds the rate.

The integration's own rate limit is lifted for the run (it would otherwise measure the
vendor's quota, 10,000 requests an hour for Autotask, rather than Vectis).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import resource
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _database import bench_database, runtime_login
from vectis.adapters.postgres.migrator import migrate
from vectis.adapters.vendors.autotask.client import AutotaskClient
from vectis.adapters.vendors.autotask.settings import AutotaskAccount
from vectis.container import Container
from vectis.domain.identity import Principal
from vectis.domain.integration import Credentials
from vectis.settings import Settings

SECRET = "bench-secret-key-0123456789-0123456789"
HERE = Path(__file__).resolve()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--phase", choices=("fetch", "sync", "copy"), help=argparse.SUPPRESS)
    parser.add_argument("--sandbox", help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        sandbox = json.loads(args.sandbox)
        result = asyncio.run(PHASES[args.phase](sandbox, args.database))
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return
    run(args.tickets)


def run(tickets: int) -> None:
    print(f"starting a sandboxed Autotask with {tickets:,} tickets…", flush=True)
    server = subprocess.Popen(
        [sys.executable, "-m", "vectis_sandbox.autotask", "--tickets", str(tickets)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        sandbox = json.loads(server.stdout.readline())
        with bench_database() as database:
            asyncio.run(migrate(database))
            fetch = _child("fetch", sandbox, database, server.pid)
            sync = _child("sync", sandbox, database, server.pid)
            copy = _child("copy", sandbox, database, server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    records = fetch["records"]
    print(f"\nrecords: {fetch['tickets']:,} tickets + {fetch['notes']:,} notes = {records:,}")
    print(
        f"(a) fetch + decode only : {fetch['rate']:>10,.0f} records/s  ({fetch['seconds']:.1f} s)"
    )
    print(
        f"    Vectis initial sync  : {sync['rate']:>10,.0f} records/s  ({sync['seconds']:.1f} s)"
        f"  = {sync['rate'] / fetch['rate']:.2f} x (a)   [goal ≥ 0.5]"
    )
    print(
        f"(b) raw COPY of the rows: {copy['rate']:>10,.0f} records/s  ({copy['seconds']:.1f} s)"
        f"  sync = {sync['rate'] / copy['rate']:.2f} x (b)   [context]"
    )
    print(f"    peak RSS of the sync : {sync['peak_rss_mb']:.0f} MB   [goal < 300 MB]")
    print("CPU seconds per phase (own process / sandbox / PostgreSQL; wall):")
    for name, phase in (("(a) fetch", fetch), ("sync", sync), ("(b) COPY", copy)):
        cpu = phase["cpu"]
        print(
            f"    {name:<10} {cpu['own']:6.1f} / {cpu['sandbox']:5.1f} / {cpu['postgres']:5.1f}"
            f"   ({phase['wall']:.1f} s wall, {os.cpu_count()} cores)"
        )
    print(f"    events recorded      : {sync['events']:,}")
    print("incremental sync with nothing changed:")
    for stream, count in sync["incremental_requests"].items():
        print(f"    {stream:<12} {count} request(s)")
    print(
        f"    took {sync['incremental_seconds'] * 1000:.0f} ms; "
        f"changes: {sync['incremental_changes'] or 'none'}"
    )


def _child(phase: str, sandbox: dict[str, Any], database: str, sandbox_pid: int) -> dict[str, Any]:
    print(f"running {phase}…", flush=True)
    before = _cpu_seconds(sandbox_pid)
    started = time.perf_counter()
    output = subprocess.run(
        [
            sys.executable,
            str(HERE),
            "--phase",
            phase,
            "--sandbox",
            json.dumps(sandbox),
            "--database",
            database,
        ],
        check=False,
        capture_output=True,
        text=True,
        env={**os.environ, "VECTIS_LOG_LEVEL": "WARNING"},
    )
    wall = time.perf_counter() - started
    if output.returncode != 0:
        raise SystemExit(f"the {phase} phase failed:\n{output.stderr[-3000:]}")
    after = _cpu_seconds(sandbox_pid)
    result = dict(json.loads(output.stdout.strip().splitlines()[-1]))
    result["cpu"] = {part: after[part] - before[part] for part in after}
    result["wall"] = wall
    return result


def _cpu_seconds(sandbox_pid: int) -> dict[str, float]:
    """CPU used so far by finished child phases, the sandbox, and PostgreSQL's processes
    (read from /proc; PostgreSQL counts only when it runs on this machine)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    ticks = os.sysconf("SC_CLK_TCK")
    postgres = sandbox = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue  # a process that ended meanwhile
        name = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()
        if stat.parent.name == str(sandbox_pid):
            sandbox = (int(fields[11]) + int(fields[12])) / ticks
        elif name.startswith("postgres"):
            # With its reaped children's: a backend that has ended counts in the postmaster.
            postgres += sum(int(field) for field in fields[11:15]) / ticks
    return {
        "own": children.ru_utime + children.ru_stime,
        "sandbox": sandbox,
        "postgres": postgres,
    }


async def fetch_phase(sandbox: dict[str, Any], database: str) -> dict[str, Any]:
    counts: Counter[str] = Counter()
    async with httpx.AsyncClient(timeout=60) as http:
        client = AutotaskClient(
            http,
            AutotaskAccount(base_url=sandbox["base_url"], **sandbox["credentials"]),
        )
        started = time.perf_counter()
        for entity in ("Tickets", "TicketNotes"):
            async for page in client.query(entity, []):
                counts[entity] += len(page.items)
        seconds = time.perf_counter() - started
    records = counts["Tickets"] + counts["TicketNotes"]
    return {
        "tickets": counts["Tickets"],
        "notes": counts["TicketNotes"],
        "records": records,
        "seconds": seconds,
        "rate": records / seconds,
    }


async def sync_phase(sandbox: dict[str, Any], database: str) -> dict[str, Any]:
    settings = Settings(database_url=database, allow_private_urls=True, vendor_timeout_seconds=60)
    container = Container(
        settings=settings, database_url=await runtime_login(database), secret_key=SECRET
    )
    requests: Counter[str] = Counter()

    async def count(request: httpx.Request) -> None:
        requests[request.url.path.split("/v1.0/", 1)[-1]] += 1

    container.http_client.override(httpx.AsyncClient(timeout=60, event_hooks={"request": [count]}))
    services = container.services()
    try:
        tenant = await services.tenancy.create_tenant("Bench MSP")
        principal = Principal.system(tenant.id, "bench")
        integration = await services.integrations.add(
            principal,
            vendor="autotask",
            name="Autotask",
            base_url=sandbox["base_url"],
            credentials=Credentials(values=sandbox["credentials"]),
            settings={"requests_per_minute": 1_000_000},
        )
        started = time.perf_counter()
        run = await services.sync.run(tenant.id, integration.id)
        seconds = time.perf_counter() - started
        assert run.status.value == "succeeded", run.errors
        tickets, notes = run.counts["tickets"].fetched, run.counts["notes"].fetched
        requests.clear()
        started = time.perf_counter()
        again = await services.sync.run(tenant.id, integration.id)
        incremental = time.perf_counter() - started
        with psycopg.connect(database) as connection:
            events = connection.execute("SELECT count(*) FROM events").fetchone()
    finally:
        await container.linker().close()
        await container.engine().dispose()
    return {
        "seconds": seconds,
        "rate": (tickets + notes) / seconds,
        "events": events[0] if events else 0,
        "incremental_requests": dict(sorted(requests.items())),
        "incremental_seconds": incremental,
        "incremental_changes": {
            stream: counts.created + counts.updated
            for stream, counts in again.counts.items()
            if counts.created + counts.updated
        },
    }


async def copy_phase(sandbox: dict[str, Any], database: str) -> dict[str, Any]:
    """Export what the sync stored, then time copying it back into the same (emptied) tables."""
    tables = ("tickets", "ticket_notes")
    dumps: dict[str, bytes] = {}
    with psycopg.connect(database) as connection:
        for table in tables:
            buffer = io.BytesIO()
            with connection.cursor().copy(f"COPY {table} TO STDOUT (FORMAT binary)") as copy:
                for chunk in copy:
                    buffer.write(chunk)
            dumps[table] = buffer.getvalue()
        rows = sum(connection.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables)  # type: ignore[index]
        connection.execute("DELETE FROM ticket_notes; DELETE FROM tickets")
        connection.commit()
        started = time.perf_counter()
        for table in tables:
            with connection.cursor().copy(f"COPY {table} FROM STDIN (FORMAT binary)") as copy:
                copy.write(dumps[table])
        connection.commit()
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "rate": rows / seconds, "rows": rows}


PHASES = {"fetch": fetch_phase, "sync": sync_phase, "copy": copy_phase}

if __name__ == "__main__":
    main()
