"""DNSSEC through a real validating resolver: Unbound in front of Knot DNS, a zone signed by
Knot's automatic signing. A sound chain validates (AD, signature expiry); a DS that matches no
key, or signatures that expired, make the resolver answer SERVFAIL: `dnssec_bogus`, saying why,
an error (never a miss). The DS fix, published as given, makes the record validate."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

from domainwatch.checks.kinds.dkim.kind import DkimExpectation
from domainwatch.checks.running.runner import check_domain
from domainwatch.config.schema import ResolverConfig
from domainwatch.dns.fast.transport import FastResolver
from domainwatch.dns.resolver import Nameserver
from domainwatch.model import RecordResult, RecordState
from domainwatch.testing import Behaviour, DnsTestServer
from tests.integration.dnssec_lab import CHILD, NAME, Lab

EXPECT = DkimExpectation("dkim:s1", NAME, True, "s1")
# A DS for the child made from a key it never had (tag, algorithm, digest type, digest).
STRANGER_DS = "4242 13 2 " + "AB" * 32


async def check(port: int) -> RecordResult:
    settings = ResolverConfig(nameservers=[f"127.0.0.1:{port}"], timeout=timedelta(seconds=2), attempts=1)
    resolver = FastResolver([Nameserver("127.0.0.1", port)], timeout=2, attempts=1, dnssec_ok=True)
    try:
        (result,) = (await check_domain(CHILD, [EXPECT], resolver, settings)).records
    finally:
        await resolver.aclose()
    return result


def codes(result: RecordResult) -> list[str]:
    return [f.code.value for f in result.findings]


async def test_a_sound_chain_validates_with_its_signature_expiry(tmp_path: Path) -> None:
    lab = Lab(tmp_path)
    ds = lab.learn_child_ds()
    with lab.serve(ds) as port:
        result = await check(port)
    assert (RecordState.PRESENT, []) == (result.state, codes(result))
    assert 1 == result.facts["dnssec_validated"]
    expire = result.facts["signatures_expire"]
    assert isinstance(expire, int)
    assert time.time() + 86400 < expire < time.time() + 60 * 86400  # Knot's default: 14 days


async def test_an_insecure_delegation_is_present_and_not_validated(tmp_path: Path) -> None:
    with Lab(tmp_path).serve(None) as port:
        result = await check(port)
    assert (RecordState.PRESENT, []) == (result.state, codes(result))
    assert 0 == result.facts["dnssec_validated"]


async def test_a_ds_matching_no_key_is_bogus_and_its_fix_validates(tmp_path: Path) -> None:
    lab = Lab(tmp_path)
    ds = lab.learn_child_ds()
    with lab.serve(STRANGER_DS) as port:
        result = await check(port)
    assert RecordState.ERROR == result.state  # never a miss, and no status change
    bogus = result.findings[0]
    assert "dnssec_bogus" == bogus.code.value
    assert "match none of its keys" in bogus.message
    assert "4242 13 2" in bogus.message
    assert bogus.remediation is not None
    fix = bogus.remediation
    assert (CHILD, "DS", ds.upper()) == (fix.name, fix.type, fix.value.upper())  # hex: either case
    with lab.serve(bogus.remediation.value) as port:  # published at the parent, as given
        fixed = await check(port)
    assert (RecordState.PRESENT, [], 1) == (fixed.state, codes(fixed), fixed.facts["dnssec_validated"])


async def test_expired_signatures_are_bogus_saying_when(tmp_path: Path) -> None:
    lab = Lab(tmp_path, expired=True)
    ds = lab.learn_child_ds()
    with lab.serve(ds) as port:
        result = await check(port)
    assert RecordState.ERROR == result.state
    bogus = result.findings[0]
    assert "dnssec_bogus" == bogus.code.value
    assert f"by {CHILD} expired at" in bogus.message
    assert bogus.remediation is None  # re-signing is the signer's job: no record fixes it


async def test_a_servfail_that_checking_disabled_does_not_cure_is_not_dnssec(
    dns_server: DnsTestServer,
) -> None:
    """A server failing whatever the CD bit says: a lookup error, one more question, no diagnosis."""
    dns_server.behave(NAME, Behaviour.SERVFAIL)
    result = await check(dns_server.port)
    assert RecordState.ERROR == result.state
    assert "dnssec_bogus" not in codes(result)
    assert 2 == sum(1 for name, _ in dns_server.asked if name == NAME)  # the check's, and the CD one
