"""Bulk-sender readiness over real DNS (the DNS test server) through the daemon: a healthy
domain passes every rule DNS can show; one without DMARC fails `dmarc`, whose record becomes
required; PTR and forward-confirmed reverse DNS of listed IPs pass, or fail when the PTR is
missing or does not resolve back. The API's verdicts and the metric agree."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from domainwatch.config.loader import parse
from domainwatch.daemon.daemon import Daemon
from domainwatch.metrics.families import domain_lines
from domainwatch.store.sqlite import SqliteStore
from domainwatch.testing import DnsTestServer
from domainwatch.web.pages import domain_page
from tests.keys import rsa_key

KEY = rsa_key(2048)
IPS = ["192.0.2.10", "192.0.2.11", "192.0.2.12"]  # confirmed, no PTR, PTR elsewhere


def publish(dns: DnsTestServer, name: str, *, dmarc: bool) -> None:
    dns.set("provider.compliance.test", "TXT", ["v=spf1 ip4:192.0.2.0/24 -all"])
    dns.set(f"send.{name}", "TXT", ["v=spf1 include:provider.compliance.test ~all"])
    dns.set(f"s1._domainkey.{name}", "TXT", [f"v=DKIM1; k=rsa; p={KEY}"])
    if dmarc:
        dns.set(f"_dmarc.{name}", "TXT", ["v=DMARC1; p=none; rua=mailto:d@compliance.test"])


def reverse(dns: DnsTestServer) -> None:
    dns.set("10.2.0.192.in-addr.arpa", "PTR", ["out1.provider.compliance.test."])
    dns.set("out1.provider.compliance.test", "A", ["192.0.2.10"])
    dns.set("12.2.0.192.in-addr.arpa", "PTR", ["out3.provider.compliance.test."])
    dns.set("out3.provider.compliance.test", "A", ["198.51.100.3"])


async def judged(dns: DnsTestServer, tmp_path: Path, ips: list[str]) -> dict[str, Any]:
    sending = {
        "spf": {"include": ["provider.compliance.test"]},
        "dkim": [{"selector": "s1", "public_key": KEY}],
        "ips": ips,
    }
    domain = {"sending": sending, "compliance": ["gmail", "yahoo", "microsoft"]}
    config = parse(
        json.dumps(
            {
                "resolver": {"nameservers": [dns.address], "timeout": "500ms"},
                "storage": {"path": str(tmp_path / "state.db")},
                "domains": [
                    {"name": "ok.compliance.test", **domain},
                    {"name": "nodmarc.compliance.test", **domain},
                ],
            }
        )
    )
    daemon = await Daemon.open(config, SqliteStore(config.storage.location.target))
    try:
        await daemon.run_once()
        views = {name: await daemon.view(name) for name in ("ok.compliance.test", "nodmarc.compliance.test")}
        lines = {
            n: b"".join(
                domain_lines(n, daemon.fleet.tracks[n], daemon.fleet.plans[n], daemon.fleet.facts.get(n))
            )
            for n in views
        }
    finally:
        await daemon.shutdown()
    return {"views": views, "metrics": lines}


def results(view: dict[str, Any], provider: str) -> dict[str, str]:
    return {r["rule"]: r["result"] for r in view["compliance"][provider]["rules"]}


async def test_a_healthy_domain_passes_and_one_without_dmarc_fails(
    dns_server: DnsTestServer, tmp_path: Path
) -> None:
    publish(dns_server, "ok.compliance.test", dmarc=True)
    publish(dns_server, "nodmarc.compliance.test", dmarc=False)
    reverse(dns_server)
    found = await judged(dns_server, tmp_path, IPS[:1])
    ok, bad = found["views"]["ok.compliance.test"], found["views"]["nodmarc.compliance.test"]
    assert "verified" == ok["status"]
    gmail = results(ok, "gmail")
    checkable = {"spf", "dkim", "dkim_key_1024", "dmarc", "alignment", "ptr", "fcrdns"}
    assert dict.fromkeys(checkable, "pass") == {k: v for k, v in gmail.items() if k in checkable}
    assert "not_checkable" == gmail["inbound_tls"] == gmail["spam_rate"] == gmail["one_click_unsubscribe"]
    assert "2025-05" == ok["compliance"]["microsoft"]["version"]
    assert "fail" == results(bad, "yahoo")["dmarc"]
    dmarc = next(r for r in bad["records"] if r["record"] == "dmarc")
    assert dmarc["required"] is True  # the rules need it: it counts
    assert "verified" != bad["status"]
    metrics = found["metrics"]["ok.compliance.test"].decode()
    assert (
        'domainwatch_compliance_rule{domain="ok.compliance.test",provider="gmail",rule="fcrdns"} 1.0'
        in metrics
    )
    assert 'rule="spam_rate"' not in metrics  # absent: not checkable


async def test_ptr_missing_and_not_confirming_fail(dns_server: DnsTestServer, tmp_path: Path) -> None:
    publish(dns_server, "ok.compliance.test", dmarc=True)
    publish(dns_server, "nodmarc.compliance.test", dmarc=True)
    reverse(dns_server)
    view = (await judged(dns_server, tmp_path, IPS))["views"]["ok.compliance.test"]
    states = {r["record"]: r["state"] for r in view["records"] if r["record"].startswith("reverse_dns:")}
    assert {
        "reverse_dns:192.0.2.10": "present",
        "reverse_dns:192.0.2.11": "missing",
        "reverse_dns:192.0.2.12": "wrong",
    } == states
    gmail = {r["rule"]: r for r in view["compliance"]["gmail"]["rules"]}
    assert ("fail", "fail") == (gmail["ptr"]["result"], gmail["fcrdns"]["result"])
    assert "192.0.2.11" in gmail["ptr"]["detail"]
    assert "192.0.2.12" in gmail["fcrdns"]["detail"]


async def test_the_page_shows_the_verdicts(dns_server: DnsTestServer, tmp_path: Path) -> None:
    """Rendered as the page is served, from the same view."""
    publish(dns_server, "ok.compliance.test", dmarc=True)
    publish(dns_server, "nodmarc.compliance.test", dmarc=False)
    view = (await judged(dns_server, tmp_path, IPS[:1]))["views"]["nodmarc.compliance.test"]
    page = domain_page(view, [], datetime(2026, 12, 7, tzinfo=UTC))
    html = page.text or ""
    assert 'id="compliance"' in html
    assert "<td>dmarc</td>" in html
    assert "not in DNS" in html
