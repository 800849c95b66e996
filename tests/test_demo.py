"""`vectis demo` as a new user runs it: embedded PostgreSQL, seeded MSP, sign-in, clean stop."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil

from tests.http_client import csrf_token


def test_the_demo_starts_signs_in_and_stops_cleanly(tmp_path: Path) -> None:
    port = _free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("VECTIS_")}
    demo = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "vectis",
            "demo",
            "--data-dir",
            str(tmp_path),
            "--port",
            str(port),
            "--admin-email",
            "ops@demo.example",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_ready(f"{base}/readyz", demo)
        printed, password = _sign_in_line(demo)
        with httpx.Client(base_url=base) as client:
            form = client.get("/login")
            # The cookies are Secure; the demo is plain http on loopback, where browsers still
            # send them but httpx does not, so the test carries them by hand.
            login_cookie = re.search(r"vectis_login=([^;]+)", form.headers["set-cookie"])
            assert login_cookie
            client.headers["Cookie"] = f"vectis_login={login_cookie.group(1)}"
            signed_in = client.post(
                "/login",
                data={
                    "email": "ops@demo.example",
                    "password": password,
                    "csrf_token": csrf_token(form.text),
                    "next": "/customers",
                },
            )
            assert signed_in.status_code == 303
            session = re.search(r"vectis_session=([^;]+)", signed_in.headers["set-cookie"])
            assert session
            client.headers["Cookie"] = f"vectis_session={session.group(1)}"
            customers = client.get("/customers")
            aldridge = re.search(r'href="(/customers/[0-9a-f-]+)">Aldridge', customers.text)
            assert aldridge, "the customer list links each customer's page"
            timeline = client.get(f"{aldridge.group(1)}/timeline")
            notes = client.get(f"{aldridge.group(1)}/notes")
        # One timeline merged from every source the customer is wired to, notes included.
        sources = set(re.findall(r'<span class="source source-(\w+)">', timeline.text))
        assert {"connectwise", "ninjaone", "vectis"} <= sources, sources
        assert "Note added by Sam Okafor" in timeline.text
        assert "<strong>Warehouse side door</strong>" in notes.text
        for name in (
            "Aldridge &amp; Co.",
            "Bayside Bistro",
            "Coast Logistics",
            "Drexel Dental",
            "Edison Manufacturing",
        ):
            assert name in customers.text
    finally:
        demo.send_signal(signal.SIGTERM)
        output, _ = demo.communicate(timeout=30)

    assert demo.returncode == 130, output
    runtime_password = tmp_path / "runtime_password"
    assert runtime_password.stat().st_mode & 0o777 == 0o600, "the runtime login's password"
    assert "Traceback" not in output
    assert len(password) >= 16, "the demo generated a password, since none was given"
    assert "sign in as ops@demo.example with password" in printed
    assert not [
        process
        for process in psutil.process_iter(["name", "cmdline"])
        if process.info["name"] == "postgres"
        and str(tmp_path) in " ".join(process.info["cmdline"] or [])
    ], "the embedded PostgreSQL stops with the demo"


def _sign_in_line(process: subprocess.Popen[str]) -> tuple[str, str]:
    """The line saying how to sign in (printed before the demo serves), and the password in it."""
    assert process.stdout is not None
    for line in process.stdout:
        found = re.search(r"sign in as \S+ with password (\S+)", line)
        if found:
            return line, found.group(1)
    raise AssertionError("the demo printed no sign-in line")


def _wait_ready(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"the demo exited early:\n{process.stdout.read() if process.stdout else ''}"
            )
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError("the demo did not become ready in time")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
