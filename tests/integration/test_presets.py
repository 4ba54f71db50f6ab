"""Every provider preset, end to end over real DNS: the records it says to publish, published
exactly as given into the DNS test server (with the provider's own side), verify; against an
empty zone, `check --format json` lists records that name the provider's hosts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from domainwatch.checks.running.runner import check_records
from domainwatch.config.document import parse_document
from domainwatch.config.domains import Defaults
from domainwatch.config.plan import DomainPlan
from domainwatch.dns.fast.transport import FastResolver
from domainwatch.dns.resolver import Nameserver
from domainwatch.model import RecordState
from domainwatch.present.report import zone_line
from domainwatch.testing import DnsTestServer
from tests.integration.cli import run_cli
from tests.keys import rsa_key

DOMAIN = "shop.presets.test"
KEY = rsa_key(2048)
SENDGRID = {"mail_host": "em1234", "target": "u1234.wl056.sendgrid.net"}
M365 = {
    "selector1": "selector1-shop-presets-test._domainkey.contoso.onmicrosoft.com",
    "selector2": "selector2-shop-presets-test._domainkey.contoso.onmicrosoft.com",
}
BREVO_CNAME = {"dkim": "cname", "brevo1_target": "b1.shop-presets-test.dkim.brevo.com",
               "brevo2_target": "b2.shop-presets-test.dkim.brevo.com"}  # fmt: skip
# Each case: the domain's document (besides its name), and a provider host its records name.
RESEND_KEY = {"dkim": [{"selector": "resend", "public_key": KEY}]}
CASES: dict[str, tuple[dict[str, Any], str]] = {
    "resend": (
        {"preset": "resend", "region": "us-east-1", "sending": RESEND_KEY},
        "amazonses.com",
    ),
    "resend_cname_keys": (
        {
            "preset": "resend",
            "region": "eu-west-1",
            "sending": {"dkim": [{"selector": "tok1"}, {"selector": "tok2"}]},
        },
        "tok1.dkim.amazonses.com",
    ),
    "ses": (
        {"preset": "ses", "region": "us-east-1", "sending": {"dkim": [{"selector": "abc"}]}},
        "amazonses.com",
    ),
    "postmark": (
        {"preset": "postmark", "account": {"dkim_selector": "20240101pm", "dkim_key": KEY}},
        "pm.mtasv.net",
    ),
    "sendgrid": ({"preset": "sendgrid", "account": SENDGRID}, "sendgrid.net"),
    "sendgrid_manual": (
        {
            "preset": "sendgrid",
            "account": {"mail_host": "em1234", "automated_security": False, "dkim_key": KEY},
        },
        "mx.sendgrid.net",
    ),
    "mailgun": (
        {"preset": "mailgun", "region": "eu", "account": {"dkim_selector": "k1", "dkim_key": KEY}},
        "mailgun.org",
    ),
    "brevo": ({"preset": "brevo", "account": {"dkim_key": KEY}}, "_dmarc"),
    "brevo_cname": ({"preset": "brevo", "account": BREVO_CNAME}, "dkim.brevo.com"),
    "google_workspace": ({"preset": "google_workspace", "account": {"dkim_key": KEY}}, "smtp.google.com"),
    "microsoft_365": ({"preset": "microsoft_365", "account": M365}, "mail.protection.outlook.com"),
}


def provider_side(dns: DnsTestServer) -> None:
    """What the providers publish on their own side: SPF, MX host addresses, delegated keys."""
    for include in (
        "amazonses.com",
        "sendgrid.net",
        "mailgun.org",
        "_spf.google.com",
        "spf.protection.outlook.com",
    ):
        dns.set(include, "TXT", ["v=spf1 ip4:192.0.2.0/24 -all"])
    for host in (
        "feedback-smtp.us-east-1.amazonses.com",
        "feedback-smtp.eu-west-1.amazonses.com",
        "mx.sendgrid.net",
        "smtp.google.com",
        "shop-presets-test.mail.protection.outlook.com",
    ):
        dns.set(host, "A", ["192.0.2.25"])
    for target in (
        "tok1.dkim.amazonses.com",
        "tok2.dkim.amazonses.com",
        "abc.dkim.amazonses.com",
        "s1.domainkey.u1234.wl056.sendgrid.net",
        "s2.domainkey.u1234.wl056.sendgrid.net",
        *M365.values(),
        BREVO_CNAME["brevo1_target"],
        BREVO_CNAME["brevo2_target"],
    ):
        dns.set(target, "TXT", [f"v=DKIM1; k=rsa; p={KEY}"])
    dns.set("pm.mtasv.net", "TXT", ["v=spf1 ip4:192.0.2.0/24 -all"])
    dns.set(SENDGRID["target"], "TXT", ["v=spf1 ip4:192.0.2.0/24 -all"])  # (behind the em CNAME)


def domain_plan(document: dict[str, Any]) -> DomainPlan:
    _, domain = parse_document({"name": DOMAIN, **document})
    return DomainPlan.of(domain, Defaults())


async def check(dns: DnsTestServer, plan: DomainPlan) -> dict[str, RecordState]:
    resolver = FastResolver([Nameserver("127.0.0.1", dns.port)], timeout=1.0, attempts=2)
    try:
        results = await check_records(list(plan.expectations), resolver)
    finally:
        await resolver.aclose()
    # A return path (or DKIM key) that is a CNAME is never called a CNAME in the way.
    assert [] == [f.message for r in results for f in r.findings if f.code == "cname_conflict"]
    return {r.record: r.state for r in results}


@pytest.mark.parametrize("case", sorted(CASES))
async def test_a_presets_records_published_as_given_verify(dns_server: DnsTestServer, case: str) -> None:
    document, _ = CASES[case]
    plan = domain_plan(document)
    provider_side(dns_server)
    lines = [zone_line(fix.as_dict()) for fixes in plan.to_publish().values() for fix in fixes]
    assert not [line for line in lines if line.startswith(";")], "every value given: nothing to fill in"
    dns_server.publish("\n".join(lines))
    states = await check(dns_server, plan)
    required = {e.record for e in plan.expectations if e.required}
    assert dict.fromkeys(required, RecordState.PRESENT) == {r: states[r] for r in required}
    if case in ("postmark", "sendgrid"):
        assert "return_path_cname" in required
        assert not {"spf", "return_path_mx"} & set(states)


@pytest.mark.parametrize("case", sorted(CASES))
async def test_against_an_empty_zone_check_names_the_providers_hosts(
    dns_server: DnsTestServer, tmp_path: Path, case: str
) -> None:
    document, host = CASES[case]
    config = tmp_path / "config.yaml"
    config.write_text(json.dumps({"domains": [{"name": DOMAIN, **document}]}))
    result = await run_cli("check", "-c", str(config), "--nameserver", dns_server.address, "--format", "json")
    assert 1 == result.code, result.err
    [domain] = json.loads(result.out)["domains"]
    expected = " ".join(str(r.get("expected")) + " " + str(r.get("name")) for r in domain["records"])
    assert host in expected
    assert {r["state"] for r in domain["records"]} <= {"missing", "wrong"}


def test_receiving_is_filled_only_by_mailbox_providers() -> None:
    fills = {
        case for case, (document, _) in CASES.items() if domain_plan(document).config.receiving is not None
    }
    assert {"google_workspace", "microsoft_365"} == fills
