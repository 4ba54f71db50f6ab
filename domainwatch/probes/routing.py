"""Routing a check's questions: probe queries to a prober, the rest to DNS. Light on purpose
(no HTTP or SMTP client): every check imports it, and most never probe."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from domainwatch.dns.batch import resolve_all
from domainwatch.dns.resolver import Lookup, Outcome, Query, Resolver
from domainwatch.probes.answers import PROBE_TYPES, incomplete


class Answerer(Protocol):
    """What answers probe queries (prober.Prober)."""

    def start_round(self) -> Any: ...

    async def resolve_many(
        self, queries: Sequence[Query], max_age: float | None = None, domain: Any = None
    ) -> list[Lookup]: ...


class ProbingResolver:
    """A resolver that answers probe queries with a prober and the rest with DNS; `max_age`
    bounds the age of kept probe answers (Prober.resolve_many)."""

    def __init__(self, inner: Resolver, prober: Answerer | None, max_age: float | None = None) -> None:
        self.inner, self.prober, self.max_age = inner, prober, max_age
        self._round: Any = None  # the domain's share of the probes, over the whole check

    async def resolve(self, query: Query) -> Lookup:
        return (await self.resolve_many([query]))[0]

    async def resolve_many(self, queries: Sequence[Query]) -> list[Lookup]:
        probes = [q for q in queries if q.rdtype in PROBE_TYPES]
        if not probes:
            return await resolve_all(self.inner, queries)
        names = [q for q in queries if q.rdtype not in PROBE_TYPES]
        probed = await self._probed(probes)
        answers = dict(zip(probes, probed, strict=True))
        answers.update(zip(names, await resolve_all(self.inner, names) if names else [], strict=True))
        return [answers[q] for q in queries]

    async def _probed(self, probes: list[Query]) -> list[Lookup]:
        if self.prober is None:
            return [incomplete(q, Outcome.REFUSED, "probes are off here (use --tls)") for q in probes]
        if self._round is None:
            self._round = self.prober.start_round()
        return await self.prober.resolve_many(probes, self.max_age, self._round)
