"""A record that does not start with its version tag (`" v=DMARC1; p=reject"`): receivers
discard it, so it is `wrong` with `txt_value_whitespace`, says what applies instead, and its fix,
published as given into the DNS test server, makes the record pass. DKIM tag-lists allow
leading whitespace (RFC 6376 §3.2): such a key stays `present`."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from domainwatch.checks.base import Expectation
from domainwatch.checks.kinds.dkim.kind import DkimExpectation
from domainwatch.checks.kinds.dmarc.kind import DmarcExpectation
from domainwatch.checks.kinds.spf.kind import SpfExpectation
from domainwatch.checks.kinds.tls_rpt import TlsRptExpectation
from domainwatch.checks.running.runner import check_records
from domainwatch.dns.fast.transport import FastResolver
from domainwatch.dns.resolver import Nameserver, Resolver
from domainwatch.model import RecordResult, RecordState, Severity
from domainwatch.testing import DnsTestServer
from tests.keys import rsa_key

ZONE = "padded.test"
DOMAIN = f"shop.{ZONE}"
SPF = SpfExpectation("spf", f"send.{DOMAIN}", True, ("provider.test",))
DMARC = DmarcExpectation("dmarc", f"_dmarc.{DOMAIN}", True, DOMAIN, "none")
DMARC_REJECT = DmarcExpectation("dmarc", f"_dmarc.{DOMAIN}", True, DOMAIN, "reject")
TLSRPT = TlsRptExpectation("tls_rpt", f"_smtp._tls.{DOMAIN}", True, (f"mailto:tls@{DOMAIN}",))


@pytest.fixture
async def dns(dns_server: DnsTestServer) -> AsyncIterator[Resolver]:
    dns_server.set(ZONE, "SOA", [f"ns.{ZONE}. hostmaster.{ZONE}. 1 3600 600 86400 300"])
    dns_server.set("provider.test", "TXT", ["v=spf1 ip4:198.51.100.0/24 -all"])
    resolver = FastResolver([Nameserver("127.0.0.1", dns_server.port)], timeout=0.5, attempts=2)
    yield resolver
    await resolver.aclose()


async def check(resolver: Resolver, expect: Expectation) -> RecordResult:
    return (await check_records([expect], resolver))[0]


CASES = [
    (SPF, " v=spf1 include:provider.test ~all", "nothing"),
    (SPF, "  v=spf1 ip4:192.0.2.1 -all", "nothing"),  # the fix also adds the provider
    (DMARC, " v=DMARC1; p=reject", "no DMARC policy"),
    (DMARC_REJECT, "\tv=DMARC1; p=none", "no DMARC policy"),  # the fix raises the policy too
    (TLSRPT, f" v=TLSRPTv1; rua=mailto:tls@{DOMAIN}", "nothing"),
]


@pytest.mark.parametrize(("expect", "value", "instead"), CASES)
async def test_a_padded_record_is_wrong_and_its_fix_works(
    dns_server: DnsTestServer, dns: Resolver, expect: Expectation, value: str, instead: str
) -> None:
    dns_server.set(expect.name, "TXT", [value])
    before = await check(dns, expect)
    assert RecordState.WRONG == before.state, before
    first = before.findings[0]
    assert ("txt_value_whitespace", Severity.ERROR) == (first.code.value, first.severity)
    assert f"what applies instead is {instead}" in first.message
    assert 1 == [f.code.value for f in before.findings].count("txt_value_whitespace")
    assert first.remediation is not None
    dns_server.set(first.remediation.name, "TXT", [first.remediation.value])
    after = await check(dns, expect)
    assert (RecordState.PRESENT, []) == (
        after.state,
        [f.code.value for f in after.findings if f.severity is Severity.ERROR],
    ), after


async def test_a_padded_dmarc_record_names_the_parent_policy_that_applies(
    dns_server: DnsTestServer, dns: Resolver
) -> None:
    """The tree walk finds the organisational domain's record: that policy applies instead."""
    dns_server.set(f"_dmarc.{DOMAIN}", "TXT", [" v=DMARC1; p=reject"])
    dns_server.set(f"_dmarc.{ZONE}", "TXT", ["v=DMARC1; p=quarantine"])
    result = await check(dns, DMARC)
    assert RecordState.WRONG == result.state
    assert f"what applies instead is quarantine, the policy of _dmarc.{ZONE}" in result.findings[0].message
    assert "quarantine" == result.facts["dmarc_policy"]


async def test_a_padded_record_beside_a_proper_one_is_ignored(
    dns_server: DnsTestServer, dns: Resolver
) -> None:
    """Receivers select the proper record; the padded one changes nothing."""
    dns_server.set(SPF.name, "TXT", ["v=spf1 include:provider.test ~all", " v=spf1 -all"])
    assert RecordState.PRESENT == (await check(dns, SPF)).state


async def test_a_dkim_key_with_leading_whitespace_stays_present(
    dns_server: DnsTestServer, dns: Resolver
) -> None:
    expect = DkimExpectation("dkim:s1", f"s1._domainkey.{DOMAIN}", True, "s1")
    dns_server.set(expect.name, "TXT", [f" v=DKIM1; k=rsa; p={rsa_key(2048)}"])
    assert RecordState.PRESENT == (await check(dns, expect)).state
