"""`domainwatch run` as a real process against the DNS test server, with a short window.

State is read the way operators read it: from the store, offline (WAL allows a reader while the
daemon writes).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from domainwatch.cli.status import status_document
from domainwatch.config.loader import load
from domainwatch.store.base import StoreError
from domainwatch.store.opening import open_store
from domainwatch.testing import Behaviour, DnsTestServer
from tests.integration.postgres_stores import new_database, postgres

__all__ = ["postgres"]  # a fixture

GOOD = "good.example.com"
NEVER = "never.example.com"
TIMING = """limits: {{min_interval: 1ms, min_recheck_interval: 1ms, min_window: 1ms}}
defaults:
  window: {window}
  confirm_missing: 2
  interval: 300ms
  pending_interval: 200ms
  recheck_interval: 150ms
  failed_interval: 1s
"""


@pytest.fixture(params=["sqlite", "postgresql"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The config's storage section: each daemon story runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"storage: {{path: '{tmp_path / 'state.db'}'}}\n"
    # A stable replica_id: a replica restarted after kill -9 takes its slots back at once,
    # under new epochs, rather than a lease TTL later (docs/ha.md).
    url = new_database(request.getfixturevalue("postgres"))
    return f"storage: {{url: '{url}'}}\ncluster: {{replica_id: story}}\n"


def write_config(
    path: Path, server: DnsTestServer, *domains: str, window: str = "3s", storage: str = ""
) -> None:
    entries = "".join(
        f"  - name: {d}\n    sending: {{spf: {{include: [provider.example.net]}}}}\n" for d in domains
    )
    path.write_text(
        f"resolver: {{nameservers: ['{server.address}'], timeout: 200ms, attempts: 1}}\n"
        + (storage or f"storage: {{path: '{path.parent / 'state.db'}'}}\n")
        + TIMING.format(window=window)
        + f"domains:\n{entries}"
    )


def publish(server: DnsTestServer, domain: str) -> None:
    server.set(f"send.{domain}", "TXT", ["v=spf1 include:provider.example.net ~all"])
    server.set("provider.example.net", "TXT", ["v=spf1 ip4:192.0.2.0/24 -all"])


class RunningDaemon:
    def __init__(self, config: Path, process: asyncio.subprocess.Process) -> None:
        self.config, self.process = config, process

    async def state(self) -> dict[str, dict[str, Any]]:
        config = load(self.config)
        try:
            store = await open_store(config.storage.location, readonly=True)
        except StoreError:
            return {}  # not created (or migrated) yet
        try:
            return {d["name"]: d for d in (await status_document(config, store))["domains"]}
        finally:
            await store.close()

    async def wait_for(
        self, predicate: Callable[[dict[str, dict[str, Any]]], bool], within: float = 15
    ) -> None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            try:
                if predicate(await self.state()):
                    return
            except Exception:
                pass
            await asyncio.sleep(0.05)
        raise AssertionError(f"timed out; last state: {json.dumps((await self.state()), indent=1)[:2000]}")

    async def status(self, name: str, expected: str, within: float = 15) -> None:
        await self.wait_for(lambda s: s.get(name, {}).get("status") == expected, within)


async def start(config: Path) -> RunningDaemon:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "domainwatch",
        "run",
        "-c",
        str(config),
        "--log-format",
        "json",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    return RunningDaemon(config, process)


async def stop(daemon: RunningDaemon) -> tuple[int, str]:
    if daemon.process.returncode is None:
        daemon.process.send_signal(signal.SIGTERM)
    _, err = await asyncio.wait_for(daemon.process.communicate(), 15)
    assert daemon.process.returncode is not None
    return daemon.process.returncode, err.decode()


@pytest.fixture
async def running(dns_server: DnsTestServer, tmp_path: Path, storage: str) -> AsyncIterator[RunningDaemon]:
    config = tmp_path / "config.yaml"
    write_config(config, dns_server, GOOD, NEVER, storage=storage)
    publish(dns_server, GOOD)
    daemon = await start(config)
    yield daemon
    if daemon.process.returncode is None:
        daemon.process.kill()
        await daemon.process.wait()


async def test_full_cycle_and_window_expiry(dns_server: DnsTestServer, running: RunningDaemon) -> None:
    """pending -> verified -> temporary_failure -> verified, and pending -> failed after the window."""
    await running.status(GOOD, "verified")
    dns_server.remove(f"send.{GOOD}")
    await running.status(GOOD, "temporary_failure")
    assert (await running.state())[GOOD]["window_deadline"] is not None
    publish(dns_server, GOOD)
    await running.status(GOOD, "verified")
    assert "pending" == (await running.state())[NEVER]["status"]
    await running.status(NEVER, "failed")
    code, err = await stop(running)
    assert 0 == code, err
    events = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    changes = [
        (e["previous"], e["status"])
        for e in events
        if e["event"] == "status_changed" and e["kind"] == "domain" and e["domain"] == GOOD
    ]
    assert [
        ("pending", "verified"),
        ("verified", "temporary_failure"),
        ("temporary_failure", "verified"),
    ] == changes
    # The start, for the whole fleet at once, is logged as counts (each event is in the store).
    started = {
        (e["kind"], e["previous"], e["status"]): e["count"] for e in events if e["event"] == "status_changes"
    }
    assert 2 == started[("domain", "not_started", "pending")]
    assert not any(e["event"] == "status_changed" and e["kind"] == "record" for e in events)  # debug
    # Start-up, told once each, in order (docs/operations.md, start-up events).
    told = [e["event"] for e in events if e["event"] in ("startup_loading", "store_loaded", "ready")]
    assert ["startup_loading", "store_loaded", "ready"] == told
    ready = next(e for e in events if e["event"] == "ready")
    assert 0 <= ready["seconds"] < 60


async def test_servfail_storm_changes_nothing(dns_server: DnsTestServer, running: RunningDaemon) -> None:
    """SERVFAIL on every name for longer than the window: verified stays verified, marked stale."""
    await running.status(GOOD, "verified")
    for name in (
        f"send.{GOOD}",
        f"send.{NEVER}",
        "provider.example.net",
        f"_dmarc.{GOOD}",
        f"_dmarc.{NEVER}",
        "example.com",
    ):
        dns_server.behave(name, Behaviour.SERVFAIL)
    await running.wait_for(lambda s: s[GOOD]["stale"] is True)
    await asyncio.sleep(3.5)  # longer than the 3s window
    state = (await running.state())[GOOD]
    assert ("verified", True) == (state["status"], state["stale"])
    assert "pending" == (await running.state())[NEVER]["status"]  # errors never expire a window either


async def test_kill_9_loses_nothing_and_windows_continue(
    dns_server: DnsTestServer, tmp_path: Path, storage: str
) -> None:
    """After kill -9 the stored state is intact; the window runs from the stored start, not the restart."""
    config = tmp_path / "config.yaml"
    write_config(config, dns_server, GOOD, NEVER, window="4s", storage=storage)
    publish(dns_server, GOOD)
    first = await start(config)
    await first.status(GOOD, "verified")
    await asyncio.sleep(1.0)
    os.kill(first.process.pid, signal.SIGKILL)
    await first.process.wait()
    before = await first.state()
    started_at = before[NEVER]["records"][0]["started_at"]
    second = await start(config)
    try:
        await asyncio.sleep(0.3)
        after = await second.state()
        assert (before[GOOD]["status"], before[NEVER]["status"]) == (
            after[GOOD]["status"],
            after[NEVER]["status"],
        )
        assert started_at == after[NEVER]["records"][0]["started_at"]
        restarted = time.time()
        await second.status(NEVER, "failed", within=10)
        assert time.time() - restarted < 3.5  # failed at stored start + 4s, well before restart + 4s
    finally:
        assert 0 == (await stop(second))[0]


async def test_sighup_reloads_and_an_invalid_file_keeps_the_running_config(
    dns_server: DnsTestServer, running: RunningDaemon, storage: str
) -> None:
    """SIGHUP swaps in a valid config; an invalid one is logged and the old config keeps running."""
    await running.status(GOOD, "verified")
    write_config(running.config, dns_server, GOOD, NEVER, "added.example.com", storage=storage)
    running.process.send_signal(signal.SIGHUP)
    await running.wait_for(
        lambda s: "added.example.com" in s and s["added.example.com"]["status"] == "pending"
    )
    good_text = running.config.read_text()
    running.config.write_text(good_text + "  - name: bad..example.com\n")
    running.process.send_signal(signal.SIGHUP)
    await asyncio.sleep(0.5)
    running.config.write_text(good_text)
    assert running.process.returncode is None
    dns_server.remove(f"send.{GOOD}")
    await running.status(GOOD, "temporary_failure")  # still checking with the old config
    code, err = await stop(running)
    assert 0 == code
    assert "config_reload_failed" in err
    assert "domains[3].name: domain name has an empty label" in err
    reloaded = [json.loads(line) for line in err.splitlines() if '"config_reloaded"' in line]
    assert (1, 0, 0, []) == tuple(reloaded[0][k] for k in ("added", "removed", "changed", "settings"))
    assert "Traceback" not in err


async def test_sigterm_exits_promptly_with_code_0(running: RunningDaemon) -> None:
    """SIGTERM: stop scheduling, finish in-flight checks, close the store, exit 0."""
    await running.status(GOOD, "verified")
    started = time.monotonic()
    code, err = await stop(running)
    assert (0, True) == (code, time.monotonic() - started < 10)
    assert '"event": "stopped"' in err


async def test_bad_config_exits_2_without_traceback(tmp_path: Path) -> None:
    """run with an invalid config: errors on stderr, exit 2."""
    config = tmp_path / "config.yaml"
    config.write_text("domains: [{name: x}]\n")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "domainwatch", "run", "-c", str(config), stderr=asyncio.subprocess.PIPE
    )
    _, err = await asyncio.wait_for(process.communicate(), 30)
    assert 2 == process.returncode
    assert "Traceback" not in err.decode()
