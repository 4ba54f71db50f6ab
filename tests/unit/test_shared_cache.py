"""SharedLookups: third-party answers shared between domains, never a domain's own, never stale."""

from __future__ import annotations

from domainwatch.dns.cache import SharedLookups
from domainwatch.dns.resolver import Outcome, Query
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
