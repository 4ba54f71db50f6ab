"""A record the recursive resolver still says is missing (a cached negative answer), while every
authoritative server of its zone publishes it: `not_yet_visible`, an error, never a miss."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from domainwatch.checks.kinds.dkim.kind import DkimExpectation
from domainwatch.checks.running.runner import check_domain
from domainwatch.config.schema import ResolverConfig
from domainwatch.dns.fast.transport import FastResolver
from domainwatch.dns.resolver import Nameserver
from domainwatch.model import RecordState
from domainwatch.testing import DnsTestServer
from tests.integration.daemons import free_port
from tests.keys import rsa_key

ZONE = "example.test"
NAME = f"s1._domainkey.updates.{ZONE}"
RECORD = f"v=DKIM1; k=rsa; p={rsa_key(2048)}"
EXPECT = DkimExpectation("dkim:s1", NAME, True, "s1")
SOA = [f"ns1.{ZONE}. hostmaster.{ZONE}. 1 3600 600 86400 300"]


@pytest.fixture
async def authoritative() -> AsyncIterator[DnsTestServer]:
    """The zone's own server, on 127.0.0.5 (the port domainwatch's authoritative_port names)."""
    async with DnsTestServer(host="127.0.0.5", port=free_port("127.0.0.5")) as server:
        server.set(ZONE, "SOA", SOA)
        yield server


def recursive_view(recursive: DnsTestServer) -> None:
    """What the recursive resolver answers: the zone's NS and SOA, and (cached) no record."""
    recursive.set(ZONE, "SOA", SOA)
    recursive.set(ZONE, "NS", [f"ns1.{ZONE}."])
    recursive.set(f"ns1.{ZONE}", "A", ["127.0.0.5"])


async def check(recursive: DnsTestServer, authoritative: DnsTestServer) -> tuple[RecordState, list[str]]:
    settings = ResolverConfig(
        nameservers=[recursive.address],
        timeout=timedelta(milliseconds=500),
        attempts=1,
        authoritative_port=authoritative.port,
        allow_private_nameservers=True,
    )
    resolver = FastResolver([Nameserver("127.0.0.1", recursive.port)], timeout=0.5, attempts=1)
    try:
        (result,) = (await check_domain("updates.example.test", [EXPECT], resolver, settings)).records
    finally:
        await resolver.aclose()
    return result.state, [f.code.value for f in result.findings]


async def test_published_everywhere_but_not_yet_seen_is_an_error_saying_when(
    dns_server: DnsTestServer, authoritative: DnsTestServer
) -> None:
    recursive_view(dns_server)
    authoritative.set(NAME, "TXT", [RECORD])
    state, codes = await check(dns_server, authoritative)
    assert (RecordState.ERROR, ["not_yet_visible"]) == (state, codes)
    asked = len(authoritative.asked)
    assert 1 <= asked <= 2  # the record's own question on its one server


async def test_missing_everywhere_is_missing(dns_server: DnsTestServer, authoritative: DnsTestServer) -> None:
    recursive_view(dns_server)
    state, codes = await check(dns_server, authoritative)
    assert RecordState.MISSING == state
    assert "not_yet_visible" not in codes


async def test_a_present_record_takes_no_second_look(
    dns_server: DnsTestServer, authoritative: DnsTestServer
) -> None:
    recursive_view(dns_server)
    dns_server.set(NAME, "TXT", [RECORD])
    authoritative.set(NAME, "TXT", [RECORD])
    state, _ = await check(dns_server, authoritative)
    assert RecordState.PRESENT == state
    assert [] == authoritative.asked
