"""The dnspython resolver against the package's DNS test server, over real UDP and TCP."""

from __future__ import annotations

import pytest

from domainwatch.dns.batch import resolve_all
from domainwatch.dns.dnspython_resolver import DnsPythonResolver
from domainwatch.dns.fast.transport import FastResolver
from domainwatch.dns.resolver import Nameserver, Outcome, Query, Resolver
from domainwatch.testing import Behaviour, DnsTestServer

NAME = "send.example.com"


async def test_answer_over_udp(dns_server: DnsTestServer, resolver: Resolver) -> None:
    """A published TXT record comes back as published, over UDP."""
    dns_server.set(NAME, "TXT", ["v=spf1 include:amazonses.com ~all"])
    lookup = await resolver.resolve(Query.of(NAME, "TXT"))
    assert (Outcome.ANSWER, ("v=spf1 include:amazonses.com ~all",)) == (lookup.outcome, lookup.records)
    assert 0 == dns_server.tcp_queries_seen


async def test_nxdomain_and_nodata_are_distinguished(dns_server: DnsTestServer, resolver: Resolver) -> None:
    """A name with other types is NODATA; an unknown name is NXDOMAIN."""
    dns_server.set(NAME, "MX", ["10 mx.example.net."])
    assert Outcome.NODATA == (await resolver.resolve(Query.of(NAME, "TXT"))).outcome
    assert Outcome.NXDOMAIN == (await resolver.resolve(Query.of("other.example.com", "TXT"))).outcome


async def test_empty_non_terminal_is_nodata(dns_server: DnsTestServer, resolver: Resolver) -> None:
    """_domainkey.example.com exists when a selector below it does."""
    dns_server.set("s1._domainkey.example.com", "TXT", ["p=abc"])
    assert Outcome.NODATA == (await resolver.resolve(Query.of("_domainkey.example.com", "TXT"))).outcome


async def test_changes_are_seen_immediately(dns_server: DnsTestServer, resolver: Resolver) -> None:
    """Tests may change the records at any time; there is no cache in the resolver."""
    dns_server.set(NAME, "TXT", ["v=spf1 -all"])
    assert Outcome.ANSWER == (await resolver.resolve(Query.of(NAME, "TXT"))).outcome
    dns_server.remove(NAME)
    assert Outcome.NXDOMAIN == (await resolver.resolve(Query.of(NAME, "TXT"))).outcome


async def test_truncated_udp_answer_is_retried_over_tcp(
    dns_server: DnsTestServer, resolver: Resolver
) -> None:
    """TC=1 over UDP makes the resolver ask again over TCP and get the full answer."""
    dns_server.set(NAME, "TXT", ["v=spf1 include:amazonses.com ~all"])
    dns_server.behave(NAME, Behaviour.TRUNCATE)
    lookup = await resolver.resolve(Query.of(NAME, "TXT"))
    assert (Outcome.ANSWER, 1) == (lookup.outcome, dns_server.tcp_queries_seen)


async def test_answer_too_big_for_udp_goes_over_tcp(dns_server: DnsTestServer, resolver: Resolver) -> None:
    """An answer over the EDNS payload size is truncated by the server and fetched over TCP."""
    records = [f"v=verification-{n:04d}-" + "x" * 200 for n in range(10)]
    dns_server.set(NAME, "TXT", records)
    lookup = await resolver.resolve(Query.of(NAME, "TXT"))
    assert (10, 1) == (len(lookup.records), dns_server.tcp_queries_seen)


async def test_long_txt_record_is_joined(dns_server: DnsTestServer, resolver: Resolver) -> None:
    """A 600-octet record is served as three strings and read back as one."""
    text = "v=spf1 " + " ".join(f"ip4:192.0.2.{n}" for n in range(50)) + " -all"
    dns_server.set(NAME, "TXT", [text])
    assert (text,) == (await resolver.resolve(Query.of(NAME, "TXT"))).records


@pytest.mark.parametrize(
    ("behaviour", "outcome"),
    [
        (Behaviour.SILENT, Outcome.TIMEOUT),
        (Behaviour.SERVFAIL, Outcome.SERVFAIL),
        (Behaviour.REFUSED, Outcome.REFUSED),
        (Behaviour.MALFORMED, Outcome.MALFORMED),
    ],
)
async def test_failures_are_classified(
    dns_server: DnsTestServer, resolver: Resolver, behaviour: Behaviour, outcome: Outcome
) -> None:
    """Silence, SERVFAIL, REFUSED and garbage each get their own outcome, never NXDOMAIN."""
    dns_server.set(NAME, "TXT", ["v=spf1 -all"])
    dns_server.behave(NAME, behaviour)
    assert outcome == (await resolver.resolve(Query.of(NAME, "TXT"))).outcome


async def test_servfail_is_retried_per_attempt(dns_server: DnsTestServer) -> None:
    """attempts: 3 asks three times before giving up on SERVFAIL."""
    dns_server.behave(NAME, Behaviour.SERVFAIL)
    resolver = DnsPythonResolver([Nameserver("127.0.0.1", dns_server.port)], timeout=0.3, attempts=3)
    await resolver.resolve(Query.of(NAME, "TXT"))
    assert 3 == dns_server.queries_seen


async def test_second_nameserver_answers_when_first_is_silent(dns_server: DnsTestServer) -> None:
    """A silent first nameserver costs a timeout; the second one's answer is used."""
    dns_server.set(NAME, "TXT", ["v=spf1 -all"])
    async with DnsTestServer() as silent:
        silent.behave(NAME, Behaviour.SILENT)
        resolver = DnsPythonResolver(
            [Nameserver("127.0.0.1", silent.port), Nameserver("127.0.0.1", dns_server.port)],
            timeout=0.2,
            attempts=1,
        )
        assert Outcome.ANSWER == (await resolver.resolve(Query.of(NAME, "TXT"))).outcome


async def test_nothing_listening_is_not_missing() -> None:
    """No server at all is an error (timeout or network), never NXDOMAIN."""
    async with DnsTestServer() as gone:
        port = gone.port
    resolver = DnsPythonResolver([Nameserver("127.0.0.1", port)], timeout=0.2, attempts=1)
    assert (await resolver.resolve(Query.of(NAME, "TXT"))).outcome.is_error


async def test_a_batch_answers_each_query_as_it_would_alone(
    dns_server: DnsTestServer, resolver: Resolver
) -> None:
    """resolve_all (the runner's batch: one for the fast transport, a task each otherwise)
    classifies every query of a mixed batch as a lone resolve does, in order."""
    dns_server.set(NAME, "TXT", ["v=spf1 -all"])
    dns_server.set("big.example.com", "TXT", ["v=spf1 -all"])
    dns_server.behave("big.example.com", Behaviour.TRUNCATE)
    dns_server.set("mx.example.com", "MX", ["10 in.example.com."])
    dns_server.behave("broken.example.com", Behaviour.SERVFAIL)
    queries = [
        Query.of(NAME, "TXT"),
        Query.of("big.example.com", "TXT"),
        Query.of("nothing.example.com", "TXT"),
        Query.of("broken.example.com", "TXT"),
        Query.of("mx.example.com", "MX"),
        Query.of(NAME, "TXT"),  # asked twice in one batch: two answers
    ]
    together = await resolve_all(resolver, queries)
    alone = [await resolver.resolve(q) for q in queries]
    assert [(x.query, x.outcome, x.records) for x in together] == [
        (x.query, x.outcome, x.records) for x in alone
    ]
    assert [x.outcome for x in together] == [
        Outcome.ANSWER,
        Outcome.ANSWER,
        Outcome.NXDOMAIN,
        Outcome.SERVFAIL,
        Outcome.ANSWER,
        Outcome.ANSWER,
    ]


async def test_in_a_batch_only_the_unanswered_move_on_to_the_next_nameserver(
    dns_server: DnsTestServer,
) -> None:
    """The fast transport's batch: what the silent first server drops goes to the second; each
    query's own outcome decides, not the batch's."""
    dns_server.set(NAME, "TXT", ["v=spf1 -all"])
    dns_server.set("other.example.com", "TXT", ["v=spf1 ~all"])
    async with DnsTestServer() as flaky:
        flaky.set("other.example.com", "TXT", ["v=spf1 ~all"])
        flaky.behave(NAME, Behaviour.SILENT)
        fast = FastResolver(
            [Nameserver("127.0.0.1", flaky.port), Nameserver("127.0.0.1", dns_server.port)],
            timeout=0.2,
            attempts=1,
        )
        try:
            first, second = await fast.resolve_many(
                [Query.of(NAME, "TXT"), Query.of("other.example.com", "TXT")]
            )
        finally:
            await fast.aclose()
    assert (first.outcome, first.server) == (Outcome.ANSWER, f"127.0.0.1:{dns_server.port}")
    assert (second.outcome, second.server) == (Outcome.ANSWER, f"127.0.0.1:{flaky.port}")
    assert dns_server.queries_seen == 1
