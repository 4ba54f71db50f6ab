"""Coalescing of identical queries within one check pass.

Many domains include the same provider SPF record; within one pass we ask for it once. The cache
lives only as long as the pass, so nothing stale ever crosses into the next round.
"""

from __future__ import annotations

import asyncio

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
