"""The customer timeline and page at scale: 1,000 customers, 10 million events.

Seeds the events with ``COPY`` (the event table's secondary indexes are dropped for the load
and rebuilt from their own definitions afterwards), then measures in the same run:

- the timeline query behind the page — one customer, the last week, two sources, 100 entries
  — through Vectis (the repository inside a unit of work, and the whole use case: pool
  checkout, tenant setting, customer check, query, mapping), against the same rows fetched
  with hand-written SQL on a raw psycopg connection;
- the whole customer page (Overview tab) rendered through the ASGI app, signed in;
- the plan PostgreSQL chooses for the timeline query, as the runtime role under RLS.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import random
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _database import bench_database, runtime_login
from vectis.adapters.postgres.migrator import migrate
from vectis.adapters.postgres.repositories.events import _timeline_statement
from vectis.adapters.security.keys import derive_key
from vectis.container import Container
from vectis.domain.identity import Principal
from vectis.domain.tenancy import Role
from vectis.domain.timeline import TimelineQuery
from vectis.entrypoints.http.app import HttpConfig, create_app
from vectis.settings import Settings

SECRET = "bench-secret-key-0123456789-0123456789"
PASSWORD = "bench-password-123"
SOURCES = ("connectwise", "ninjaone", "autotask", "vectis")
KINDS = {
    "connectwise": ("ticket.opened", "Ticket #{n} opened", "Printer offline · Priority 3"),
    "ninjaone": ("alert.raised", "Alert raised on WS-{n}", "Disk C: 92% used"),
    "autotask": ("ticket.closed", "Ticket #{n} closed", "VPN drops · Priority 2"),
    "vectis": ("note.added", "Note added by Sam", "Door code changed"),
}
RAW_SQL = """
SELECT id, source, kind, occurred_at, title, detail, site_id,
       subject_system, subject_type, subject_id, integration_id, payload
  FROM events
 WHERE tenant_id = %(tenant)s AND customer_id = %(customer)s
   AND occurred_at >= %(since)s AND occurred_at < %(until)s
   AND source = ANY(%(sources)s)
 ORDER BY occurred_at DESC, id DESC
 LIMIT 100
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--days", type=int, default=365, help="history the events span")
    parser.add_argument("--samples", type=int, default=300)
    args = parser.parse_args()
    with bench_database() as database:
        asyncio.run(migrate(database))
        asyncio.run(run(database, args.customers, args.events, args.days, args.samples))


async def run(database: str, customers: int, events: int, days: int, samples: int) -> None:
    settings = Settings(database_url=database, secret_key=SECRET)
    container = Container(
        settings=settings, database_url=await runtime_login(database), secret_key=SECRET
    )
    services = container.services()
    try:
        tenant = await services.tenancy.create_tenant("Bench MSP")
        operator = await services.tenancy.add_operator(
            tenant.id,
            email="tech@bench.example",
            display_name="Bench Tech",
            role=Role.TECH,
            password=PASSWORD,
        )
        now = datetime.now(UTC)
        customer_ids = _seed_customers(database, tenant.id, customers)
        print(f"seeding {events:,} events for {customers:,} customers (COPY)…", flush=True)
        started = time.perf_counter()
        _seed_events(database, tenant.id, customer_ids, events, days, now)
        print(f"  seeded in {time.perf_counter() - started:.0f} s", flush=True)

        customer = random.Random(7).choice(customer_ids)
        principal = Principal(
            tenant_id=tenant.id,
            role=Role.TECH,
            actor=Principal.system(tenant.id, "bench").actor,
            time_zone="UTC",
        )
        query = TimelineQuery(
            customer_id=customer,
            since=now - timedelta(days=7),
            until=now,
            sources=frozenset({"connectwise", "ninjaone"}),
            limit=100,
        )
        params = {
            "tenant": tenant.id,
            "customer": customer,
            "since": query.since,
            "until": query.until,
            "sources": sorted(query.sources),
        }
        with psycopg.connect(_libpq(database)) as raw:
            raw.execute("SET plan_cache_mode = force_custom_plan")

            async def raw_sql() -> int:
                return len(raw.execute(RAW_SQL, params, prepare=True).fetchall())

            async def repository() -> int:
                async with container.uow()(tenant.id) as uow:
                    started = time.perf_counter()
                    rows = await uow.events.timeline(query)
                    timings.append(time.perf_counter() - started)
                return len(rows)

            async def use_case() -> int:
                return len((await services.timeline.page(principal, query)).entries)

            timings: list[float] = []
            rows = await raw_sql()
            assert rows == await use_case(), "both sides fetch the same rows"
            print(f"timeline: {rows} entries for one customer, one week, two sources")
            sides = {"raw SQL": raw_sql, "use case": use_case, "repository": repository}
            measured = await _interleaved(sides, samples)
            # The repository's own clock starts inside its unit of work: the query and mapping.
            del measured["repository"]
            measured["repository (query only)"] = timings[-samples:]
            explain = _explain(database, tenant.id, query)

        app = create_app(services, HttpConfig(csrf_key=derive_key(SECRET, "csrf")))
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="https://bench.test") as hub:
            await _sign_in(hub, operator.email)

            async def overview() -> int:
                response = await hub.get(f"/customers/{customer}")
                assert response.status_code == 200, response.status_code
                return len(response.content)

            async def timeline_tab() -> int:
                response = await hub.get(
                    f"/customers/{customer}/timeline?period=week&source=connectwise&source=ninjaone"
                )
                assert response.status_code == 200, response.status_code
                return len(response.content)

            pages = await _interleaved(
                {"customer page (Overview)": overview, "timeline tab": timeline_tab}, samples // 3
            )
    finally:
        await container.linker().close()
        await container.engine().dispose()

    baseline = _p(measured["raw SQL"], 95)
    print(f"\n{'':<28}{'p50 ms':>9}{'p95 ms':>9}{'p95 / raw':>11}")
    for name, values in {**measured, **pages}.items():
        print(
            f"{name:<28}{_p(values, 50) * 1000:>9.2f}{_p(values, 95) * 1000:>9.2f}"
            f"{_p(values, 95) / baseline:>10.2f}x"
        )
    print(
        "\ngoals: timeline p95 ≤ 2 x raw SQL and < 50 ms; customer page p95 < 150 ms"
        f"\n  timeline (use case) p95 = {_p(measured['use case'], 95) * 1000:.2f} ms"
        f" = {_p(measured['use case'], 95) / baseline:.2f} x raw"
        f"\n  timeline (repository) p95 = {_p(measured['repository (query only)'], 95) * 1000:.2f}"
        f" ms = {_p(measured['repository (query only)'], 95) / baseline:.2f} x raw"
        f"\n  customer page p95 = {_p(pages['customer page (Overview)'], 95) * 1000:.1f} ms"
    )
    print("\nEXPLAIN (ANALYZE, BUFFERS) of the timeline query, as the runtime role:")
    print(explain)


async def _interleaved(
    sides: Mapping[str, Callable[[], Awaitable[int]]], samples: int
) -> dict[str, list[float]]:
    """Run the sides in turn, warm-up first, so drift on a shared machine hits each alike."""
    for side in sides.values():
        for _ in range(10):
            await side()
    timings: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(samples):
        for name, side in sides.items():
            started = time.perf_counter()
            await side()
            timings[name].append(time.perf_counter() - started)
    return timings


def _p(values: list[float], percentile: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[percentile - 1]


def _seed_customers(database: str, tenant_id: uuid.UUID, count: int) -> list[uuid.UUID]:
    ids = [uuid.uuid4() for _ in range(count)]
    with (
        psycopg.connect(_libpq(database)) as connection,
        connection.cursor().copy(
            "COPY customers (id, tenant_id, name, slug, created_at) FROM STDIN"
        ) as copy,
    ):
        for index, customer in enumerate(ids):
            copy.write_row(
                (customer, tenant_id, f"Customer {index:04d}", f"customer-{index:04d}", "now")
            )
    return ids


def _seed_events(
    database: str,
    tenant_id: uuid.UUID,
    customers: list[uuid.UUID],
    count: int,
    days: int,
    now: datetime,
) -> None:
    """COPY ``count`` events spread evenly over ``days``, round-robin over customers and
    sources; secondary indexes are rebuilt afterwards from their own definitions."""
    with psycopg.connect(_libpq(database), autocommit=True) as connection:
        indexes = connection.execute(
            "SELECT indexname, indexdef FROM pg_indexes "
            "WHERE tablename = 'events' AND indexname <> 'events_pkey'"
        ).fetchall()
        for name, _ in indexes:
            connection.execute(f"DROP INDEX {name}")
        tenant = str(tenant_id)
        names = [str(customer) for customer in customers]
        span = days * 86_400
        step = span / count
        batch = 200_000
        with connection.cursor().copy(
            "COPY events (tenant_id, customer_id, source, kind, occurred_at, title, detail,"
            " subject_system, subject_type, subject_id, payload) FROM STDIN"
        ) as copy:
            for start in range(0, count, batch):
                buffer = io.StringIO()
                for n in range(start, min(start + batch, count)):
                    source = SOURCES[n % 4]
                    kind, title, detail = KINDS[source]
                    at = now - timedelta(seconds=span - n * step)
                    buffer.write(
                        f"{tenant}\t{names[(n // 4) % len(names)]}\t{source}\t{kind}\t"
                        f"{at.isoformat()}\t{title.format(n=n)}\t{detail}\t{source}\t"
                        f"{kind.split('.')[0]}\t{n}\t{{}}\n"
                    )
                copy.write(buffer.getvalue())
        for _, definition in indexes:
            connection.execute(definition)
        connection.execute("ANALYZE events")


def _explain(database: str, tenant_id: uuid.UUID, query: TimelineQuery) -> str:
    statement = _timeline_statement(
        since=True, until=True, sources=True, kinds=False, site=False, after=False
    )
    params: dict[str, Any] = {
        "tenant": tenant_id,
        "customer": query.customer_id,
        "since": query.since,
        "until": query.until,
        "sources": sorted(query.sources),
        "limit": query.limit,
    }
    with psycopg.connect(_libpq(database), options="-c role=vectis_app") as connection:
        connection.execute("SELECT set_config('vectis.tenant_id', %s, false)", (str(tenant_id),))
        rows = connection.execute(f"EXPLAIN (ANALYZE, BUFFERS) {statement}", params).fetchall()
    return "\n".join(row[0] for row in rows)


async def _sign_in(hub: httpx.AsyncClient, email: str) -> None:
    form = await hub.get("/login")
    token = form.text.split('name="csrf_token" value="')[1].split('"')[0]
    signed = await hub.post(
        "/login",
        data={"email": email, "password": PASSWORD, "csrf_token": token, "next": "/customers"},
    )
    assert signed.status_code == 303, signed.status_code


def _libpq(url: str) -> str:
    from sqlalchemy import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


if __name__ == "__main__":
    main()
