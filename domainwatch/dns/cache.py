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
        self._tasks: dict[Query, asyncio.Task[Lookup]] = {}

    async def resolve(self, query: Query) -> Lookup:
        task = self._tasks.get(query)
        if task is None:
            task = asyncio.ensure_future(self._resolver.resolve(query))
            self._tasks[query] = task
        return await asyncio.shield(task)
