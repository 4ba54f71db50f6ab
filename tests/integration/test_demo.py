"""`domainwatch demo` (what `make demo` runs) shows every status, offline; sped up tenfold here."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.integration.cli import run_cli
from tests.integration.daemons import free_port

PROCESS_NAME = Path(f"/proc/{os.getpid()}/comm").read_text().strip() if sys.platform == "linux" else ""

ALL = {
    "verified",
    "pending",
    "partially_verified",
    "partially_failed",
    "failed",
    "temporary_failure",
    "not_started",
}


def fetch(url: str) -> dict[str, object]:
    with urllib.request.urlopen(url, timeout=2) as response:
        return json.loads(response.read())  # type: ignore[no-any-return]


async def test_demo_shows_every_status() -> None:
    """Within the story's first minutes (seconds, at time scale 10) every status appears."""
    listen = f"127.0.0.1:{free_port()}"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "domainwatch",
        "demo",
        "--time-scale",
        "10",
        "--listen",
        listen,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    seen: set[str] = set()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and seen != ALL:
            await asyncio.sleep(0.3)
            try:
                body = await asyncio.to_thread(fetch, f"http://{listen}/api/v1/domains")
            except OSError:
                continue
            seen |= {d["status"] for d in body["domains"]}  # type: ignore[attr-defined]
        assert ALL == seen
    finally:
        process.send_signal(signal.SIGINT)
        out, _ = await asyncio.wait_for(process.communicate(), 20)
    assert 0 == process.returncode
    assert f"open http://{listen}/" in out.decode()


async def test_demo_once_prints_a_diagnosis() -> None:
    """--once: the one-shot diagnosis of the sample domains."""
    result = await run_cli("demo", "--once")
    assert 0 == result.code, result.err
    assert "billing.acme.example  [NEEDS ATTENTION]" in result.out
    assert "lookup_error" in result.out


async def test_a_busy_port_is_named_with_its_holder_before_any_url() -> None:
    """Exit 2 with `HOST:PORT is in use (pid N, name)`, and no URL printed."""

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        listen = f"127.0.0.1:{holder.getsockname()[1]}"
        result = await run_cli("demo", "--listen", listen)
        assert (2, "") == (result.code, result.out)
        name = PROCESS_NAME
        assert f"domainwatch demo: {listen} is in use (pid {os.getpid()}, {name})" in result.err
        from_env = await run_cli("demo", env={"DOMAINWATCH_DEMO_LISTEN": listen})
        assert (2, "") == (from_env.code, from_env.out)
        assert f"{listen} is in use" in from_env.err


def test_make_demo_passes_listen() -> None:
    """`make demo LISTEN=HOST:PORT` serves there (make's dry run shows the command)."""

    root = Path(__file__).resolve().parents[2]
    shown = subprocess.run(
        ["make", "-n", "-o", ".venv/.installed", "demo", "LISTEN=127.0.0.1:9999"],
        cwd=root, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert ".venv/bin/domainwatch demo --listen 127.0.0.1:9999" in shown.stdout
