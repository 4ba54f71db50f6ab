"""Authoritative mode: ask every nameserver of a domain's zone directly, with RD=0.

Each server becomes a "view": a Resolver that sends names inside the zone to that server and
everything else (provider includes, MX targets elsewhere), and the TLSA records DANE needs
validated, to the configured recursive resolver.
Running a check once per view tells whether a record is published on every nameserver.

The NS records are written by whoever owns the checked domain, so they are bounded: at most
MAX_NAMESERVERS hosts, their addresses looked up concurrently, and an address on a loopback,
private, link-local or otherwise special network is not queried (that view fails, REFUSED)
unless `resolver.allow_private_nameservers` is set, so a domain cannot point the daemon at
internal servers.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import dns.asyncquery
import dns.exception
import dns.flags
import dns.message
import dns.rdatatype

from domainwatch.dns.addresses import address_class, may_connect
from domainwatch.dns.dnspython_resolver import DnsPythonResolver, name_text
from domainwatch.dns.resolver import Lookup, Nameserver, Outcome, Query, Resolver

MAX_NAMESERVERS = 8
VALIDATED_TYPES = frozenset({"TLSA"})  # asked of the configured (validating) resolvers in every mode


@dataclass(frozen=True, slots=True)
class ZoneView:
    label: str
    apex: str
    direct: Resolver
    fallback: Resolver

    async def resolve(self, query: Query) -> Lookup:
        inside = query.name == self.apex or query.name.endswith("." + self.apex)
        # DANE's TLSA counts only validated (RFC 7672 §2.2): the recursive resolver answers it.
        direct = inside and query.rdtype not in VALIDATED_TYPES
        return await (self.direct if direct else self.fallback).resolve(query)


@dataclass(frozen=True, slots=True)
class Refused:
    """A nameserver domainwatch will not ask: every lookup through it is REFUSED, with why."""

    why: str

    async def resolve(self, query: Query) -> Lookup:
        return Lookup(query, Outcome.REFUSED, detail=self.why)


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
    resolver: Resolver,
    name: str,
    *,
    port: int,
    query_timeout: float,
    attempts: int,
    allow_private: bool = False,
) -> list[ZoneView] | Lookup:
    """One view per authoritative server of `name`'s zone (the first MAX_NAMESERVERS by name),
    or the lookup that failed."""
    zone = await find_zone(resolver, name)
    if isinstance(zone, Lookup):
        return zone
    apex, hosts = zone
    chosen = sorted(hosts)[:MAX_NAMESERVERS]
    addresses = await asyncio.gather(*(_first_address(resolver, host) for host in chosen))
    views: list[ZoneView] = []
    for host, address in zip(chosen, addresses, strict=True):
        if isinstance(address, Lookup):
            return address
        special = None if may_connect(address, allow_private=allow_private) else address_class(address)
        direct: Resolver = (
            Refused(f"{host} resolves to {address}, a {special} address; not queried")
            if special
            else DnsPythonResolver(
                [Nameserver(address, port)], timeout=query_timeout, attempts=attempts, recursion_desired=False
            )
        )
        views.append(ZoneView(f"{host} ({address})", apex, direct, resolver))
    return views


async def _first_address(resolver: Resolver, host: str) -> str | Lookup:
    lookup: Lookup | None = None
    for rdtype in ("A", "AAAA"):
        lookup = await resolver.resolve(Query.of(host, rdtype))
        if lookup.outcome is Outcome.ANSWER:
            return lookup.records[0]
        if lookup.outcome.is_error:
            return lookup
    assert lookup is not None
    return lookup


async def delegation_of(
    resolver: Resolver, apex: str, *, port: int, query_timeout: float, allow_private: bool
) -> tuple[str, set[str]] | None:
    """The parent zone's apex and the NS set it delegates `apex` to, from a referral asked of
    one of the parent's servers (at most two tried), or None when that cannot be learned."""
    parent_name = apex.partition(".")[2]
    if "." not in parent_name:
        return None  # a top-level zone's parent is the root: not asked
    parent = await find_zone(resolver, parent_name)
    if isinstance(parent, Lookup):
        return None
    for host in sorted(parent[1])[:2]:
        address = await _first_address(resolver, host)
        if isinstance(address, Lookup) or not may_connect(address, allow_private=allow_private):
            continue
        names = await _referral(apex, address, port=port, query_timeout=query_timeout)
        if names:
            return parent[0], names
    return None


async def _referral(apex: str, address: str, *, port: int, query_timeout: float) -> set[str]:
    query = dns.message.make_query(apex, dns.rdatatype.NS)
    query.flags &= ~dns.flags.RD
    try:
        response = await dns.asyncquery.udp(query, address, timeout=query_timeout, port=port)
    except (dns.exception.DNSException, OSError):
        return set()
    return {
        name_text(r.target)
        for rrset in (*response.authority, *response.answer)
        if rrset.rdtype == dns.rdatatype.NS and name_text(rrset.name) == apex
        for r in rrset
    }
