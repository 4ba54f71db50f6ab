"""Resolving a batch of queries through any Resolver."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from domainwatch.dns.resolver import Lookup, Query, Resolver


async def resolve_all(resolver: Resolver, queries: Sequence[Query]) -> list[Lookup]:
    """Resolve `queries` concurrently, answers in order: in one batch where the resolver has
    `async resolve_many(queries) -> list[Lookup]` (no task per query), else a task each."""
    batch = getattr(resolver, "resolve_many", None)
    if batch is not None:
        return list(await batch(queries))
    if len(queries) == 1:
        return [await resolver.resolve(queries[0])]
    return list(await asyncio.gather(*(resolver.resolve(q) for q in queries)))
