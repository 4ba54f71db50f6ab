"""The two alert tiers end to end on a fleet of 500 domains (issue #28): domainwatch, Debian's
Prometheus (scraping and evaluating every second, with the rules generated from
parameters.yaml with every `for:` at 5 s) and Alertmanager with the shipped example routing,
its receivers pointed at local webhook receivers standing in for the pager and the teams.

1. the resolver stops answering: one page, no ticket, resolved after;
2. a never-verified domain reaches `failed`: no notification at all;
3. a verified domain with `team: billing` loses its DKIM key: one ticket, at billing's receiver;
4. 100 verified domains lose the same include at once: one page, naming the finding's code.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import sys
import time
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web

from domainwatch.testing import DnsTestServer
from domainwatch.testing.dns_server import Behaviour
from tests.integration.daemons import free_port
from tests.keys import rsa_key
from tests.sre.test_end_to_end import (
    BIN,
    ROOT,
    eventually,
    get_json,
    listen,
    require_binaries,
    spawn,
    stop_all,
)

FLEET, BULK = 500, 100  # domains, and those that include the provider that breaks
ZONE = "tiers.test"
BILLING, NEVER = f"billing.{ZONE}", f"never.{ZONE}"
PROVIDER, BULK_PROVIDER = "spf.provider.test", "bulk.provider.test"
RECEIVERS = ("pager", "tickets", "team-billing", "team-platform")


class Channels:
    """Local receivers for Alertmanager's webhooks, one path per receiver of the example."""

    def __init__(self) -> None:
        self.port = free_port()
        self.got: dict[str, list[dict[str, Any]]] = {name: [] for name in RECEIVERS}

    async def handle(self, request: web.Request) -> web.Response:
        self.got[request.match_info["receiver"]].append(await request.json())
        return web.Response()

    def alerts(self, receiver: str, status: str = "firing") -> list[dict[str, Any]]:
        return [a for n in self.got[receiver] if n["status"] == status for a in n["alerts"]]

    def notifications(self, receiver: str, alertname: str, status: str = "firing") -> list[dict[str, Any]]:
        return [
            n
            for n in self.got[receiver]
            if n["status"] == status and n["groupLabels"].get("alertname") == alertname
        ]

    def everything(self) -> str:
        return json.dumps(self.got)


def domain_names() -> list[str]:
    return [f"d{i}.{ZONE}" for i in range(FLEET - 2)] + [BILLING, NEVER]


def provider_of(name: str, index: int) -> str:
    return BULK_PROVIDER if index < BULK else PROVIDER


def publish(dns: DnsTestServer) -> None:
    dns.set(PROVIDER, "TXT", ["v=spf1 ip4:192.0.2.0/24 -all"])
    dns.set(BULK_PROVIDER, "TXT", ["v=spf1 ip4:198.51.100.0/24 -all"])
    for index, name in enumerate(domain_names()):
        if name != NEVER:  # never published: it fails at the end of its window
            dns.set(f"send.{name}", "TXT", [f"v=spf1 include:{provider_of(name, index)} ~all"])
    dns.set(f"s1._domainkey.{BILLING}", "TXT", [f"v=DKIM1; k=rsa; p={rsa_key(2048)}"])


def daemon_config(dns: DnsTestServer, tmp: Path, port: int) -> str:
    domains = []
    for index, name in enumerate(domain_names()):
        entry: dict[str, Any] = {"name": name, "sending": {"spf": {"include": [provider_of(name, index)]}}}
        if name == BILLING:
            entry["labels"] = {"team": "billing"}
            entry["sending"]["dkim"] = [{"selector": "s1", "public_key": rsa_key(2048)}]
        if name == NEVER:
            entry["window"] = "15s"
        domains.append(entry)
    config = {
        "resolver": {"nameservers": [dns.address], "timeout": "300ms", "attempts": 1, "max_qps": 0},
        "storage": {"path": str(tmp / "state.db")},
        "server": {"listen": f"127.0.0.1:{port}"},
        "defaults": {
            "window": "1h",
            "confirm_missing": 1,
            "interval": "2s",
            "pending_interval": "1s",
            "recheck_interval": "1s",
        },
        "limits": {"min_interval": "1ms", "min_recheck_interval": "1ms", "min_window": "1ms"},
        "metrics": {"labels_allow": ["team"]},
        "domains": domains,
    }
    return json.dumps(config)  # JSON is YAML


def generated_rules() -> str:
    """The shipped generator with every `for:` at 5 s and the lookups' window at 20 s."""
    spec = importlib.util.spec_from_file_location("rules", ROOT / "deploy" / "prometheus" / "rules.py")
    assert spec is not None
    assert spec.loader is not None
    rules = importlib.util.module_from_spec(spec)
    sys.modules["rules"] = rules
    spec.loader.exec_module(rules)
    parameters = yaml.safe_load((ROOT / "deploy" / "prometheus" / "parameters.yaml").read_text())
    fast = {key: "5s" if key.endswith("_for") else value for key, value in parameters.items()}
    fast["lookups_failing_window"] = "20s"
    return yaml.safe_dump(rules.rules_document(fast))


def alertmanager_config(channels: Channels) -> str:
    """The shipped example, its receivers pointed here and its waits cut to a second."""
    example = yaml.safe_load((ROOT / "deploy" / "compose" / "alertmanager.yml").read_text())
    for receiver in example["receivers"]:
        receiver["webhook_configs"][0]["url"] = f"http://127.0.0.1:{channels.port}/{receiver['name']}"
    example["route"].update(group_wait="1s", group_interval="1s", repeat_interval="1h")
    for route in example["route"]["routes"]:
        route.pop("repeat_interval", None)
    return yaml.safe_dump(example)


def ready(url: str) -> bool:
    with urllib.request.urlopen(f"{url}/readyz", timeout=2) as answer:
        return answer.status == 200  # type: ignore[no-any-return]


@pytest.fixture
async def fleet(dns_server: DnsTestServer, tmp_path: Path) -> AsyncIterator[dict[str, Any]]:
    require_binaries()
    publish(dns_server)
    channels = Channels()
    runner = await listen("/{receiver}", channels.handle, channels.port)
    dw, prom, am = free_port(), free_port(), free_port()
    (tmp_path / "domainwatch.yaml").write_text(daemon_config(dns_server, tmp_path, dw))
    (tmp_path / "rules.yaml").write_text(generated_rules())
    (tmp_path / "alertmanager.yml").write_text(alertmanager_config(channels))
    (tmp_path / "prometheus.yml").write_text(f"""
global: {{scrape_interval: 1s, evaluation_interval: 1s}}
rule_files: ["{tmp_path / "rules.yaml"}"]
alerting: {{alertmanagers: [{{static_configs: [{{targets: ["127.0.0.1:{am}"]}}]}}]}}
scrape_configs:
  - {{job_name: domainwatch, static_configs: [{{targets: ["127.0.0.1:{dw}"]}}]}}
""")
    daemon_url = f"http://127.0.0.1:{dw}"
    processes = [
        await spawn(
            sys.executable, "-m", "domainwatch", "run", "-c", str(tmp_path / "domainwatch.yaml"),
            log=tmp_path / "domainwatch.log",
        ),
    ]  # fmt: skip
    try:
        # Prometheus starts once the first round is done: NotReady is not under test here.
        await eventually(lambda: ready(daemon_url), 60, "domainwatch ready")
        processes.append(
            await spawn(
                str(BIN / "prometheus-alertmanager"), f"--config.file={tmp_path / 'alertmanager.yml'}",
                f"--storage.path={tmp_path / 'am'}", f"--web.listen-address=127.0.0.1:{am}",
                "--cluster.listen-address=", log=tmp_path / "alertmanager.log",
            )
        )  # fmt: skip
        processes.append(
            await spawn(
                str(BIN / "prometheus"), f"--config.file={tmp_path / 'prometheus.yml'}",
                f"--storage.tsdb.path={tmp_path / 'tsdb'}", f"--web.listen-address=127.0.0.1:{prom}",
                log=tmp_path / "prometheus.log",
            )
        )  # fmt: skip
        yield {
            "dns": dns_server,
            "channels": channels,
            "daemon": daemon_url,
            "prometheus": f"http://127.0.0.1:{prom}",
        }
    finally:
        await stop_all(processes)
        await runner.cleanup()


def statuses(daemon: str) -> dict[str, str]:
    listing = get_json(f"{daemon}/api/v1/domains?limit=1000")
    return {d["name"]: d["status"] for d in listing["domains"]}


def firing(prometheus: str) -> set[str]:
    alerts = get_json(f"{prometheus}/api/v1/alerts")["data"]["alerts"]
    return {a["labels"]["alertname"] for a in alerts if a["state"] == "firing"}


async def test_pages_for_the_fleet_tickets_for_owners_nothing_for_onboarding(fleet: dict[str, Any]) -> None:
    dns, channels, daemon, prometheus = fleet["dns"], fleet["channels"], fleet["daemon"], fleet["prometheus"]
    started = time.monotonic()
    await eventually(
        lambda: list(statuses(daemon).values()).count("verified") == FLEET - 1, 60, "all verified"
    )
    await eventually(
        lambda: bool(get_json(f"{prometheus}/api/v1/query?query=up")["data"]["result"]), 30, "a scrape"
    )
    await asyncio.sleep(3)  # a few evaluations of a healthy fleet: nothing fires

    # 1. The resolver stops answering: one page, no ticket; resolved once it answers again.
    dns.default = Behaviour.SILENT
    await eventually(
        lambda: bool(channels.notifications("pager", "DomainwatchLookupsFailing")), 60, "the page"
    )
    await asyncio.sleep(5)  # would a second page, or a ticket, follow?
    dns.default = Behaviour.ANSWER
    await eventually(
        lambda: bool(channels.notifications("pager", "DomainwatchLookupsFailing", "resolved")), 90, "resolved"
    )
    assert 1 == len(channels.notifications("pager", "DomainwatchLookupsFailing"))
    assert ["DomainwatchLookupsFailing"] == sorted(
        {a["labels"]["alertname"] for a in channels.alerts("pager")}
    )
    assert [] == channels.alerts("tickets") + channels.alerts("team-billing")
    assert "verified" == statuses(daemon)["d1." + ZONE]  # a lookup error is never a missing record

    # 2. The never-verified domain has failed by now (its window is 15 s): nobody was told.
    await eventually(lambda: statuses(daemon)[NEVER] == "failed", 30, f"{NEVER} failed")
    await asyncio.sleep(7)  # past the tickets' `for:`

    # 3. billing's domain loses its DKIM key: one ticket, at billing's receiver only.
    dns.remove(f"s1._domainkey.{BILLING}")
    await eventually(lambda: bool(channels.alerts("team-billing")), 60, "billing's ticket")
    await asyncio.sleep(3)
    [ticket] = channels.alerts("team-billing")
    assert ("DomainwatchDomainTemporaryFailure", BILLING, "billing", "ticket") == (
        ticket["labels"]["alertname"],
        ticket["labels"]["domain"],
        ticket["labels"]["team"],
        ticket["labels"]["severity"],
    )
    assert BILLING not in json.dumps(channels.got["tickets"] + channels.got["pager"])

    # 4. The bulk provider's include breaks for 100 domains at once: one page, with the code.
    dns.remove(BULK_PROVIDER)
    await eventually(
        lambda: bool(channels.notifications("pager", "DomainwatchVerifiedDomainsDropping")),
        90,
        "the drop page",
    )
    await asyncio.sleep(3)
    [page] = channels.notifications("pager", "DomainwatchVerifiedDomainsDropping")
    [alert] = page["alerts"]
    first = get_json(f"{daemon}/api/v1/domains/d0.{ZONE}")
    spf = next(r for r in first["records"] if r["record"] == "spf")
    assert spf["findings"][0]["code"] == alert["labels"]["code"]
    assert "domain" not in alert["labels"]

    assert NEVER not in channels.everything()  # onboarding alerts nobody, from first to last
    assert time.monotonic() - started < 200
