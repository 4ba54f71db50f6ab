"""In-memory fakes for the pure logic: a resolver answering from a dict, and a settable clock."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta

from domainwatch.dns.resolver import Lookup, Outcome, Query

_MAX_CHAIN = 8


class FakeResolver:
    """Answers from {(name, type): [values]} or {(name, type): Outcome}, following CNAMEs as a
    recursive resolver does; a name with no data at all is NXDOMAIN, other types NODATA."""

    def __init__(self, data: Mapping[tuple[str, str], Iterable[str] | Outcome] | None = None) -> None:
        self.data: dict[Query, tuple[str, ...] | Outcome] = {}
        self.asked: list[Query] = []
        for (name, rdtype), value in (data or {}).items():
            self.data[Query.of(name, rdtype)] = value if isinstance(value, Outcome) else tuple(value)

    async def resolve(self, query: Query) -> Lookup:
        self.asked.append(query)
        aliases: list[str] = []
        owner = query.name
        for _ in range(_MAX_CHAIN):
            value = self.data.get(Query(owner, query.rdtype))
            if isinstance(value, Outcome):
                return Lookup(query, value, aliases=tuple(aliases), detail="fake")
            if value:
                return Lookup(query, Outcome.ANSWER, tuple(sorted(value)), 300, tuple(aliases))
            alias = self.data.get(Query(owner, "CNAME"))
            if query.rdtype == "CNAME" or not isinstance(alias, tuple) or not alias:
                break
            owner = alias[0]
            aliases.append(owner)
        exists = any(q.name == owner or q.name.endswith("." + owner) for q in self.data)
        outcome = Outcome.NODATA if exists else Outcome.NXDOMAIN
        return Lookup(query, outcome, aliases=tuple(aliases))


class FakeClock:
    """A clock tests advance by hand: 72 hours pass in microseconds."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> datetime:
        self.now += delta
        return self.now
