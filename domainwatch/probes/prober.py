"""Answering probe queries: addresses from DNS, the probe itself, and the answers kept.

One mail server (a provider's) serves many domains: its probe's answer is kept for
`probes.interval` and shared by every domain that asks, so a fleet of 100,000 domains on a few
providers costs a few probes an interval. An answer that differs from the one before, or a probe
that could not complete, is kept only for the recheck interval: a change is confirmed soon, as
a DNS change is. At most `probes.max_concurrent` probes run at once.

STARTTLS is probed on every address of an MX host (A and AAAA, at most PER_FAMILY of each): a
server that fails on its IPv6 address loses the mail of every IPv6-capable sender. Its answers
are kept per (host, address); the host's answer lists them (`addresses`). An MTA-STS policy is
fetched from the first address.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

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
PER_FAMILY = 4  # addresses of one MX host probed per family (A, AAAA)


@dataclass
class ProbeRound:
    """One domain's check, fair to the others: the addresses its probes may still try (one a
    query), and at most a quarter of the fleet's probes running for it at once."""

    left: int
    share: asyncio.Semaphore

    def take(self) -> bool:
        """One more address for this domain, if its budget has one."""
        if self.left <= 0:
            return False
        self.left -= 1
        return True


@dataclass(frozen=True, slots=True)
class _Addresses:
    """A host's addresses the policy lets us connect to (at most PER_FAMILY a family), and
    those it refused."""

    allowed: tuple[str, ...]
    refused: tuple[dict[str, str], ...]


class Prober:
    def __init__(
        self,
        resolver: Resolver,
        settings: ProbeSettings,
        clock: Clock,
        recheck: float,
        observe: Callable[[str, str, float], None] | None = None,
    ) -> None:
        self.resolver, self.settings, self.clock, self.recheck = resolver, settings, clock, recheck
        self.observe = observe  # (probe, outcome, seconds) of each probe run: the metrics
        self._kept: dict[Hashable, tuple[Lookup, float, float]] = {}  # answer, when, good until
        self._running: dict[Hashable, asyncio.Future[Lookup]] = {}
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
        soon, as its DNS records are). `domain`: its check's share, over all its calls; its
        budget of addresses is given out in the order of `queries`."""
        domain = domain or self.start_round()
        starttls = [q for q in queries if q.rdtype == STARTTLS]
        found = dict(
            zip(starttls, await asyncio.gather(*(self._addresses(q) for q in starttls)), strict=True)
        )
        jobs: list[Awaitable[Lookup]] = []
        for query in queries:
            addresses = found.get(query)
            if addresses is not None:
                jobs.append(self._every_address(query, addresses, domain, max_age))
            elif domain.take():
                jobs.append(self._shared(domain, query, functools.partial(self._probe, query), max_age))
            else:
                jobs.append(_ready(incomplete(query, Outcome.REFUSED, self._over_budget())))
        return list(await asyncio.gather(*jobs))

    def _over_budget(self) -> str:
        return _OVER_BUDGET.format(self.settings.max_addresses_per_domain)

    async def _shared(
        self, domain: ProbeRound, key: Hashable, probe: Callable[[], Awaitable[Lookup]], max_age: float | None
    ) -> Lookup:
        async with domain.share:
            return await self._answer(key, probe, max_age)

    async def _every_address(
        self, query: Query, addresses: _Addresses | Lookup, domain: ProbeRound, max_age: float | None
    ) -> Lookup:
        """The STARTTLS answer of a host: each allowed address probed (its answer kept per
        address), within the domain's budget."""
        if isinstance(addresses, Lookup):
            return addresses  # no address at all, or its lookup failed
        if not addresses.allowed:  # a conclusive answer: DNS points only where we never connect
            return completed(query, {"refused": list(addresses.refused)})
        jobs: list[Awaitable[Lookup]] = []
        for address in addresses.allowed:
            if domain.take():
                probe = self._probe_address(query, address)
                jobs.append(self._shared(domain, (STARTTLS, query.name, address), probe, max_age))
            else:
                jobs.append(_ready(incomplete(query, Outcome.REFUSED, self._over_budget())))
        lookups = await asyncio.gather(*jobs)
        entries = [
            _entry(address, lookup) for address, lookup in zip(addresses.allowed, lookups, strict=True)
        ]
        if all(lookup.outcome.is_error for lookup in lookups) and not addresses.refused:
            first = lookups[0]  # nothing concluded: the record's state is an error, as before
            return incomplete(query, first.outcome, f"{addresses.allowed[0]}: {first.detail}")
        facts: dict[str, Any] = {"addresses": entries}
        if addresses.refused:
            facts["refused"] = list(addresses.refused)
        return completed(query, facts)

    def _probe_address(self, query: Query, address: str) -> Callable[[], Awaitable[Lookup]]:
        async def probe() -> Lookup:
            async with self._limit:
                self.probes_run += 1
                started = time.perf_counter()
                lookup = await probe_starttls(query, address, self.settings)
                self._observe(STARTTLS, lookup, started)
            if lookup.outcome.is_error:
                return lookup
            # When: what a certificate's remaining days are counted from (checks stay pure).
            return completed(query, {**facts_of(lookup), "address": address, "probed_at": int(self.clock())})

        return probe

    async def _answer(
        self, key: Hashable, probe: Callable[[], Awaitable[Lookup]], max_age: float | None
    ) -> Lookup:
        kept = self._kept.get(key)
        now = self.clock()
        if kept is not None and kept[2] > now and (max_age is None or now - kept[1] < max_age):
            return kept[0]
        running = self._running.get(key)
        if running is not None:
            return await asyncio.shield(running)
        future: asyncio.Future[Lookup] = asyncio.get_running_loop().create_future()
        self._running[key] = future
        try:
            lookup = await probe()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: a waiter may not exist
            raise
        else:
            self._keep(key, lookup, kept[0] if kept else None)
            future.set_result(lookup)
            return lookup
        finally:
            del self._running[key]

    def _observe(self, probe: str, lookup: Lookup, started: float) -> None:
        if self.observe is not None:
            self.observe(probe.lower(), lookup.outcome.value, time.perf_counter() - started)

    def _keep(self, key: Hashable, lookup: Lookup, before: Lookup | None) -> None:
        settled = not lookup.outcome.is_error and (before is None or _same(before, lookup))
        lifetime = self.settings.interval.total_seconds() if settled else self.recheck
        now = self.clock()
        if len(self._kept) >= _PURGE_AT:
            self._kept = {q: kept for q, kept in self._kept.items() if kept[2] > now}
        self._kept[key] = (lookup, now, now + lifetime)

    async def _probe(self, query: Query) -> Lookup:
        """An MTA-STS policy, fetched from the host's first address we may connect to."""
        found = await self._addresses(query, per_family=1)
        if isinstance(found, Lookup):
            return found
        if not found.allowed:
            return completed(query, {"refused": list(found.refused)})
        address = found.allowed[0]
        async with self._limit:
            self.probes_run += 1
            started = time.perf_counter()
            lookup = await fetch_policy(query, address, self.settings)
            self._observe(query.rdtype, lookup, started)
        if lookup.outcome.is_error:
            return lookup
        extra: dict[str, Any] = {"address": address}
        if found.refused:
            extra["refused"] = list(found.refused)
        return completed(query, {**facts_of(lookup), **extra, "probed_at": int(self.clock())})

    async def _addresses(self, query: Query, per_family: int = PER_FAMILY) -> _Addresses | Lookup:
        """The host's addresses the address policy lets us connect to (IPv4 before IPv6, at
        most `per_family` of each) and those it refused; or why there is no address at all."""
        allowed: list[str] = []
        refused: list[dict[str, str]] = []
        for rdtype in ("A", "AAAA"):
            lookup = (await resolve_all(self.resolver, [Query.of(query.name, rdtype)]))[0]
            if lookup.outcome.is_error:
                return incomplete(query, lookup.outcome, f"{rdtype} lookup of {query.name}: {lookup.outcome}")
            family = 0
            for address in lookup.records[:_MAX_ADDRESSES]:
                if not may_connect(address, allow_private=self.settings.allow_private_addresses):
                    refused.append({"address": address[:64], "class": address_class(address) or "special"})
                elif family < per_family:
                    allowed.append(address)
                    family += 1
            if allowed and per_family == 1:
                break  # the first address is all an MTA-STS fetch needs
        if not allowed and not refused:
            return incomplete(query, Outcome.NETWORK, f"{query.name} has no address")
        return _Addresses(tuple(allowed), tuple(refused[:_MAX_ADDRESSES]))


def _entry(address: str, lookup: Lookup) -> dict[str, Any]:
    """One address of a host's STARTTLS answer: what its probe found, or why it could not."""
    if lookup.outcome.is_error:
        return {"address": address, "error": lookup.outcome.value, "detail": lookup.detail[:300]}
    return {**facts_of(lookup), "address": address}


async def _ready(lookup: Lookup) -> Lookup:
    return lookup


def _same(before: Lookup, after: Lookup) -> bool:
    """The same answer, whenever it was probed."""
    old, new = facts_of(before), facts_of(after)
    old.pop("probed_at", None)
    new.pop("probed_at", None)
    return before.outcome is after.outcome and old == new
