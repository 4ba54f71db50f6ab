"""`domainwatch demo` (what `make demo` runs) shows every status, offline; sped up tenfold here."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
import urllib.request

from tests.integration.cli import run_cli
from tests.integration.daemons import free_port

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
