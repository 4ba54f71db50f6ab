"""A required STARTTLS record through the daemon, on a FakeClock: real DNS (the test server),
a real aiosmtpd server on loopback, the daemon's own prober and its kept answers."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from domainwatch.config.loader import parse
from domainwatch.daemon.daemon import Daemon
from domainwatch.store.sqlite import SqliteStore
from domainwatch.testing import DnsTestServer, FakeClock
from tests.integration.daemon_helpers import advance
from tests.integration.tls_lab import ZONE, Lab, lab

DOMAIN = f"inbound.{ZONE}"
MX = f"mx.{ZONE}"


@pytest.fixture
async def world(tmp_path: Path, dns_server: DnsTestServer) -> AsyncIterator[Lab]:
    async with lab(tmp_path, dns_server) as made:
        yield made


async def daemon_for(world: Lab, tmp_path: Path, clock: FakeClock) -> Daemon:
    config = parse(f"""
resolver: {{nameservers: ["{world.dns.address}"], timeout: 500ms, attempts: 2}}
storage: {{path: "{tmp_path / "state.db"}"}}
defaults: {{window: 72h, confirm_missing: 2, interval: 5m, recheck_interval: 1m}}
probes:
  smtp_port: {world.smtp_port}
  https_port: {world.https_port}
  ca_file: "{world.ca_file}"
  timeout: 3s
  allow_private_addresses: true
domains:
  - name: {DOMAIN}
    receiving:
      mx: [{{host: {MX}}}]
      tls: {{required: true}}
""")
    return await Daemon.open(
        config, SqliteStore(config.storage.location.target), clock=clock, rng=random.Random(5)
    )


def status_of(daemon: Daemon) -> tuple[str, str, bool]:
    track = daemon.fleet.tracks[DOMAIN]
    record = track.records[f"starttls:{MX}"]
    return track.status.value, record.status.value, record.stale


async def test_starttls_lost_and_back_and_an_unreachable_mx_changing_nothing(
    world: Lab, tmp_path: Path
) -> None:
    world.dns.set(DOMAIN, "MX", [f"10 {MX}"])
    address = await world.smtp(MX, world.context([MX]))
    clock = FakeClock()
    daemon = await daemon_for(world, tmp_path, clock)
    await daemon.run_once()
    assert ("verified", "verified", False) == status_of(daemon)
    probes = daemon.prober.probes_run
    await advance(daemon, clock, clock.now + timedelta(hours=1))
    assert probes == daemon.prober.probes_run  # 12 checks, the kept answer: no new probe
    # STARTTLS goes away: seen when the kept answer expires, confirmed a minute later.
    await world.stop(MX)
    await world.smtp(MX, None, address)
    await advance(daemon, clock, clock.now + timedelta(hours=6))
    assert ("temporary_failure", "temporary_failure", False) == status_of(daemon)
    record = (await daemon.store.results(DOMAIN))[f"starttls:{MX}"]
    assert ["starttls_not_offered"] == [f["code"] for f in record["findings"]]
    (shown,) = [r for r in (await daemon.view(DOMAIN))["records"] if r["record"] == f"starttls:{MX}"]
    assert [{"address": address, "outcome": "wrong", "findings": ["starttls_not_offered"]}] == shown[
        "addresses"
    ]
    # It comes back.
    await world.stop(MX)
    await world.smtp(MX, world.context([MX]), address)
    await advance(daemon, clock, clock.now + timedelta(minutes=10))
    assert ("verified", "verified", False) == status_of(daemon)
    # The server goes away entirely: the probe cannot complete; nothing changes but staleness.
    await world.stop(MX)
    await advance(daemon, clock, clock.now + timedelta(hours=12))
    assert ("verified", "verified", True) == status_of(daemon)
    events = [e for e in await daemon.store.history(DOMAIN) if e.kind == "domain"]
    assert ["pending", "verified", "temporary_failure", "verified"] == [e.status for e in reversed(events)]
    await daemon.shutdown()
