"""argon2id password hashes (argon2-cffi's RFC 9106 low-memory profile), off the event loop."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from argon2 import DEFAULT_MEMORY_COST, DEFAULT_PARALLELISM, DEFAULT_TIME_COST, PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# Each hash takes ~0.2 s of CPU and 64 MiB: two at a time keep a burst of sign-ins from taking
# every core, and the rest queue here rather than on the event loop.
DEFAULT_CONCURRENCY = 2


class Argon2PasswordHasher:
    """Hashes and checks in a small pool of its own threads (argon2-cffi releases the GIL),
    never in the default executor that name resolution and other blocking calls share.

    The cost defaults are argon2-cffi's (RFC 9106 low-memory: 3 passes, 64 MiB, 4 lanes); a
    stored hash made with other costs verifies, and ``needs_rehash`` says to hash it again.
    """

    def __init__(
        self,
        *,
        time_cost: int = DEFAULT_TIME_COST,
        memory_cost: int = DEFAULT_MEMORY_COST,
        parallelism: int = DEFAULT_PARALLELISM,
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism
        )
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="argon2")

    @property
    def parameters(self) -> tuple[int, int, int]:
        """``(time_cost, memory_cost in KiB, parallelism)`` of the hashes this makes."""
        return (self._hasher.time_cost, self._hasher.memory_cost, self._hasher.parallelism)

    async def hash(self, password: str) -> str:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self._hasher.hash, password)

    async def verify(self, password_hash: str, password: str) -> bool:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self._verify, password_hash, password)

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)

    def close(self) -> None:
        """Let the pool's threads end once the hashes under way are done."""
        self._pool.shutdown(wait=False)

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False
