"""The ``vectis`` console script: the command line, given the composition root's runtime."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from vectis.container import Runtime
from vectis.entrypoints.cli.main import main as run_cli
from vectis.settings import Settings


def runtime_factory(*, data_dir: Path | None = None) -> Runtime:
    settings = Settings.from_env()
    if data_dir is not None:
        settings = settings.replace(data_dir=data_dir.expanduser().resolve())
    return Runtime(settings)


def main(argv: Sequence[str] | None = None) -> int:
    return run_cli(argv, runtime_factory)


if __name__ == "__main__":
    sys.exit(main())
