"""Rechecking a domain: unchanged answers reuse the last check, any other change is a fresh check."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from domainwatch.checks.base import Expectation
from domainwatch.checks.running.runner import observe_records
from domainwatch.config.loader import parse
from domainwatch.config.plan import plan
from domainwatch.dns.resolver import Lookup, Outcome, Query
from domainwatch.testing import FakeResolver
from tests.examples import examples

ZONE: dict[tuple[str, str], list[str] | Outcome] = {
    ("send.shop.example.com", "TXT"): ["v=spf1 include:amazonses.com ~all"],
    ("amazonses.com", "TXT"): ["v=spf1 include:_spf.amazonses.com -all"],
    ("_spf.amazonses.com", "TXT"): ["v=spf1 ip4:192.0.2.0/24 -all"],
    ("send.shop.example.com", "MX"): ["10 feedback-smtp.us-east-1.amazonses.com"],
    ("shop.example.com", "MX"): ["10 mx.example.net"],
    ("mx.example.net", "A"): ["192.0.2.1"],
    ("_dmarc.shop.example.com", "TXT"): ["v=DMARC1; p=reject"],
    ("s1._domainkey.shop.example.com", "CNAME"): ["s1.dkim.amazonses.com"],
}
# What an answer may become between two checks: changed, gone, or unanswerable.
GONE: list[list[str] | Outcome] = [[], Outcome.SERVFAIL, Outcome.TIMEOUT]
CHANGES: dict[str, list[list[str] | Outcome]] = {
    "TXT": [
        ["v=spf1 include:sendgrid.net ~all"],
        ["v=spf1 +all"],
        ["v=spf1 ip4:192.0.2.0/24 -all", "v=spf1 -all"],
        ["v=DMARC1; p=none"],
        *GONE,
    ],
    "MX": [["10 other.example.net"], ["0 ."], *GONE],
    "A": [["198.51.100.7"], *GONE],
    "CNAME": [["s1.dkim.example.net"], *GONE],
}


def expectations() -> tuple[Expectation, ...]:
    config = parse("""
storage: {path: /tmp/unused.db}
domains:
  - name: shop.example.com
    sending:
      return_path: send
      spf: {include: [amazonses.com]}
      mx: {host: feedback-smtp.us-east-1.amazonses.com, priority: 10}
      dkim: [{selector: s1, cname: s1.dkim.amazonses.com}]
    receiving: {mx: [{host: mx.example.net, priority: 10}]}
""")
    return tuple(plan(config.domains[0]))


class Ageing:
    """A resolver whose answers' TTLs count down between calls, as a recursive cache's do."""

    def __init__(self, inner: FakeResolver) -> None:
        self.inner, self.age = inner, 0

    async def resolve(self, query: Query) -> Lookup:
        lookup = await self.inner.resolve(query)
        self.age += 1
        return replace(lookup, ttl=max(0, lookup.ttl - self.age))


def resolver(zone: dict[tuple[str, str], list[str] | Outcome]) -> FakeResolver:
    return FakeResolver({key: value for key, value in zone.items() if value != []})


async def test_unchanged_answers_reuse_the_last_check_after_one_round() -> None:
    """Every answer the same (TTLs aside): the last check itself, from one batch of queries."""
    planned = expectations()
    zone = Ageing(resolver(ZONE))
    first = await observe_records(planned, zone)
    zone.inner.asked.clear()
    again = await observe_records(planned, zone, first)
    assert again is first
    assert sorted(zone.inner.asked) == sorted(first.queries)
    assert len(first.queries) == len(set(first.queries)) > len(planned)  # includes were followed


async def test_a_changed_answer_is_a_fresh_check() -> None:
    """The include moved: the check follows the new include, exactly as a first check would."""
    planned = expectations()
    first = await observe_records(planned, resolver(ZONE))
    moved = {**ZONE, ("send.shop.example.com", "TXT"): ["v=spf1 include:sendgrid.net ~all"]}
    again = await observe_records(planned, resolver(moved), first)
    fresh = await observe_records(planned, resolver(moved))
    assert again is not first
    assert again == fresh
    assert Query("sendgrid.net", "TXT") in again.queries


async def test_another_plan_is_a_fresh_check() -> None:
    """A previous check of other expectations (the config changed) is never reused."""
    first = await observe_records(expectations(), resolver(ZONE))
    planned = expectations()  # equal, but a new plan: the daemon compares plans by identity
    again = await observe_records(planned, resolver(ZONE), first)
    assert again is not first
    assert again.results == first.results


@settings(max_examples=examples(60), deadline=None)
@given(st.data())
def test_a_recheck_concludes_what_a_first_check_would(data: st.DataObject) -> None:
    """Whatever changed between two checks, the second one's results are a fresh check's."""
    planned = expectations()
    keys = data.draw(st.sets(st.sampled_from(sorted(ZONE)), max_size=4))
    changed = {**ZONE, **{key: data.draw(st.sampled_from(CHANGES[key[1]])) for key in sorted(keys)}}

    async def both() -> Sequence[object]:
        first = await observe_records(planned, resolver(ZONE))
        again = await observe_records(planned, resolver(changed), first)
        fresh = await observe_records(planned, resolver(changed))
        return again.results, fresh.results

    again, fresh = asyncio.run(both())
    assert again == fresh
