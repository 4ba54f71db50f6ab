"""The SRE kit, proven end to end on loopback: domainwatch, Debian's Prometheus (scraping every
second with the shipped alert rules, `for:` shortened by this test) and Alertmanager routing to a
test receiver. A removed record must raise a ticket (DomainwatchDomainTemporaryFailure) and
resolve when restored, and every expression of the three dashboards must return data.
tests/sre/test_alert_tiers.py proves the tiers and their routing on 500 domains."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from domainwatch.checks.kinds.mta_sts import policy_text, txt_record
from domainwatch.testing import DnsTestServer
from tests.integration.daemons import free_port
from tests.integration.receiver import Receiver, new_secret
from tests.integration.tls_lab import Lab, lab
from tests.keys import rsa_key
from tests.sre.test_dashboards import BOARDS, concrete, expressions

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".cache" / "debian" / "usr" / "bin"
SHOP, WAIT = "shop.e2e.test", "wait.e2e.test"
MX = "mx.e2e.test"


def require_binaries() -> None:
    if not (BIN / "prometheus").exists() or not (BIN / "prometheus-alertmanager").exists():
        if os.environ.get("CI"):
            pytest.fail("prometheus binaries missing: scripts/install-test-deps.sh extracts them as root")
        pytest.skip("Debian's prometheus and prometheus-alertmanager are not extracted")


def publish(server: DnsTestServer) -> None:
    key = rsa_key(2048)
    for domain in (SHOP, WAIT):
        server.set(f"send.{domain}", "TXT", ["v=spf1 include:amazonses.com ~all"])
        server.set(f"resend._domainkey.{domain}", "TXT", [f"p={key}"])
        server.set(f"_dmarc.{domain}", "TXT", [f"v=DMARC1; p=reject; rua=mailto:d@{domain}"])
    server.set(f"send.{SHOP}", "MX", ["10 feedback-smtp.us-east-1.amazonses.com."])  # WAIT stays pending
    server.set("amazonses.com", "TXT", ["v=spf1 ip4:192.0.2.0/24 -all"])
    server.set("feedback-smtp.us-east-1.amazonses.com", "A", ["192.0.2.25"])


class Alerts:
    """A webhook receiver for Alertmanager: remembers every notification."""

    def __init__(self) -> None:
        self.notifications: list[dict[str, Any]] = []
        self.port = free_port()

    async def handle(self, request: web.Request) -> web.Response:
        self.notifications.append(await request.json())
        return web.Response(status=200)

    def seen(self, alertname: str, status: str) -> bool:
        return any(
            a["labels"].get("alertname") == alertname and a["status"] == status
            for n in self.notifications
            for a in n["alerts"]
        )


async def listen(path: str, handle: Callable[[web.Request], Any], port: int) -> web.AppRunner:
    """A webhook receiver for Alertmanager on loopback: POSTs to `path` go to `handle`."""
    app = web.Application()
    app.router.add_post(path, handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner


async def spawn(*args: str, log: Path) -> asyncio.subprocess.Process:
    with log.open("wb") as out:
        return await asyncio.create_subprocess_exec(*args, stdout=out, stderr=out)


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


async def eventually(
    check: Callable[[], bool], within: float, what: str, why: Callable[[], str] = lambda: ""
) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if await asyncio.to_thread(check):
                return
        except OSError:
            pass
        await asyncio.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what} {why()}")


async def inbound(world: Lab) -> str:
    """WAIT receives mail too: an MX host with STARTTLS, an MTA-STS policy and TLS-RPT, so the
    dashboards' transport-security panels have data."""
    await world.smtp(MX, world.context([MX]))
    policy = policy_text("enforce", [MX])

    async def serve(_: web.Request) -> web.Response:
        return web.Response(text=policy, content_type="text/plain")

    await world.https([f"mta-sts.{WAIT}"], serve)
    world.dns.set(WAIT, "MX", [f"10 {MX}"])
    world.dns.set(f"_mta-sts.{WAIT}", "TXT", [txt_record(policy)])
    world.dns.set(f"_smtp._tls.{WAIT}", "TXT", [f"v=TLSRPTv1; rua=mailto:tls@{WAIT}"])
    return (
        f"probes: {{smtp_port: {world.smtp_port}, https_port: {world.https_port}, "
        f'ca_file: "{world.ca_file}", timeout: 3s, allow_private_addresses: true}}\n'
    )


@pytest.fixture
async def stack(dns_server: DnsTestServer, tmp_path: Path) -> AsyncIterator[dict[str, Any]]:
    require_binaries()
    publish(dns_server)
    async with lab(tmp_path, dns_server) as world:
        async for made in _stack(dns_server, tmp_path, await inbound(world)):
            yield made


async def _stack(dns_server: DnsTestServer, tmp_path: Path, probes: str) -> AsyncIterator[dict[str, Any]]:
    receiver = await Receiver([new_secret()]).start()
    alerts = Alerts()
    runner = await listen("/alerts", alerts.handle, alerts.port)
    dw, prom, am = free_port(), free_port(), free_port()
    hook = {"name": "ops", "url": receiver.url, "secrets": receiver.secrets}
    (tmp_path / "domainwatch.yaml").write_text(f"""
resolver: {{nameservers: ["{dns_server.address}"], timeout: 300ms, attempts: 1}}
storage: {{path: "{tmp_path / "state.db"}"}}
server: {{listen: "127.0.0.1:{dw}"}}
defaults: {{window: 1h, confirm_missing: 1, interval: 1s, pending_interval: 1s, recheck_interval: 1s}}
limits: {{min_interval: 1ms, min_recheck_interval: 1ms, min_window: 1ms, min_probe_interval: 1ms}}
webhooks: [{json.dumps(hook)}]
{probes}domains:
  - name: {SHOP}
    preset: resend
    region: us-east-1
    receiving: {{mx: [{{host: feedback-smtp.us-east-1.amazonses.com}}]}}
  - name: {WAIT}
    preset: resend
    region: us-east-1
    receiving: {{mx: [{{host: {MX}}}], tls: {{}}, mta_sts: {{}}, tls_rpt: {{}}}}
""")
    dns_server.set(SHOP, "MX", ["10 feedback-smtp.us-east-1.amazonses.com."])
    rules = (ROOT / "deploy" / "prometheus" / "domainwatch-alerts.yaml").read_text()
    (tmp_path / "rules.yaml").write_text(re.sub(r"for: \S+", "for: 0s", rules))  # the test's override
    (tmp_path / "prometheus.yml").write_text(f"""
global: {{scrape_interval: 1s, evaluation_interval: 1s}}
rule_files: ["{tmp_path / "rules.yaml"}"]
alerting: {{alertmanagers: [{{static_configs: [{{targets: ["127.0.0.1:{am}"]}}]}}]}}
scrape_configs:
  - {{job_name: domainwatch, static_configs: [{{targets: ["127.0.0.1:{dw}"]}}]}}
""")
    (tmp_path / "alertmanager.yml").write_text(f"""
route:
  {{receiver: test, group_by: [alertname, domain], group_wait: 1s, group_interval: 1s, repeat_interval: 1h}}
receivers:
  - {{name: test, webhook_configs: [{{url: "http://127.0.0.1:{alerts.port}/alerts", send_resolved: true}}]}}
""")
    processes = [
        await spawn(
            sys.executable,
            "-m",
            "domainwatch",
            "run",
            "-c",
            str(tmp_path / "domainwatch.yaml"),
            log=tmp_path / "domainwatch.log",
        ),
        await spawn(
            str(BIN / "prometheus-alertmanager"),
            f"--config.file={tmp_path / 'alertmanager.yml'}",
            f"--storage.path={tmp_path / 'am'}",
            f"--web.listen-address=127.0.0.1:{am}",
            "--cluster.listen-address=",
            log=tmp_path / "alertmanager.log",
        ),
        await spawn(
            str(BIN / "prometheus"),
            f"--config.file={tmp_path / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{prom}",
            log=tmp_path / "prometheus.log",
        ),
    ]
    try:
        yield {
            "dns": dns_server,
            "prometheus": f"http://127.0.0.1:{prom}",
            "alerts": alerts,
            "logs": tmp_path,
        }
    finally:
        await stop_all(processes)
        await runner.cleanup()
        await receiver.stop()


async def stop_all(processes: list[asyncio.subprocess.Process]) -> None:
    """SIGTERM each (by its own PID), then wait; killed after 15 s."""
    for process in processes:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            await asyncio.wait_for(process.wait(), 15)
        except TimeoutError:
            process.kill()


def instant(prometheus: str, expr: str) -> list[Any]:
    body = get_json(f"{prometheus}/api/v1/query?query={urllib.parse.quote(expr)}")
    return body["data"]["result"]  # type: ignore[no-any-return]


async def test_dashboards_have_data_and_alerts_reach_alertmanager(stack: dict[str, Any]) -> None:
    """Every dashboard query returns data; a removed DKIM key pages, and its restoration resolves."""
    prometheus, alerts, dns = stack["prometheus"], stack["alerts"], stack["dns"]
    await eventually(
        lambda: bool(instant(prometheus, 'domainwatch_domain_status{status="verified"} == 1')),
        60,
        "domainwatch scraped with a verified domain",
    )
    queries = {concrete(e, WAIT) for board in BOARDS.values() for e in expressions(board)}
    empty: list[str] = []

    def all_have_data() -> bool:
        empty[:] = [q for q in sorted(queries) if not instant(prometheus, q)]
        return not empty

    dns.remove(f"resend._domainkey.{SHOP}")
    await eventually(
        lambda: alerts.seen("DomainwatchDomainTemporaryFailure", "firing"),
        60,
        "DomainwatchDomainTemporaryFailure at the receiver",
    )
    fired = next(
        a
        for n in alerts.notifications
        for a in n["alerts"]
        if a["labels"]["alertname"] == "DomainwatchDomainTemporaryFailure"
    )
    assert (SHOP, "ticket") == (fired["labels"]["domain"], fired["labels"]["severity"])
    assert "left before it fails" in fired["annotations"]["description"]
    # Now that a domain has left verified too (the operator board's drop panel).
    await eventually(all_have_data, 60, "data for every dashboard query", lambda: f"empty: {empty}")
    dns.set(f"resend._domainkey.{SHOP}", "TXT", [f"p={rsa_key(2048)}"])
    await eventually(
        lambda: alerts.seen("DomainwatchDomainTemporaryFailure", "resolved"), 60, "the alert to resolve"
    )
