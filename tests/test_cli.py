"""The command line: every command has help, and every failure is one line and a non-zero exit."""

from __future__ import annotations

import argparse
import io
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TEST_SECRET_KEY, owner_connection, runtime_url
from vectis.adapters.postgres.embedded import DataDirectoryLock
from vectis.entrypoints.cli.commands import _demo_password
from vectis.main import main

COMMANDS = [
    "serve",
    "worker",
    "migrate",
    "demo",
    "token",
    "audit",
    "tenant",
    "operator",
    "customer",
    "integration",
]


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> Path:
    monkeypatch.setenv("VECTIS_DATABASE_URL", database_url)
    monkeypatch.setenv("VECTIS_APP_DATABASE_URL", runtime_url(database_url))
    monkeypatch.setenv("VECTIS_SECRET_KEY", TEST_SECRET_KEY)
    monkeypatch.setenv("VECTIS_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


def run(
    capsys: pytest.CaptureFixture[str], *argv: str, stdin: str | None = None
) -> tuple[int, str, str]:
    if stdin is not None:
        sys.stdin = io.StringIO(stdin)
    try:
        code = main(list(argv))
    finally:
        sys.stdin = sys.__stdin__
    out, err = capsys.readouterr()
    return code, out, err


def test_help_lists_every_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "vectis", "--help"], capture_output=True, text=True, check=True
    )
    for command in COMMANDS:
        assert f"    {command}" in result.stdout


@pytest.mark.parametrize(
    "argv",
    [[command] for command in COMMANDS]
    + [
        ["token", "create"],
        ["token", "revoke"],
        ["token", "list"],
        ["audit", "verify"],
        ["audit", "checkpoint"],
        ["operator", "unlock"],
        ["integration", "add"],
        ["integration", "test"],
        ["integration", "list"],
        ["integration", "sync"],
    ],
)
def test_every_command_has_help(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([*argv, "--help"])
    assert exited.value.code == 0
    assert "usage: vectis" in capsys.readouterr().out


def test_the_demo_takes_no_password_on_the_command_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Were the flag taken, the demo would stop at once: it refuses an external database.
    monkeypatch.setenv("VECTIS_DATABASE_URL", "postgresql://x@127.0.0.1:1/x")
    with pytest.raises(SystemExit) as exited:
        main(["demo", "--admin-password", "visible in ps"])
    assert exited.value.code == 2
    assert "unrecognized arguments: --admin-password" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("stdin_flag", "variable", "password", "told"),
    [
        (True, "from the environment", "typed on stdin", "the password you gave"),
        (False, "from the environment", "from the environment", "VECTIS_DEMO_ADMIN_PASSWORD"),
        (False, None, None, "password "),
    ],
)
def test_the_demo_password_comes_from_stdin_the_environment_or_is_generated(
    monkeypatch: pytest.MonkeyPatch,
    stdin_flag: bool,
    variable: str | None,
    password: str | None,
    told: str,
) -> None:
    if variable is None:
        monkeypatch.delenv("VECTIS_DEMO_ADMIN_PASSWORD", raising=False)
    else:
        monkeypatch.setenv("VECTIS_DEMO_ADMIN_PASSWORD", variable)
    monkeypatch.setattr(sys, "stdin", io.StringIO("typed on stdin\n"))

    chosen, how = _demo_password(argparse.Namespace(password_stdin=stdin_flag))

    assert told in how
    if password is None:
        assert len(chosen) >= 16 and how == f"password {chosen}", "only a generated one is shown"
    else:
        assert chosen == password and chosen not in how, "a password given is never printed"


def test_the_whole_operator_story_from_the_command_line(
    env: Path, capsys: pytest.CaptureFixture[str], database_url: str
) -> None:
    assert run(capsys, "migrate")[1].startswith("database schema is current")
    code, out, _ = run(capsys, "tenant", "create", "Northwind IT")
    assert code == 0 and "slug northwind-it" in out
    code, out, err = run(
        capsys,
        "operator",
        "create",
        "--tenant",
        "northwind-it",
        "--email",
        "Ops@Northwind.example",
        "--name",
        "Ops",
        "--role",
        "admin",
        stdin="a long enough password\n",
    )
    assert (code, err) == (0, "")
    assert (
        run(capsys, "customer", "add", "--tenant", "northwind-it", "Acme", "--site", "HQ")[0] == 0
    )

    code, out, err = run(
        capsys,
        "token",
        "create",
        "--email",
        "ops@northwind.example",
        "--name",
        "ci",
        "--expires-in",
        "30d",
    )
    token = out.strip()
    assert code == 0 and token.startswith("vectis_pat_") and "shown only this once" in err
    listing = run(capsys, "token", "list", "--tenant", "northwind-it")[1]
    assert "active" in listing and token not in listing
    with owner_connection(database_url) as owner:
        owner.execute("UPDATE access_tokens SET expires_at = now() - interval '1 minute'")
    listing = run(capsys, "token", "list", "--tenant", "northwind-it")[1]
    assert "expired" in listing and "active" not in listing
    code, out, _ = run(capsys, "token", "revoke", token)
    assert code == 0 and "revoked" in out
    assert "revoked" in run(capsys, "token", "list", "--tenant", "northwind-it")[1]

    checkpoint = env / "checkpoint.json"
    assert run(capsys, "audit", "checkpoint", "--output", str(checkpoint))[0] == 0
    assert json.loads(checkpoint.read_text())["heads"][0]["seq"] >= 5
    code, out, _ = run(capsys, "audit", "verify", "--checkpoint", str(checkpoint))
    assert code == 0 and "audit log verified" in out

    with owner_connection(database_url) as owner, owner.transaction():
        owner.execute("ALTER TABLE audit_log DISABLE TRIGGER USER")
        owner.execute(
            "UPDATE audit_log SET action = 'nothing.to.see' "
            "WHERE id = (SELECT entry_id FROM audit_chain WHERE seq = 2)"
        )
        owner.execute("ALTER TABLE audit_log ENABLE TRIGGER USER")
    code, _, err = run(capsys, "audit", "verify")
    assert code == 2
    assert "entry #2" in err and "altered" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["token", "create", "--email", "nobody@example.com", "--name", "x"], "no operator"),
        (
            ["token", "create", "--email", "x@example.com", "--name", "x", "--expires-in", "soon"],
            "not a duration",
        ),
        (
            ["token", "create", "--email", "x@example.com", "--name", "x", "--role", "god"],
            "unknown role",
        ),
        (["token", "revoke"], "give the token itself"),
        (["token", "revoke", "vectis_pat_bogus"], "not a well-formed"),
        (["token", "list", "--tenant", "nope"], "no tenant"),
        (["tenant", "create", "   "], "must not be empty"),
        (
            ["audit", "verify", "--checkpoint", "/nonexistent/file.json"],
            "cannot read the checkpoint",
        ),
    ],
)
def test_bad_input_gets_one_line_and_a_non_zero_exit(
    env: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, _, err = run(capsys, *argv)
    assert code != 0
    assert err.count("\n") == 1 and err.startswith("vectis: error:")
    assert message in err


def test_a_bad_database_url_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VECTIS_DATABASE_URL", "mysql://root@localhost/vectis")
    code, _, err = run(capsys, "migrate")
    assert code == 1 and "not a PostgreSQL URL" in err and err.count("\n") == 1


def test_an_unreachable_database_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    unreachable = f"postgresql://vectis@127.0.0.1:{_free_port()}/vectis"
    monkeypatch.setenv("VECTIS_DATABASE_URL", unreachable)
    monkeypatch.setenv("VECTIS_APP_DATABASE_URL", unreachable)
    monkeypatch.setenv("VECTIS_SECRET_KEY", TEST_SECRET_KEY)
    code, _, err = run(capsys, "migrate")
    assert code == 1 and "cannot reach the database" in err and err.count("\n") == 1
    code, _, err = run(capsys, "token", "list", "--tenant", "x")
    assert code == 1 and "does not answer" in err and err.count("\n") == 1


def test_an_external_database_needs_a_secret_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], database_url: str
) -> None:
    monkeypatch.setenv("VECTIS_DATABASE_URL", database_url)
    monkeypatch.delenv("VECTIS_SECRET_KEY", raising=False)
    code, _, err = run(capsys, "token", "list", "--tenant", "x")
    assert code == 1 and "VECTIS_SECRET_KEY is required" in err


def test_a_port_in_use_is_one_line(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, _, err = run(capsys, "serve", "--port", str(port))
    assert code == 1 and f"port {port} on 127.0.0.1 is already in use" in err


def test_a_data_directory_in_use_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.delenv("VECTIS_DATABASE_URL", raising=False)
    lock = DataDirectoryLock(tmp_path)
    lock.acquire()
    try:
        code, _, err = run(capsys, "demo", "--data-dir", str(tmp_path), "--port", str(_free_port()))
    finally:
        lock.release()
    assert code == 1
    assert f"is in use by another Vectis process (pid {os.getpid()})" in err


def test_the_console_script_fails_without_a_traceback(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "vectis", "migrate"],
        capture_output=True,
        text=True,
        env={**os.environ, "VECTIS_DATABASE_URL": "postgresql://x@127.0.0.1:1/x"},
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("vectis: error: cannot reach the database")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def autotask() -> Iterator[dict[str, Any]]:
    """A sandboxed Autotask in its own process (the CLI runs its own event loop)."""
    server = subprocess.Popen(
        [sys.executable, "-m", "vectis_sandbox.autotask", "--tickets", "120"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        yield json.loads(server.stdout.readline())
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_an_integration_is_added_tested_listed_and_synced_from_the_command_line(
    env: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    autotask: dict[str, Any],
    database_url: str,
) -> None:
    monkeypatch.setenv("VECTIS_ALLOW_PRIVATE_URLS", "true")
    assert run(capsys, "tenant", "create", "Harbor Point IT")[0] == 0
    wrong = {**autotask["credentials"], "secret": "not-the-secret"}

    refused = run(
        capsys, "integration", "add", "--tenant", "harbor-point-it", "--vendor", "autotask",
        "--base-url", autotask["base_url"], "--credentials-file", "-", stdin=json.dumps(wrong),
    )  # fmt: skip
    added = run(
        capsys, "integration", "add", "--tenant", "harbor-point-it", "--vendor", "autotask",
        "--base-url", autotask["base_url"], "--credentials-file", "-", "--name", "Autotask",
        stdin=json.dumps(autotask["credentials"]),
    )  # fmt: skip
    tested = run(capsys, "integration", "test", "--tenant", "harbor-point-it", "Autotask")
    synced = run(capsys, "integration", "sync", "--tenant", "harbor-point-it", "Autotask")
    listed = run(capsys, "integration", "list", "--tenant", "harbor-point-it")

    assert refused[0] == 1 and refused[2].count("\n") == 1 and "refused" in refused[2]
    assert added[0] == 0 and "credentials work" in added[1]
    assert tested[0] == 0 and "credentials work" in tested[1]
    assert synced[0] == 0 and "sync succeeded" in synced[1]
    assert "records read" in synced[1] and "240" in synced[2], "notes stream: 2 per ticket"
    assert "tickets" in synced[2] and "records" in synced[2], "a progress line per stream"
    assert "last sync" in listed[1] and "succeeded; healthy" in listed[1]
    with owner_connection(database_url) as owner:
        stored = owner.execute("SELECT count(*) FROM tickets").fetchone()
        secrets = owner.execute("SELECT credentials FROM integrations").fetchone()
    assert stored is not None and stored[0] >= 120
    assert secrets is not None and autotask["credentials"]["secret"].encode() not in secrets[0]


def test_an_autotask_integration_added_without_an_address_looks_its_zone_up(
    env: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    autotask: dict[str, Any],
    database_url: str,
) -> None:
    monkeypatch.setenv("VECTIS_ALLOW_PRIVATE_URLS", "true")
    assert run(capsys, "tenant", "create", "Harbor Point IT")[0] == 0

    added = run(
        capsys, "integration", "add", "--tenant", "harbor-point-it", "--vendor", "autotask",
        "--setting", f"zone_lookup_url={autotask['base_url']}", "--credentials-file", "-",
        stdin=json.dumps(autotask["credentials"]),
    )  # fmt: skip
    refused = run(
        capsys, "integration", "add", "--tenant", "harbor-point-it", "--vendor", "halopsa",
        "--credentials-file", "-", stdin=json.dumps({"client_id": "c", "client_secret": "s"}),
    )  # fmt: skip

    assert added[0] == 0 and "credentials work" in added[1], added[2]
    assert refused[0] == 1 and "HaloPSA needs its API address" in refused[2]
    with owner_connection(database_url) as owner:
        stored = owner.execute("SELECT vendor, base_url FROM integrations").fetchall()
    assert stored == [("autotask", "")], "empty: the zone is looked up at each connection"
