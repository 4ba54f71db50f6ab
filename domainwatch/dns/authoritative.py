"""Authoritative mode: ask every nameserver of a domain's zone directly, with RD=0.

Each server becomes a "view": a Resolver that sends names inside the zone to that server and
everything else (provider includes, MX targets elsewhere) to the configured recursive resolver.
Running a check once per view tells whether a record is published on every nameserver.
"""

from __future__ import annotations

from dataclasses import dataclass

from domainwatch.dns.dnspython_resolver import DnsPythonResolver
from domainwatch.dns.resolver import Lookup, Nameserver, Outcome, Query, Resolver


@dataclass(frozen=True, slots=True)
class ZoneView:
    label: str
    apex: str
    direct: Resolver
    fallback: Resolver

    async def resolve(self, query: Query) -> Lookup:
        inside = query.name == self.apex or query.name.endswith("." + self.apex)
        return await (self.direct if inside else self.fallback).resolve(query)


async def find_zone(resolver: Resolver, name: str) -> tuple[str, tuple[str, ...]] | Lookup:
    """The closest enclosing zone apex of `name` and its NS hosts, or the failed lookup."""
    labels = name.split(".")
    last: Lookup | None = None
    for start in range(len(labels)):
        candidate = ".".join(labels[start:])
        last = await resolver.resolve(Query.of(candidate, "NS"))
        if last.outcome is Outcome.ANSWER and not last.aliases:
            return candidate, last.records
        if last.outcome.is_error:
            return last
    assert last is not None
    return last


async def zone_views(
    resolver: Resolver, name: str, *, port: int, query_timeout: float, attempts: int
) -> list[ZoneView] | Lookup:
    """One view per authoritative server address of `name`'s zone, or the lookup that failed."""
    zone = await find_zone(resolver, name)
    if isinstance(zone, Lookup):
        return zone
    apex, hosts = zone
    views: list[ZoneView] = []
    for host in sorted(hosts):
        address = await _first_address(resolver, host)
        if isinstance(address, Lookup):
            return address
        direct = DnsPythonResolver(
            [Nameserver(address, port)], timeout=query_timeout, attempts=attempts, recursion_desired=False
        )
        views.append(ZoneView(f"{host} ({address})", apex, direct, resolver))
    return views


async def _first_address(resolver: Resolver, host: str) -> str | Lookup:
    for rdtype in ("A", "AAAA"):
        lookup = await resolver.resolve(Query.of(host, rdtype))
        if lookup.outcome is Outcome.ANSWER:
            return lookup.records[0]
        if lookup.outcome.is_error:
            return lookup
    return lookup
