"""How long a cheap request waits while a burst of sign-ins hashes passwords.

Signs in ``--operators`` operators at once (each from an address of its own, so none is
throttled) while ``/healthz`` is asked every 10 ms through the ASGI app, and reports how long
each ask waited — first with Vectis's hasher (argon2id in a pool of two threads of its own),
then, as the baseline, with the same hashes checked on the event loop as before.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _database import bench_database, runtime_login
from vectis.adapters.postgres.migrator import migrate
from vectis.adapters.security.keys import derive_key
from vectis.adapters.security.passwords import Argon2PasswordHasher
from vectis.container import Container
from vectis.domain.tenancy import Role
from vectis.entrypoints.http.app import HttpConfig, create_app
from vectis.settings import Settings

SECRET_KEY = "bench-secret-key-for-vectis-0123456789abcdef"
PASSWORD = "correct horse battery"


class OnLoopHasher(Argon2PasswordHasher):
    """The baseline: checks on the event loop, as sign-in did before."""

    async def verify(self, password_hash: str, password: str) -> bool:
        return self._verify(password_hash, password)


async def burst(container: Container, emails: list[str]) -> tuple[list[float], float]:
    services = container.services()
    config = HttpConfig(
        csrf_key=derive_key(SECRET_KEY, "csrf"), cursor_key=derive_key(SECRET_KEY, "page-cursor")
    )
    transport = httpx.ASGITransport(app=create_app(services, config))
    async with httpx.AsyncClient(transport=transport, base_url="https://vectis.test") as client:
        started = time.perf_counter()
        signing_in = asyncio.gather(
            *(
                services.identity.sign_in(email, PASSWORD, address=f"10.1.{n // 250}.{n % 250}")
                for n, email in enumerate(emails)
            )
        )
        waits = []
        while not signing_in.done():
            asked = time.perf_counter()
            await asyncio.sleep(0.01)
            await client.get("/healthz")
            waits.append(time.perf_counter() - asked - 0.01)
        await signing_in
    return waits, time.perf_counter() - started


async def main(operators: int) -> None:
    with bench_database() as owner_url:
        await migrate(owner_url)
        runtime_url = await runtime_login(owner_url)
        settings = Settings(database_url=owner_url, secret_key=SECRET_KEY)
        for label, hasher in (("vectis", Argon2PasswordHasher()), ("on-loop", OnLoopHasher())):
            container = Container(
                settings=settings, database_url=runtime_url, secret_key=SECRET_KEY
            )
            container.hasher.override(hasher)
            services = container.services()
            tenant = await services.tenancy.create_tenant(f"Bench {label}")
            emails = []
            for n in range(operators):
                operator = await services.tenancy.add_operator(
                    tenant.id,
                    email=f"op{n}@{tenant.slug}.example",
                    display_name=f"Operator {n}",
                    role=Role.TECH,
                    password=PASSWORD,
                )
                emails.append(operator.email)
            waits, lasted = await burst(container, emails)
            quantiles = statistics.quantiles(waits, n=20, method="inclusive")
            print(
                f"{label:>8}: {operators} sign-ins in {lasted:.2f} s; /healthz waited "
                f"p50 {quantiles[9] * 1000:.0f} ms, p95 {quantiles[18] * 1000:.0f} ms, "
                f"max {max(waits) * 1000:.0f} ms ({len(waits)} asks)"
            )
            hasher.close()
            await container.linker().close()
            await container.http_client().aclose()
            await container.engine().dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--operators", type=int, default=20)
    asyncio.run(main(parser.parse_args().operators))
