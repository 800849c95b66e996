"""What the command line needs from the composition root, as a port."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager, AbstractContextManager
from pathlib import Path
from typing import Any, Protocol

from vectis.application.demo import SandboxAccount
from vectis.application.services import Services


class Runtime(Protocol):
    @property
    def embedded(self) -> bool: ...

    @property
    def data_dir(self) -> Path: ...

    @property
    def host(self) -> str: ...

    @property
    def port(self) -> int: ...

    def database(self) -> AbstractContextManager[str]:
        """Make the database available (starting the embedded one if configured so)."""
        ...

    def exclusive_data_dir(self) -> AbstractContextManager[None]: ...

    async def migrate(self) -> tuple[str | None, str]: ...

    def services(self) -> AbstractAsyncContextManager[Services]: ...

    def http_app(self, services: Services) -> Any: ...

    async def run_worker(
        self, services: Services, *, concurrency: int | None = None, handle_signals: bool = True
    ) -> None: ...

    def sandbox(self) -> AbstractAsyncContextManager[list[SandboxAccount]]: ...

    def check_port_free(self, host: str, port: int) -> None: ...


class RuntimeFactory(Protocol):
    def __call__(self, *, data_dir: Path | None = None) -> Runtime: ...
