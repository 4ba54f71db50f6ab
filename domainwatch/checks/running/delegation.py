"""Authoritative mode, when some record is not present everywhere: is the zone delegated as it
says? The parent zone's NS set for it (from a referral, asked of a parent server) against the
zone's own NS set, and each listed server: a server that refuses the zone, or answers it without
authority, is lame. Extra queries: the parent's NS (1-2), a parent server's address (1-2), the
referral (1) and the zone's SOA on each listed server (at most MAX_NAMESERVERS)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from domainwatch.checks.diagnoses.mistakes import Code
from domainwatch.dns.authoritative import Refused, ZoneView, delegation_of, find_zone
from domainwatch.dns.resolver import Lookup, Outcome, Query, Resolver
from domainwatch.model import Finding, Severity


async def delegation_findings(
    resolver: Resolver, views: Sequence[ZoneView], *, port: int, query_timeout: float, allow_private: bool
) -> list[Finding]:
    """What is wrong with the zone's delegation, as findings (none when it is sound)."""
    if not views:
        return []
    apex = views[0].apex
    zone = await find_zone(resolver, apex)
    if isinstance(zone, Lookup):
        return []
    own = {h.rstrip(".").lower() for h in zone[1]}
    out = await _lame(views, apex)
    parent = await delegation_of(
        resolver, apex, port=port, query_timeout=query_timeout, allow_private=allow_private
    )
    if parent is not None and parent[1] != own:
        name, delegated = parent
        message = (
            f"the parent zone {name} delegates {apex} to {', '.join(sorted(delegated))}, but {apex} "
            f"itself lists {', '.join(sorted(own))}: make the two sets the same (the parent's at your "
            "registrar or DNS host of the parent, the zone's own NS records in the zone)"
        )
        out.append(Finding(Code.DELEGATION_MISMATCH, Severity.ERROR, message))
    return out


async def _lame(views: Sequence[ZoneView], apex: str) -> list[Finding]:
    answers = await asyncio.gather(*(view.direct.resolve(Query.of(apex, "SOA")) for view in views))
    out = []
    for view, answer in zip(views, answers, strict=True):
        if answer.outcome is Outcome.REFUSED and not isinstance(view.direct, Refused):
            why = answer.detail or "REFUSED"
            message = (
                f"{view.label} is listed as a nameserver of {apex} but does not serve it ({why}): "
                "a lame delegation; remove it from the NS records, or make it serve the zone"
            )
            out.append(Finding(Code.DELEGATION_MISMATCH, Severity.ERROR, message))
    return out
