"""Fixes that work: for generated broken records of every kind, publish the fix domainwatch
suggests, exactly as given, into the DNS test server, and check again: the record must pass.

Every error finding of a record carries the same fix (one record resolving them all), and a
record that is wrong or missing while its provider's own records are sound always gets one.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domainwatch.checks.base import Expectation
from domainwatch.checks.kinds.dkim.kind import DkimExpectation
from domainwatch.checks.kinds.dmarc.kind import DmarcExpectation
from domainwatch.checks.kinds.mx import MxExpectation
from domainwatch.checks.kinds.spf.kind import SpfExpectation
from domainwatch.checks.kinds.tls_rpt import TlsRptExpectation
from domainwatch.checks.kinds.tracking import TrackingExpectation
from domainwatch.checks.running.runner import check_records
from domainwatch.config.document import parse_document
from domainwatch.config.domains import Defaults
from domainwatch.config.plan import DomainPlan
from domainwatch.dns.fast.transport import FastResolver
from domainwatch.dns.resolver import Nameserver, normalize_name
from domainwatch.model import RecordResult, RecordState, Remediation, Severity
from domainwatch.present.views import domain_view
from domainwatch.present.zone import publish_rows, zone_block
from domainwatch.state.domain import reconcile
from domainwatch.testing import DnsTestServer
from domainwatch.testing.dns_server import serve_in_thread
from tests.examples import examples
from tests.keys import ed25519_key, rsa_key

DOMAIN = "shop.fix.test"
RP = f"send.{DOMAIN}"
PROVIDER, OTHER = "provider.fix.test", "other.fix.test"
SETTINGS = settings(
    max_examples=int(os.environ.get("FIX_EXAMPLES", examples(60))),
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)


def provider_zone(server: DnsTestServer) -> None:
    """What the world around the user publishes, sound or broken."""
    server.records.clear()
    server.set(PROVIDER, "TXT", ["v=spf1 ip4:198.51.100.0/24 -all"])
    server.set(OTHER, "TXT", ["v=spf1 ip4:203.0.113.0/24 -all"])
    server.set("double.fix.test", "TXT", ["v=spf1 -all", "v=spf1 ~all"])
    server.set("bad.fix.test", "TXT", ["v=spf1 ip4:999.1.1.1 -all"])
    server.set("loop.fix.test", "TXT", ["v=spf1 include:loop.fix.test -all"])
    server.set("many.fix.test", "MX", [f"10 mx{n}.fix.test" for n in range(12)])
    for host in ("mx1.fix.test", "mx2.fix.test", "backup.fix.test", "feedback.fix.test"):
        server.set(host, "A", ["192.0.2.25"])
    server.set("track.provider.fix.test", "A", ["192.0.2.80"])


@pytest.fixture(scope="module")
def dns() -> Iterator[DnsTestServer]:
    with serve_in_thread(DnsTestServer()) as server:
        yield server


def check(server: DnsTestServer, expect: Expectation) -> RecordResult:
    async def run() -> RecordResult:
        resolver = FastResolver([Nameserver("127.0.0.1", server.port)], timeout=1.0, attempts=3)
        try:
            return (await check_records([expect], resolver))[0]
        finally:
            await resolver.aclose()

    return asyncio.run(run())


def the_fix(result: RecordResult) -> Remediation | None:
    """The one fix every error finding carries (None if none does)."""
    fixes = {f.remediation for f in result.findings if f.severity is Severity.ERROR and f.remediation}
    assert len(fixes) <= 1, f"several fixes for one record: {fixes}"
    return next(iter(fixes), None)


def publish(server: DnsTestServer, fix: Remediation) -> None:
    """As a user follows it. An MX fix is a change to the set: its `remove` records deleted, its
    `records` added, every other host left as it was. Any other fix is the one record of its
    name and type."""
    if fix.type == "MX":
        before = [r for r in server.records.get((normalize_name(fix.name), "MX"), []) if r not in fix.remove]
        server.set(fix.name, "MX", [*before, *fix.records])
        return
    server.set(fix.name, fix.type, list(fix.records) if fix.records else [fix.value])


def round_trip(server: DnsTestServer, expect: Expectation, *, must_offer: bool = True) -> None:
    before = check(server, expect)
    if before.state in (RecordState.PRESENT, RecordState.ERROR):
        return
    fix = the_fix(before)
    if fix is None:
        assert not must_offer, f"no fix offered for {before}"
        return
    publish(server, fix)
    after = check(server, expect)
    assert (RecordState.PRESENT, []) == (
        after.state,
        [f.code.value for f in after.findings if f.severity is Severity.ERROR],
    ), f"published {fix}\nbefore: {before}\nafter: {after}"


# -- SPF --------------------------------------------------------------------------------------
SPF_TERMS = [
    f"include:{PROVIDER}",
    f"-include:{PROVIDER}",
    f"~include:{PROVIDER}",
    f"include:{OTHER}",
    "include:void.fix.test",
    "include:double.fix.test",
    "include:bad.fix.test",
    "include:loop.fix.test",
    f"include:{RP}",
    "ip4:198.51.100.0/25",
    "-ip4:198.51.100.128/25",
    "-ip4:198.51.100.0/24",
    "ip4:192.0.2.1",
    "ip6:2001:db8::/32",
    "a:void.fix.test",
    "a:other-void.fix.test",
    "mx:many.fix.test",
    "exists:void.fix.test",
    "a",
    "mx",
    "ptr",
    "redirect=void.fix.test",
    f"redirect={OTHER}",
    "+all",
    "-all",
    "~all",
    "?all",
    "all",
    "ip4:300.1.1.1",
    "include:",
    "bogus",
    "include:%{d}.macro.fix.test",
    "-include:%{i}.x.fix.test",
]
spf_records = st.lists(st.sampled_from(SPF_TERMS), max_size=8).map(lambda t: " ".join(["v=spf1", *t]))
SPF_EXPECTATIONS = [
    SpfExpectation("spf", RP, True, (PROVIDER,)),
    SpfExpectation("spf", RP, True, (PROVIDER,), (ipaddress.ip_network("192.0.2.0/28"),)),
    SpfExpectation("spf", RP, True, (), (ipaddress.ip_network("192.0.2.7/32"),), "-"),
]


@SETTINGS
@given(st.sampled_from(SPF_EXPECTATIONS), st.lists(spf_records, min_size=0, max_size=2))
def test_spf_fixes_work(dns: DnsTestServer, expect: SpfExpectation, records: list[str]) -> None:
    provider_zone(dns)
    dns.set(RP, "TXT", records)
    round_trip(dns, expect)


@pytest.mark.parametrize(
    "records",
    [
        ["v=spf1 include:mailgun.fix.test +all"],  # an include to a name with no SPF record
        ["v=spf1 -include:provider.fix.test ~all"],  # the provider's include, failing first
        ["v=spf1 -ip4:198.51.100.128/25 ~all"],  # an earlier term matching the provider's mail
        ["v=spf1 include:other.fix.test ~all", "v=spf1 ip4:192.0.2.9 -all"],  # two records
        ["v=spf1 " + " ".join(f"include:p{n}.fix.test" for n in range(10)) + " ~all"],  # over 10 lookups
        ["v=spf1 a:v1.fix.test a:v2.fix.test a:v3.fix.test ~all"],  # three void lookups
        ["v=spf1 mx:many.fix.test ~all"],
        ["v=spf1 include:loop.fix.test ~all"],
    ],
)
def test_the_reported_spf_cases(dns: DnsTestServer, records: list[str]) -> None:
    provider_zone(dns)
    for n in range(10):
        dns.set(f"p{n}.fix.test", "TXT", [f"v=spf1 ip4:203.0.{n}.0/24 include:q{n}.fix.test -all"])
        dns.set(f"q{n}.fix.test", "TXT", [f"v=spf1 ip4:203.1.{n}.0/24 -all"])
    dns.set(RP, "TXT", records)
    round_trip(dns, SPF_EXPECTATIONS[0])


# -- DKIM, DMARC, MX, tracking, TLS-RPT -------------------------------------------------------
KEY = rsa_key(2048)
DKIM_RECORDS = [
    f"v=DKIM1; k=rsa; p={KEY}",
    f"v=DKIM2; k=rsa; p={KEY}",
    f"v=DKIM1; k=dsa; p={KEY}",
    f"v=DKIM1; p={KEY}; p={KEY}",
    f"v=DKIM1; k=rsa; p={KEY[:200]}",
    f"v=DKIM1; k=rsa; p={rsa_key(1024)}",
    f"v=DKIM1; k=ed25519; p={ed25519_key()}",
    "v=DKIM1; k=rsa; p=",
    "v=DKIM1; k=rsa; p={KEY}",
    f"v=DKIM1; h=sha1; k=rsa; p={KEY}",
    f"v=DKIM1; s=tls; p={KEY}",
    "garbage",
]


@SETTINGS
@given(st.lists(st.sampled_from(DKIM_RECORDS), max_size=2))
def test_dkim_fixes_work_when_the_key_is_known(dns: DnsTestServer, records: list[str]) -> None:
    provider_zone(dns)
    expect = DkimExpectation("dkim:s1", f"s1._domainkey.{DOMAIN}", True, "s1", KEY)
    dns.set(expect.name, "TXT", records)
    round_trip(dns, expect)


DMARC_TAGS = [
    "p=none",
    "p=quarantine",
    "p=reject",
    "p=NONE",
    "p=sometimes",
    "sp=nothing",
    "adkim=x",
    "aspf=relaxed",
    "pct=50",
    "pct=200",
    "rua=mailto:d@shop.fix.test",
    "rua=ftp://x",
    "ruf=mailto:f@shop.fix.test",
    "fo=9",
    "t=y",
    "t=n",
    "np=reject",
    "psd=n",
    "rf=afrf",
    "ri=86400",
    "v=DMARC1",
    "bogus",
]
dmarc_records = st.lists(st.sampled_from(DMARC_TAGS), max_size=6).map(lambda t: "; ".join(["v=DMARC1", *t]))


@SETTINGS
@given(st.sampled_from(["none", "quarantine", "reject"]), st.lists(dmarc_records, max_size=2))
def test_dmarc_fixes_work(dns: DnsTestServer, min_policy: str, records: list[str]) -> None:
    provider_zone(dns)
    expect = DmarcExpectation("dmarc", f"_dmarc.{DOMAIN}", True, DOMAIN, min_policy)
    dns.set(expect.name, "TXT", records)
    round_trip(dns, expect)


MX_SETS = [
    [], ["0 ."], ["10 mx1.fix.test"], ["20 mx1.fix.test", "10 mx2.fix.test"], ["10 backup.fix.test"],
    ["10 192.0.2.25"], ["10 mx1.fix.test", "0 ."], ["5 mx2.fix.test", "50 backup.fix.test"],
    ["20 mx2.fix.test"], ["30 mx1.fix.test", "20 mx2.fix.test"],
    ["10 mx1.fix.test", "20 mx2.fix.test", "0 ."],
]  # fmt: skip


@pytest.mark.parametrize("published", MX_SETS)
def test_mx_fixes_name_every_expected_host(dns: DnsTestServer, published: list[str]) -> None:
    provider_zone(dns)
    expect = MxExpectation("receiving_mx", DOMAIN, True, (("mx1.fix.test", 10), ("mx2.fix.test", 20)))
    dns.set(DOMAIN, "MX", published)
    round_trip(dns, expect)


@pytest.mark.parametrize("published", [[], ["elsewhere.fix.test"], ["TRACK.provider.fix.test."]])
def test_tracking_fixes_work(dns: DnsTestServer, published: list[str]) -> None:
    provider_zone(dns)
    expect = TrackingExpectation("tracking", f"links.{DOMAIN}", True, "track.provider.fix.test")
    dns.set(expect.name, "CNAME", published)
    round_trip(dns, expect)


@pytest.mark.parametrize(
    "published",
    [
        [],
        ["v=TLSRPTv1"],
        ["v=TLSRPTv1; rua=ftp://x"],
        ["v=TLSRPTv1; rua=mailto:a@b.test", "v=TLSRPTv1; rua=mailto:c@d.test"],
    ],
)
def test_tls_rpt_fixes_work(dns: DnsTestServer, published: list[str]) -> None:
    provider_zone(dns)
    expect = TlsRptExpectation("tls_rpt", f"_smtp._tls.{DOMAIN}", True, (f"mailto:tls@{DOMAIN}",))
    dns.set(expect.name, "TXT", published)
    round_trip(dns, expect)


def test_the_publish_block_published_as_given_verifies(dns: DnsTestServer) -> None:
    """The domain page's block: its zone-file lines, pasted, make every record pass; its form
    rows give each host relative to the zone the negative answers named."""
    provider_zone(dns)
    dns.set("fix.test", "SOA", ["ns.fix.test. admin.fix.test. 1 3600 600 86400 300"])
    key = rsa_key(2048)
    document = {
        "name": DOMAIN,
        "sending": {"spf": {"include": [PROVIDER]}, "mx": {"host": "feedback.fix.test"},
                    "dkim": [{"selector": "s1", "public_key": key}]},
        "receiving": {"mx": [{"host": "mx1.fix.test", "priority": 10}]},
    }  # fmt: skip
    _, domain = parse_document(document)
    plan = DomainPlan.of(domain, Defaults())
    before = {r.record: r.as_dict() for r in (check(dns, e) for e in plan.expectations)}
    track, _ = reconcile(None, DOMAIN, True, plan.specs, datetime.now(UTC))
    view = domain_view(track, plan, before)
    rows = {(row["host"], row["type"]) for row in publish_rows(view)}
    assert {("send.shop", "TXT"), ("send.shop", "MX"), ("s1._domainkey.shop", "TXT"), ("shop", "MX")} <= rows
    assert {"fix.test"} == {row["zone"] for row in publish_rows(view)}
    dns.publish(zone_block(view))
    after = [check(dns, e) for e in plan.expectations if e.required]
    assert [RecordState.PRESENT] * len(after) == [r.state for r in after]
