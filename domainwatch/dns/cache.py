"""Sharing answers between checks without ever serving one round's data to the next.

PassCache coalesces identical queries within one check pass (the CLI's, or one domain's check in
the daemon) and lives only as long as the pass. SharedLookups lets the daemon share answers about
third-party names (provider SPF includes, MX hosts) between domains for well under one interval.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from domainwatch.dns.batch import resolve_all
from domainwatch.dns.resolver import Lookup, Query, Resolver


class PassCache:
    def __init__(self, resolver: Resolver) -> None:
        self._resolver = resolver
        self._answers: dict[Query, asyncio.Future[Lookup]] = {}

    async def resolve(self, query: Query) -> Lookup:
        return (await self.resolve_many((query,)))[0]

    async def resolve_many(self, queries: Sequence[Query]) -> list[Lookup]:
        # The first asker resolves in its own task (no extra task per query); others wait on it.
        new = [q for q in dict.fromkeys(queries) if q not in self._answers]
        if new:
            loop = asyncio.get_running_loop()
            mine = {q: loop.create_future() for q in new}
            self._answers.update(mine)
            try:
                lookups = await resolve_all(self._resolver, new)
            except BaseException:
                for query, pending in mine.items():
                    del self._answers[query]  # a later asker tries again
                    pending.cancel()
                raise
            for query, lookup in zip(new, lookups, strict=True):
                mine[query].set_result(lookup)
        return [await _settled(self._answers[q]) for q in queries]


async def _settled(pending: asyncio.Future[Lookup]) -> Lookup:
    if pending.done():
        return pending.result()
    return await asyncio.shield(pending)  # another asker's: our cancellation must not end theirs


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
        self._asking: dict[Query, asyncio.Future[Lookup]] = {}
        self._next_sweep = 0.0
        self.hits = 0

    def for_domain(self, domain: str) -> Resolver:
        """The resolver one check of `domain` should use."""
        if self._max_age <= 0:
            return self._resolver
        return _DomainView(self, domain)

    async def resolve_many(self, queries: Sequence[Query], domain: str) -> list[Lookup]:
        """Answers for one check of `domain`: its own names always fresh, others maybe shared.

        A shared name already being asked about (by another domain's check, at this moment)
        is waited for rather than asked again: a round's first checks all want the same
        provider record at once.
        """
        now = self._clock()
        if now >= self._next_sweep:  # expired entries are dropped, so the dict stays bounded
            self._answers = {q: entry for q, entry in self._answers.items() if entry[0] > now}
            self._next_sweep = now + self._max_age
        results: list[Lookup | None] = [None] * len(queries)
        own: list[int] = []
        waiting: list[tuple[int, asyncio.Future[Lookup]]] = []
        mine: dict[int, asyncio.Future[Lookup]] = {}  # shared names this check asks first
        for i, query in enumerate(queries):
            if _inside(query.name, domain):
                own.append(i)
                continue
            entry = self._answers.get(query)
            pending = self._asking.get(query)
            if entry is not None and entry[0] > now:
                self.hits += 1
                results[i] = entry[1]
            elif pending is not None:
                self.hits += 1
                waiting.append((i, pending))
            else:
                mine[i] = self._asking[query] = asyncio.get_running_loop().create_future()
        jobs = [self._ask_shared(queries[i], i, results, asked) for i, asked in mine.items()]
        if own:
            jobs.append(self._ask_own([queries[i] for i in own], own, results))
        if jobs:
            await (jobs[0] if len(jobs) == 1 else asyncio.gather(*jobs))
        for i, pending in waiting:
            results[i] = await self._wait(queries[i], pending)
        return [r for r in results if r is not None]

    async def _ask_own(
        self, queries: list[Query], positions: list[int], results: list[Lookup | None]
    ) -> None:
        """The checked domain's own names, in one batch: nobody else waits for them."""
        for i, lookup in zip(positions, await resolve_all(self._resolver, queries), strict=True):
            results[i] = lookup

    async def _ask_shared(
        self, query: Query, position: int, results: list[Lookup | None], asked: asyncio.Future[Lookup]
    ) -> None:
        """A shared name, asked on its own: the checks waiting for it get it as soon as it comes,
        not when the slowest of this check's other answers does."""
        try:
            lookup = await self._resolver.resolve(query)
        except BaseException:
            self._asking.pop(query, None)
            asked.cancel()  # those waiting ask for themselves
            raise
        self._asking.pop(query, None)
        asked.set_result(lookup)
        results[position] = lookup
        if not lookup.outcome.is_error and lookup.ttl > 0:
            self._answers[query] = (self._clock() + min(lookup.ttl, self._max_age), lookup)

    async def _wait(self, query: Query, pending: asyncio.Future[Lookup]) -> Lookup:
        try:
            return await _settled(pending)
        except asyncio.CancelledError:
            if not pending.cancelled():
                raise  # we were cancelled, not the check that was asking
        return await self._resolver.resolve(query)


def _inside(name: str, domain: str) -> bool:
    return name == domain or name.endswith("." + domain)


class _DomainView:
    def __init__(self, shared: SharedLookups, domain: str) -> None:
        self._shared, self._domain = shared, domain

    async def resolve(self, query: Query) -> Lookup:
        return (await self._shared.resolve_many((query,), self._domain))[0]

    async def resolve_many(self, queries: Sequence[Query]) -> list[Lookup]:
        return await self._shared.resolve_many(queries, self._domain)
