"""A daemon with a fake resolver behind the real aiohttp app, for HTTP tests."""

from __future__ import annotations

import random
from pathlib import Path

from domainwatch.config.loader import parse
from domainwatch.daemon.daemon import Daemon
from domainwatch.metrics.exposition import Exposition
from domainwatch.metrics.instruments import Metrics
from domainwatch.store.sqlite import SqliteStore
from domainwatch.testing import FakeClock, FakeResolver

VIEWER = "viewer-token-0123456789"
ADMIN = "admin-token-0123456789abc"
XSS_SPF = 'v=spf1 include:amazonses.com <script>alert("spf")</script> ~all'
XSS_DMARC = 'v=DMARC1; p=none; rua=mailto:"><img src=x onerror=alert(1)>@example.com'


def zone() -> FakeResolver:
    return FakeResolver(
        {
            ("send.good.example.com", "TXT"): ["v=spf1 include:amazonses.com ~all"],
            ("amazonses.com", "TXT"): ["v=spf1 ip4:199.255.192.0/22 -all"],
            ("good.example.com", "MX"): ["10 mx.example.net"],
            ("mx.example.net", "A"): ["192.0.2.1"],
            ("send.evil.example.com", "TXT"): [XSS_SPF],
            ("_dmarc.evil.example.com", "TXT"): [XSS_DMARC],
        }
    )


def config_text(tmp_path: Path, tokens: bool) -> str:
    token_block = (
        f"  tokens:\n    - {{name: grafana, role: viewer, token: {VIEWER}}}\n"
        f"    - {{name: ops, role: admin, token: {ADMIN}}}\n"
        if tokens
        else ""
    )
    return f"""
storage: {{path: "{tmp_path / "state.db"}"}}
server:
  listen: 127.0.0.1:8427
{token_block}domains:
  - name: good.example.com
    sending: {{spf: {{include: [amazonses.com]}}}}
    receiving: {{mx: [{{host: mx.example.net, priority: 10}}]}}
  - name: evil.example.com
    sending: {{spf: {{include: [amazonses.com]}}}}
  - name: idle.example.com
    verify: false
    receiving: {{mx: [{{host: mx.example.net}}]}}
"""


async def make_daemon(
    tmp_path: Path, *, tokens: bool = False, check: bool = True
) -> tuple[Daemon, Exposition]:
    """The daemon and what /metrics serves of it (wired as `domainwatch run` wires them)."""
    config = parse(config_text(tmp_path, tokens))
    metrics = Metrics()
    daemon = await Daemon.open(
        config,
        SqliteStore(config.storage.location.target),
        resolver=zone(),
        clock=FakeClock(),
        rng=random.Random(3),
        metrics=metrics,
    )
    exposition = Exposition(metrics.registry, daemon.fleet, progress=daemon)
    daemon.fleet.listeners.append(exposition)
    if check:
        await daemon.run_once()
    return daemon, exposition
