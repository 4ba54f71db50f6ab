"""SharedLookups: third-party answers shared between domains, never a domain's own, never stale."""

from __future__ import annotations

import asyncio

from domainwatch.dns.cache import PassCache, SharedLookups
from domainwatch.dns.resolver import Lookup, Outcome, Query
from domainwatch.testing import FakeResolver

PROVIDER = Query("spf.provider.example", "TXT")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def fixture() -> tuple[FakeResolver, Clock, SharedLookups]:
    resolver = FakeResolver(
        {
            ("spf.provider.example", "TXT"): ["v=spf1 ip4:192.0.2.0/24 -all"],
            ("a.example", "TXT"): ["v=spf1 include:spf.provider.example -all"],
            ("broken.provider.example", "TXT"): Outcome.SERVFAIL,
        }
    )
    clock = Clock()
    return resolver, clock, SharedLookups(resolver, clock, max_age=30)


async def test_provider_record_is_asked_once_for_many_domains() -> None:
    resolver, _, shared = fixture()
    for n in range(5):
        lookup = await shared.for_domain(f"d{n}.example").resolve(PROVIDER)
        assert lookup.records == ("v=spf1 ip4:192.0.2.0/24 -all",)
    assert resolver.asked.count(PROVIDER) == 1
    assert shared.hits == 4


async def test_the_checked_domains_own_names_always_go_to_dns() -> None:
    resolver, _, shared = fixture()
    own = Query("a.example", "TXT")
    below = Query("_dmarc.a.example", "TXT")
    for _ in range(3):
        await shared.for_domain("a.example").resolve(own)
        await shared.for_domain("a.example").resolve(below)
    assert resolver.asked.count(own) == 3
    assert resolver.asked.count(below) == 3


async def test_a_domains_name_is_shared_when_another_domain_asks_for_it() -> None:
    """a.example is third-party data for b.example (say, include:a.example)."""
    resolver, _, shared = fixture()
    query = Query("a.example", "TXT")
    await shared.for_domain("b.example").resolve(query)
    await shared.for_domain("c.example").resolve(query)
    await shared.for_domain("a.example").resolve(query)
    assert resolver.asked.count(query) == 2


async def test_answers_expire_after_max_age_even_with_a_longer_ttl() -> None:
    resolver, clock, shared = fixture()
    await shared.for_domain("d1.example").resolve(PROVIDER)
    clock.now += 29.9
    await shared.for_domain("d2.example").resolve(PROVIDER)
    assert resolver.asked.count(PROVIDER) == 1
    clock.now += 0.2  # 30.1 s after the first answer: the TTL is 300 s, but max_age is 30 s
    await shared.for_domain("d3.example").resolve(PROVIDER)
    assert resolver.asked.count(PROVIDER) == 2


async def test_errors_are_never_shared() -> None:
    resolver, _, shared = fixture()
    query = Query("broken.provider.example", "TXT")
    for n in range(3):
        lookup = await shared.for_domain(f"d{n}.example").resolve(query)
        assert lookup.outcome is Outcome.SERVFAIL
    assert resolver.asked.count(query) == 3


async def test_a_change_is_seen_once_the_answer_expires() -> None:
    resolver, clock, shared = fixture()
    await shared.for_domain("d1.example").resolve(PROVIDER)
    resolver.data[PROVIDER] = ("v=spf1 -all",)
    clock.now += 31
    lookup = await shared.for_domain("d1.example").resolve(PROVIDER)
    assert lookup.records == ("v=spf1 -all",)


async def test_expired_answers_are_dropped_so_memory_stays_bounded() -> None:
    resolver, clock, shared = fixture()
    for n in range(100):
        resolver.data[Query(f"p{n}.provider.example", "TXT")] = ("v=spf1 -all",)
        await shared.for_domain("d.example").resolve(Query(f"p{n}.provider.example", "TXT"))
    clock.now += 31
    await shared.for_domain("d.example").resolve(PROVIDER)
    assert len(shared._answers) == 1


async def test_zero_max_age_turns_sharing_off() -> None:
    resolver = FakeResolver({("spf.provider.example", "TXT"): ["v=spf1 -all"]})
    shared = SharedLookups(resolver, Clock(), max_age=0)
    for n in range(3):
        await shared.for_domain(f"d{n}.example").resolve(PROVIDER)
    assert resolver.asked.count(PROVIDER) == 3


class Gated(FakeResolver):
    """Holds every answer until the test opens the gate: lookups stay in flight meanwhile."""

    def __init__(self) -> None:
        super().__init__({("spf.provider.example", "TXT"): ["v=spf1 -all"]})
        self.gate = asyncio.Event()

    async def resolve(self, query: Query) -> Lookup:
        await self.gate.wait()
        return await super().resolve(query)


async def test_a_name_already_being_asked_for_is_waited_for_not_asked_again() -> None:
    """A round's first checks all want the provider record at the same moment: one query."""
    resolver = Gated()
    shared = SharedLookups(resolver, Clock(), max_age=30)
    checks = [asyncio.create_task(shared.for_domain(f"d{n}.example").resolve(PROVIDER)) for n in range(5)]
    await asyncio.sleep(0)
    resolver.gate.set()
    lookups = await asyncio.gather(*checks)
    assert {lookup.records for lookup in lookups} == {("v=spf1 -all",)}
    assert resolver.asked.count(PROVIDER) == 1


async def test_when_the_asker_is_cancelled_the_waiters_ask_for_themselves() -> None:
    resolver = Gated()
    shared = SharedLookups(resolver, Clock(), max_age=30)
    first = asyncio.create_task(shared.for_domain("d1.example").resolve(PROVIDER))
    await asyncio.sleep(0)
    second = asyncio.create_task(shared.for_domain("d2.example").resolve(PROVIDER))
    await asyncio.sleep(0)
    first.cancel()
    await asyncio.sleep(0)
    resolver.gate.set()
    assert (await second).records == ("v=spf1 -all",)
    assert first.cancelled()


async def test_a_pass_asks_once_for_a_query_repeated_in_one_batch() -> None:
    resolver = FakeResolver({("spf.provider.example", "TXT"): ["v=spf1 -all"]})
    cache = PassCache(resolver)
    lookups = await cache.resolve_many([PROVIDER, PROVIDER, Query("a.example", "TXT")])
    assert lookups[0] is lookups[1]
    assert lookups[2].outcome is Outcome.NXDOMAIN
    assert await cache.resolve(PROVIDER) is lookups[0]
    assert resolver.asked == [PROVIDER, Query("a.example", "TXT")]
