"""Sharing answers between checks without ever serving one round's data to the next.

PassCache coalesces identical queries within one check pass (the CLI's, or one domain's check in
the daemon) and lives only as long as the pass. SharedLookups lets the daemon share answers about
third-party names (provider SPF includes, MX hosts) between domains for well under one interval.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from domainwatch.dns.resolver import Lookup, Query, Resolver


class PassCache:
    def __init__(self, resolver: Resolver) -> None:
        self._resolver = resolver
        self._answers: dict[Query, asyncio.Future[Lookup]] = {}

    async def resolve(self, query: Query) -> Lookup:
        pending = self._answers.get(query)
        if pending is not None:
            return await asyncio.shield(pending)
        # The first asker resolves in its own task (no extra task per query); others wait on it.
        pending = asyncio.get_running_loop().create_future()
        self._answers[query] = pending
        try:
            lookup = await self._resolver.resolve(query)
        except BaseException:
            del self._answers[query]  # a later asker tries again
            pending.cancel()
            raise
        pending.set_result(lookup)
        return lookup


class SharedLookups:
    """Answers about other people's names, shared between domains for a short while.

    Thousands of domains include the same provider SPF record or point at the same MX hosts; the
    daemon checks them at different moments, so PassCache cannot share those answers. This keeps
    a conclusive answer for a name outside the checked domain for min(TTL, max_age) seconds of
    the daemon's clock. The checked domain's own names always go to the resolver: they are what
    is being verified. max_age stays well below the check intervals, so no domain's next check
    sees an answer fetched for its previous one. Errors are never kept.
    """

    def __init__(self, resolver: Resolver, clock: Callable[[], float], max_age: float) -> None:
        self._resolver, self._clock, self._max_age = resolver, clock, max_age
        self._answers: dict[Query, tuple[float, Lookup]] = {}
        self._next_sweep = 0.0
        self.hits = 0

    def for_domain(self, domain: str) -> Resolver:
        """The resolver one check of `domain` should use."""
        if self._max_age <= 0:
            return self._resolver
        return _DomainView(self, domain)

    async def resolve_shared(self, query: Query) -> Lookup:
        now = self._clock()
        if now >= self._next_sweep:  # expired entries are dropped, so the dict stays bounded
            self._answers = {q: entry for q, entry in self._answers.items() if entry[0] > now}
            self._next_sweep = now + self._max_age
        entry = self._answers.get(query)
        if entry is not None and entry[0] > now:
            self.hits += 1
            return entry[1]
        lookup = await self._resolver.resolve(query)
        if not lookup.outcome.is_error and lookup.ttl > 0:
            self._answers[query] = (self._clock() + min(lookup.ttl, self._max_age), lookup)
        return lookup

    async def resolve_direct(self, query: Query) -> Lookup:
        return await self._resolver.resolve(query)


class _DomainView:
    def __init__(self, shared: SharedLookups, domain: str) -> None:
        self._shared, self._domain, self._suffix = shared, domain, "." + domain

    async def resolve(self, query: Query) -> Lookup:
        if query.name == self._domain or query.name.endswith(self._suffix):
            return await self._shared.resolve_direct(query)
        return await self._shared.resolve_shared(query)
