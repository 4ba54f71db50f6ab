"""Not verifying? Each diagnosis against the DNS test server: found when the mistake is there,
never for a correct record, and no extra query for a healthy one."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from domainwatch.checks.base import Expectation
from domainwatch.checks.diagnoses.mistakes import MISTAKES
from domainwatch.checks.kinds.dkim.kind import DkimExpectation
from domainwatch.checks.kinds.dmarc.kind import DmarcExpectation
from domainwatch.checks.kinds.mx import MxExpectation
from domainwatch.checks.kinds.spf.kind import SpfExpectation
from domainwatch.checks.kinds.tls_rpt import TlsRptExpectation
from domainwatch.checks.kinds.tracking import TrackingExpectation
from domainwatch.checks.running.runner import check_records
from domainwatch.dns.fast.transport import FastResolver
from domainwatch.dns.resolver import Nameserver, Resolver
from domainwatch.model import RecordResult, RecordState
from domainwatch.testing import DnsTestServer
from tests.keys import rsa_key

ZONE = "example.test"
DOMAIN = f"updates.{ZONE}"
KEY = rsa_key(2048)
SPF = "v=spf1 include:provider.test ~all"
SPF_EXPECT = SpfExpectation("spf", f"send.{DOMAIN}", True, ("provider.test",))
DKIM_EXPECT = DkimExpectation("dkim:s1", f"s1._domainkey.{DOMAIN}", True, "s1", KEY)
DMARC_EXPECT = DmarcExpectation("dmarc", f"_dmarc.{DOMAIN}", True, DOMAIN, "none")
RP_MX = MxExpectation("return_path_mx", f"send.{DOMAIN}", True, (("feedback.provider.test", 10),))
TRACKING = TrackingExpectation("tracking", f"links.{DOMAIN}", True, "track.provider.test")
TLSRPT = TlsRptExpectation("tls_rpt", f"_smtp._tls.{DOMAIN}", True, (f"mailto:tls@{DOMAIN}",))


@pytest.fixture
async def dns(dns_server: DnsTestServer) -> AsyncIterator[Resolver]:
    dns_server.set(ZONE, "SOA", [f"ns.{ZONE}. hostmaster.{ZONE}. 1 3600 600 86400 300"])
    dns_server.set("provider.test", "TXT", ["v=spf1 ip4:198.51.100.0/24 -all"])
    dns_server.set("feedback.provider.test", "A", ["192.0.2.25"])
    resolver = FastResolver([Nameserver("127.0.0.1", dns_server.port)], timeout=0.5, attempts=2)
    yield resolver
    await resolver.aclose()


async def check(resolver: Resolver, expect: Expectation) -> RecordResult:
    return (await check_records([expect], resolver))[0]


def diagnoses(result: RecordResult) -> list[str]:
    return [f.code.value for f in result.findings if f.code in MISTAKES]


CASES = [
    # (expectation, where the mistake is published, type, value, the diagnosis)
    (SPF_EXPECT, f"send.{DOMAIN}.{ZONE}", "TXT", SPF, "published_at_doubled_name"),
    (SPF_EXPECT, DOMAIN, "TXT", SPF, "published_at_wrong_name"),
    (SPF_EXPECT, f"send.{DOMAIN}", "TXT", f'"{SPF}"', "txt_value_quoted"),
    (SPF_EXPECT, f"send.{DOMAIN}", "TXT", f" {SPF}", "txt_value_whitespace"),
    (DKIM_EXPECT, f"s1._domainkey.{DOMAIN}.{ZONE}", "TXT", f"p={KEY}", "published_at_doubled_name"),
    (DKIM_EXPECT, f"s1._domainkey.{ZONE}", "TXT", f"v=DKIM1; k=rsa; p={KEY}", "published_at_wrong_name"),
    (DKIM_EXPECT, f"s1.domainkey.{DOMAIN}", "TXT", f"v=DKIM1; k=rsa; p={KEY}", "published_at_wrong_name"),
    (DKIM_EXPECT, f"s1._domainkey.{DOMAIN}", "TXT", f"v=DKIM1; k=rsa; p={KEY[:230]}", "dkim_key_truncated"),
    # Cut where one TXT string ends (255 characters), in both usual forms.
    (DKIM_EXPECT, f"s1._domainkey.{DOMAIN}", "TXT", f"p={KEY}"[:255], "dkim_key_truncated"),
    (DKIM_EXPECT, f"s1._domainkey.{DOMAIN}", "TXT", f"v=DKIM1; k=rsa; p={KEY}"[:255], "dkim_key_truncated"),
    (TLSRPT, f"_smtp._tls.{DOMAIN}", "TXT", f" v=TLSRPTv1; rua=mailto:tls@{DOMAIN}", "txt_value_whitespace"),
    (DMARC_EXPECT, f"dmarc.{DOMAIN}", "TXT", "v=DMARC1; p=none", "published_at_wrong_name"),
    (DMARC_EXPECT, f"_dmarc.{DOMAIN}.{ZONE}", "TXT", "v=DMARC1; p=none", "published_at_doubled_name"),
    (RP_MX, DOMAIN, "MX", "10 feedback.provider.test", "published_at_wrong_name"),
    (RP_MX, f"send.{DOMAIN}.{ZONE}", "MX", "10 feedback.provider.test", "published_at_doubled_name"),
    (TRACKING, f"links.{DOMAIN}", "A", "192.0.2.80", "cname_flattened_or_proxied"),
    (TRACKING, f"links.{DOMAIN}.{ZONE}", "CNAME", "track.provider.test", "published_at_doubled_name"),
    (TLSRPT, f"_smtp._tls.{DOMAIN}.{ZONE}", "TXT", "v=TLSRPTv1; rua=mailto:t@x", "published_at_doubled_name"),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES)
async def test_each_mistake_is_found(
    dns_server: DnsTestServer, dns: Resolver, case: tuple[Expectation, str, str, str, str]
) -> None:
    expect, owner, rdtype, value, code = case
    dns_server.set(owner, rdtype, [value])
    result = await check(dns, expect)
    assert result.state in (RecordState.MISSING, RecordState.WRONG)
    assert code in diagnoses(result), result
    assert code == result.findings[0].code.value  # the diagnosis first


async def test_a_cname_in_the_way_of_a_txt_record(dns_server: DnsTestServer, dns: Resolver) -> None:
    dns_server.set(f"_dmarc.{DOMAIN}", "CNAME", ["elsewhere.provider.test"])
    dns_server.set("elsewhere.provider.test", "A", ["192.0.2.1"])
    result = await check(dns, DMARC_EXPECT)
    assert "cname_conflict" in diagnoses(result)


HEALTHY = [
    (SPF_EXPECT, f"send.{DOMAIN}", "TXT", SPF),
    (DKIM_EXPECT, f"s1._domainkey.{DOMAIN}", "TXT", f"v=DKIM1; k=rsa; p={KEY}"),
    (DMARC_EXPECT, f"_dmarc.{DOMAIN}", "TXT", "v=DMARC1; p=none; rua=mailto:d@updates.example.test"),
    (RP_MX, f"send.{DOMAIN}", "MX", "10 feedback.provider.test"),
    (TRACKING, f"links.{DOMAIN}", "CNAME", "track.provider.test"),
    (TLSRPT, f"_smtp._tls.{DOMAIN}", "TXT", f"v=TLSRPTv1; rua=mailto:tls@{DOMAIN}"),
]


@pytest.mark.parametrize("case", HEALTHY)
async def test_a_correct_record_gets_no_diagnosis_and_costs_no_extra_query(
    dns_server: DnsTestServer, dns: Resolver, case: tuple[Expectation, str, str, str]
) -> None:
    expect, owner, rdtype, value = case
    dns_server.set(owner, rdtype, [value])
    result = await check(dns, expect)
    assert RecordState.PRESENT == result.state, result
    assert [] == diagnoses(result)
    assert [] == [q for q in dns_server.asked if _diagnosis_name(q[0], expect)]
    # The same check of the record missing does ask them.
    dns_server.remove(owner)
    await check(dns, expect)
    assert [q for q in dns_server.asked if _diagnosis_name(q[0], expect)]


def _diagnosis_name(name: str, expect: Expectation) -> bool:
    """A name only a diagnosis asks about: doubled, the domain instead of the return path,
    the parent domain, or without the underscore."""
    near = {
        DOMAIN if expect.name.startswith("send.") else "",
        f"s1._domainkey.{ZONE}",
        f"s1.domainkey.{DOMAIN}",
    }
    return name.endswith(f".{ZONE}.{ZONE}") or name in near or name.startswith("dmarc.")


async def test_a_zone_without_soa_asks_no_doubled_name(dns_server: DnsTestServer, dns: Resolver) -> None:
    """No public-suffix guess: without the zone from the SOA, no doubled name is looked for."""
    dns_server.remove(ZONE, "SOA")
    dns_server.set(f"send.{DOMAIN}.{ZONE}", "TXT", [SPF])
    result = await check(dns, SPF_EXPECT)
    assert "published_at_doubled_name" not in diagnoses(result)
