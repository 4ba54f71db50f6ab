"""Authoritative mode, a record not on every nameserver: is the zone delegated as it says? The
parent zone is a real Knot DNS; the zone's own servers are test servers on other loopback
addresses, on the same port (the one `authoritative_port` names)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from domainwatch.checks.kinds.dkim.kind import DkimExpectation
from domainwatch.checks.running.runner import check_domain
from domainwatch.config.schema import ResolverConfig
from domainwatch.dns.fast.transport import FastResolver
from domainwatch.dns.resolver import Nameserver
from domainwatch.model import RecordResult, RecordState
from domainwatch.testing import DnsTestServer
from tests.integration.knot import knot_server
from tests.keys import rsa_key

PARENT, ZONE = "shop.test", "acme.shop.test"
NAME = f"s1._domainkey.{ZONE}"
RECORD = f"v=DKIM1; k=rsa; p={rsa_key(2048)}"
EXPECT = DkimExpectation("dkim:s1", NAME, True, "s1")
KNOT, NS1, NS2 = "127.0.0.30", "127.0.0.21", "127.0.0.22"


def parent_zone(delegated_to: list[str]) -> str:
    """The parent zone file: Knot serves it on KNOT, delegating ZONE to `delegated_to`."""
    cut = "".join(f"acme IN NS {host}.\n" for host in delegated_to)
    return (
        f"$ORIGIN {PARENT}.\n$TTL 300\n"
        f"@ IN SOA ns.{PARENT}. hostmaster.{PARENT}. 1 3600 600 86400 300\n"
        f"@ IN NS ns.{PARENT}.\nns IN A {KNOT}\n{cut}"
        f"ns1.acme IN A {NS1}\nns2.acme IN A {NS2}\nns9.acme IN A 127.0.0.29\n"
    )


def recursive_view(recursive: DnsTestServer, ns2_address: str) -> None:
    """What the recursive resolver answers: the parent's and the zone's NS, their addresses."""
    recursive.set(PARENT, "NS", [f"ns.{PARENT}."])
    recursive.set(f"ns.{PARENT}", "A", [KNOT])
    recursive.set(ZONE, "NS", [f"ns1.{ZONE}.", f"ns2.{ZONE}."])
    recursive.set(ZONE, "SOA", [f"ns1.{ZONE}. hostmaster.{ZONE}. 1 3600 600 86400 300"])
    recursive.set(f"ns1.{ZONE}", "A", [NS1])
    recursive.set(f"ns2.{ZONE}", "A", [ns2_address])


def own_server(address: str, port: int) -> DnsTestServer:
    server = DnsTestServer(host=address, port=port)
    server.set(ZONE, "SOA", [f"ns1.{ZONE}. hostmaster.{ZONE}. 1 3600 600 86400 300"])
    server.set(ZONE, "NS", [f"ns1.{ZONE}.", f"ns2.{ZONE}."])
    return server


@pytest.fixture
def knot(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[int]:
    delegated_to: list[str] = request.param
    with knot_server(tmp_path, {PARENT: parent_zone(delegated_to)}, address=KNOT) as port:
        yield port


async def check(recursive: DnsTestServer, port: int) -> RecordResult:
    settings = ResolverConfig(
        nameservers=[recursive.address],
        timeout=timedelta(milliseconds=500),
        attempts=1,
        mode="authoritative",
        authoritative_port=port,
        allow_private_nameservers=True,
    )
    resolver = FastResolver([Nameserver("127.0.0.1", recursive.port)], timeout=0.5, attempts=1)
    try:
        (result,) = (await check_domain(ZONE, [EXPECT], resolver, settings)).records
    finally:
        await resolver.aclose()
    return result


def messages(result: RecordResult, code: str) -> list[str]:
    return [f.message for f in result.findings if f.code.value == code]


@pytest.mark.parametrize("knot", [[f"ns1.{ZONE}", f"ns9.{ZONE}"]], indirect=True)
async def test_a_lame_server_and_a_parent_delegating_elsewhere_are_named(
    dns_server: DnsTestServer, knot: int
) -> None:
    # ns2 points at the parent's server, which answers for the zone only with a referral.
    recursive_view(dns_server, ns2_address=KNOT)
    async with own_server(NS1, knot) as ns1:
        ns1.set(NAME, "TXT", [RECORD])
        result = await check(dns_server, knot)
    found = messages(result, "delegation_mismatch")
    assert [RecordState.PRESENT, RecordState.ERROR] == [view.state for view in result.servers]
    assert 2 == len(found), result.findings
    lame, mismatch = sorted(found, key=lambda m: "parent zone" in m)
    assert f"ns2.{ZONE} ({KNOT})" in lame
    assert "lame delegation" in lame
    assert f"delegates {ZONE} to ns1.{ZONE}, ns9.{ZONE}" in mismatch
    assert f"itself lists ns1.{ZONE}, ns2.{ZONE}" in mismatch


@pytest.mark.parametrize("knot", [[f"ns1.{ZONE}", f"ns2.{ZONE}"]], indirect=True)
async def test_a_sound_delegation_adds_nothing_and_the_count_names_the_servers(
    dns_server: DnsTestServer, knot: int
) -> None:
    recursive_view(dns_server, ns2_address=NS2)
    async with own_server(NS1, knot) as ns1, own_server(NS2, knot):
        ns1.set(NAME, "TXT", [RECORD])
        result = await check(dns_server, knot)
    assert [] == messages(result, "delegation_mismatch")
    (disagree,) = messages(result, "nameservers_disagree")
    assert f"published on 1 of 2 nameservers (has: ns1.{ZONE} ({NS1}); lacks: ns2.{ZONE} ({NS2}))" == disagree


@pytest.mark.parametrize("knot", [[f"ns1.{ZONE}", f"ns9.{ZONE}"]], indirect=True)
async def test_a_record_on_every_server_asks_nothing_about_the_delegation(
    dns_server: DnsTestServer, knot: int
) -> None:
    recursive_view(dns_server, ns2_address=NS2)
    async with own_server(NS1, knot) as ns1, own_server(NS2, knot) as ns2:
        ns1.set(NAME, "TXT", [RECORD])
        ns2.set(NAME, "TXT", [RECORD])
        result = await check(dns_server, knot)
        asked_of_ns1 = list(ns1.asked)
    assert RecordState.PRESENT == result.state
    assert not any(name == PARENT for name, _ in dns_server.asked)
    assert not any(rdtype == "SOA" for _, rdtype in asked_of_ns1)
