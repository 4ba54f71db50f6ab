"""Answering probe queries: addresses from DNS, the probe itself, and the answers kept.

One mail server (a provider's) serves many domains: its probe's answer is kept for
`probes.interval` and shared by every domain that asks, so a fleet of 100,000 domains on a few
providers costs a few probes an interval. An answer that differs from the one before, or a probe
that could not complete, is kept only for the recheck interval: a change is confirmed soon, as
a DNS change is. At most `probes.max_concurrent` probes run at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from domainwatch.dns.addresses import address_class, may_connect
from domainwatch.dns.batch import resolve_all
from domainwatch.dns.resolver import Lookup, Outcome, Query, Resolver
from domainwatch.probes.answers import (
    STARTTLS,
    ProbeSettings,
    completed,
    facts_of,
    incomplete,
)
from domainwatch.probes.https import fetch_policy
from domainwatch.probes.smtp import probe_starttls

Clock = Callable[[], float]  # seconds
_PURGE_AT = 10_000  # kept answers; past that, expired ones are dropped on the next insert
_OVER_BUDGET = (
    "not probed: the domain's probes try at most {} addresses a round (probes.max_addresses_per_domain)"
)
_MAX_ADDRESSES = 8  # of one host's A (or AAAA) records looked at: a hostile zone may list hundreds


@dataclass
class ProbeRound:
    """One domain's check, fair to the others: the addresses its probes may still try (one a
    query), and at most a quarter of the fleet's probes running for it at once."""

    left: int
    share: asyncio.Semaphore


class Prober:
    def __init__(self, resolver: Resolver, settings: ProbeSettings, clock: Clock, recheck: float) -> None:
        self.resolver, self.settings, self.clock, self.recheck = resolver, settings, clock, recheck
        self._kept: dict[Query, tuple[Lookup, float, float]] = {}  # answer, when, good until
        self._running: dict[Query, asyncio.Future[Lookup]] = {}
        self._limit = asyncio.Semaphore(settings.max_concurrent)
        self.probes_run = 0

    def start_round(self) -> ProbeRound:
        """What one domain's check may use of the probes."""
        share = asyncio.Semaphore(max(1, self.settings.max_concurrent // 4))
        return ProbeRound(self.settings.max_addresses_per_domain, share)

    async def resolve_many(
        self, queries: Sequence[Query], max_age: float | None = None, domain: ProbeRound | None = None
    ) -> list[Lookup]:
        """One domain's probe queries: answers, kept ones where still good; `max_age`: none
        older than this (seconds), as a domain whose records are in trouble wants (rechecked
        soon, as its DNS records are). `domain`: its check's share, over all its calls."""
        domain = domain or self.start_round()
        allowed = list(queries[: max(0, domain.left)])
        domain.left -= len(allowed)
        over = [incomplete(q, Outcome.REFUSED, _OVER_BUDGET.format(self.settings.max_addresses_per_domain))
                for q in queries[len(allowed):]]  # fmt: skip

        async def answer(query: Query) -> Lookup:
            async with domain.share:
                return await self._answer(query, max_age)

        return [*await asyncio.gather(*(answer(q) for q in allowed)), *over]

    async def _answer(self, query: Query, max_age: float | None) -> Lookup:
        kept = self._kept.get(query)
        now = self.clock()
        if kept is not None and kept[2] > now and (max_age is None or now - kept[1] < max_age):
            return kept[0]
        running = self._running.get(query)
        if running is not None:
            return await asyncio.shield(running)
        future: asyncio.Future[Lookup] = asyncio.get_running_loop().create_future()
        self._running[query] = future
        try:
            lookup = await self._probe(query)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: a waiter may not exist
            raise
        else:
            self._keep(query, lookup, kept[0] if kept else None)
            future.set_result(lookup)
            return lookup
        finally:
            del self._running[query]

    def _keep(self, query: Query, lookup: Lookup, before: Lookup | None) -> None:
        settled = not lookup.outcome.is_error and (before is None or _same(before, lookup))
        lifetime = self.settings.interval.total_seconds() if settled else self.recheck
        now = self.clock()
        if len(self._kept) >= _PURGE_AT:
            self._kept = {q: kept for q, kept in self._kept.items() if kept[2] > now}
        self._kept[query] = (lookup, now, now + lifetime)

    async def _probe(self, query: Query) -> Lookup:
        found = await self._address(query)
        if isinstance(found, Lookup):
            return found
        address, refused = found
        if address is None:  # a conclusive answer: DNS points only where we never connect
            return completed(query, {"refused": refused})
        async with self._limit:
            self.probes_run += 1
            if query.rdtype == STARTTLS:
                lookup = await probe_starttls(query, address, self.settings)
            else:
                lookup = await fetch_policy(query, address, self.settings)
        if lookup.outcome.is_error:
            return lookup
        # When: what a certificate's remaining days are counted from (checks stay pure).
        extra = {"address": address, "refused": refused} if refused else {"address": address}
        return completed(query, {**facts_of(lookup), **extra, "probed_at": int(self.clock())})

    async def _address(self, query: Query) -> tuple[str | None, list[dict[str, str]]] | Lookup:
        """The first address of the host the address policy lets us connect to (IPv4 before
        IPv6) and those it refused on the way; or why there is no address at all."""
        refused: list[dict[str, str]] = []
        for rdtype in ("A", "AAAA"):
            lookup = (await resolve_all(self.resolver, [Query.of(query.name, rdtype)]))[0]
            if lookup.outcome.is_error:
                return incomplete(query, lookup.outcome, f"{rdtype} lookup of {query.name}: {lookup.outcome}")
            for address in lookup.records[:_MAX_ADDRESSES]:
                if may_connect(address, allow_private=self.settings.allow_private_addresses):
                    return address, refused
                refused.append({"address": address[:64], "class": address_class(address) or "special"})
        if refused:
            return None, refused[:_MAX_ADDRESSES]
        return incomplete(query, Outcome.NETWORK, f"{query.name} has no address")


def _same(before: Lookup, after: Lookup) -> bool:
    """The same answer, whenever it was probed."""
    old, new = facts_of(before), facts_of(after)
    old.pop("probed_at", None)
    new.pop("probed_at", None)
    return before.outcome is after.outcome and old == new
