"""Webhooks across a daemon crash: kill -9 mid-delivery, restart, nothing lost, ids stable."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from pathlib import Path

from domainwatch.store.sqlite import SqliteStore
from domainwatch.testing import DnsTestServer
from tests.integration.receiver import Receiver, new_secret
from tests.integration.test_daemon_process import GOOD, NEVER, publish, start, stop, write_config


async def wait_until(predicate: object, within: float = 20) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out")


async def delivered_events(path: Path) -> list[str]:
    store = SqliteStore(path, readonly=True)
    try:
        return [e.id for e in reversed(await store.history()) if e.kind == "domain"]
    finally:
        await store.close()


async def test_kill_9_mid_delivery_resends_with_the_same_id(
    dns_server: DnsTestServer, tmp_path: Path
) -> None:
    """The event in flight at the crash arrives after the restart with its webhook-id; none is lost."""
    receiver = await Receiver([new_secret()]).start()
    receiver.hanging = True  # the first request hangs: the daemon dies while it is in flight
    try:
        config = tmp_path / "config.yaml"
        write_config(config, dns_server, GOOD, NEVER)
        hook = {"name": "ops", "url": receiver.url, "secrets": receiver.secrets, "timeout": "30s"}
        text = config.read_text().replace(
            "domains:\n", f"webhook_retry_scale: 0.001\nwebhooks: [{json.dumps(hook)}]\ndomains:\n", 1
        )
        config.write_text(text)
        publish(dns_server, GOOD)
        first = await start(config)
        await wait_until(lambda: receiver.attempted)
        in_flight = receiver.attempted[0]
        os.kill(first.process.pid, signal.SIGKILL)
        await first.process.wait()
        receiver.hanging = False
        second = await start(config)
        try:
            await wait_until(lambda: in_flight in receiver.ids())
            await second.status(GOOD, "verified")
            events = await delivered_events(tmp_path / "state.db")
            await wait_until(lambda: set(events) <= set(receiver.ids()))
        finally:
            assert 0 == (await stop(second))[0]
        assert set(await delivered_events(tmp_path / "state.db")) == set(receiver.ids())
        assert 0 == receiver.unsigned
        for domain in (GOOD, NEVER):
            assert sorted(receiver.sequences(domain)) == receiver.sequences(domain)
    finally:
        await receiver.stop()
