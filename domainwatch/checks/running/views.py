"""Authoritative mode: each record checked through every nameserver of its zone, and combined.

A record is present only when every answering nameserver publishes it; one some server does not
publish (or does not answer) is named with those servers, and the zone's delegation is checked
(delegation.py). Queries go to the servers directly with RD=0 (dns/authoritative.py).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence

from domainwatch.checks.base import Expectation
from domainwatch.checks.registry import kind_of
from domainwatch.checks.running.delegation import delegation_findings
from domainwatch.checks.running.guard import bounded
from domainwatch.checks.running.visibility import Checker, LookSettings
from domainwatch.dns.authoritative import zone_views
from domainwatch.dns.cache import PassCache
from domainwatch.dns.resolver import Lookup, Resolver
from domainwatch.model import (
    CommonCode,
    DomainReport,
    Finding,
    RecordResult,
    RecordState,
    ServerView,
    Severity,
)
from domainwatch.probes.routing import ProbingResolver


async def check_views(
    name: str,
    expectations: Sequence[Expectation],
    resolver: Resolver,
    settings: LookSettings,
    check_record: Checker,
) -> DomainReport:
    """Check each record once per authoritative server of the domain's zone (`check_record`
    through each view), then combine; a record not on every server gets the delegation's
    findings too."""
    prober = resolver.prober if isinstance(resolver, ProbingResolver) else None
    resolver = resolver.inner if isinstance(resolver, ProbingResolver) else resolver
    resolver = resolver if isinstance(resolver, PassCache) else PassCache(resolver)
    views = await zone_views(
        resolver,
        name,
        port=settings.authoritative_port,
        query_timeout=settings.timeout.total_seconds(),
        attempts=settings.attempts,
        allow_private=settings.allow_private_nameservers,
    )
    if isinstance(views, Lookup):
        return DomainReport(name, tuple(_unreachable(e, views) for e in expectations))
    combined = []
    probing = [ProbingResolver(view, prober) for view in views]  # probes are not per nameserver
    for expect in expectations:
        per_view = await asyncio.gather(*(check_record(expect, view) for view in probing))
        combined.append(combine_views([v.label for v in views], list(per_view)))
    if any(_not_everywhere(r) for r in combined):
        # Something is not published everywhere: is the zone delegated as it says?
        found = await delegation_findings(
            resolver,
            views,
            port=settings.authoritative_port,
            query_timeout=settings.timeout.total_seconds(),
            allow_private=settings.allow_private_nameservers,
        )
        if found:
            combined = [
                bounded(dataclasses.replace(r, findings=(*found, *r.findings))) if _not_everywhere(r) else r
                for r in combined
            ]
    return DomainReport(name, tuple(combined))


def combine_views(labels: list[str], results: list[RecordResult]) -> RecordResult:
    """A record is present only when every answering nameserver publishes it (pure)."""
    servers = tuple(ServerView(label, r.state, r.found) for label, r in zip(labels, results, strict=True))
    answering = [r for r in results if r.state is not RecordState.ERROR]
    present = [r for r in answering if r.state is RecordState.PRESENT]
    base = next((r for r in answering if r.state is not RecordState.PRESENT), None)
    base = base or (present[0] if present else results[0])
    findings = list(base.findings)
    if answering and len(present) != len(results):
        findings.append(
            Finding(
                CommonCode.NAMESERVERS_DISAGREE,
                Severity.ERROR if len(present) != len(answering) else Severity.WARNING,
                f"published on {len(present)} of {len(results)} nameservers{_who(labels, results)}",
            )
        )
    return RecordResult(
        base.record,
        base.name,
        base.type,
        base.state,
        base.required,
        base.expected,
        base.found,
        tuple(findings),
        base.facts,
        servers,
    )


def _not_everywhere(result: RecordResult) -> bool:
    return any(view.state is not RecordState.PRESENT for view in result.servers)


def _who(labels: list[str], results: list[RecordResult]) -> str:
    """Which servers have the record, which lack it, which did not answer."""
    groups = {"has": RecordState.PRESENT, "lacks": None, "no answer": RecordState.ERROR}
    parts = []
    for word, state in groups.items():
        named = [
            label
            for label, r in zip(labels, results, strict=True)
            if (r.state is state if state else r.state in (RecordState.MISSING, RecordState.WRONG))
        ]
        if named:
            parts.append(f"{word}: {', '.join(named)}")
    return f" ({'; '.join(parts)})" if parts else ""


def _unreachable(expect: Expectation, failed: Lookup) -> RecordResult:
    """The zone's nameservers could not be found: every query of the record counts as failed."""
    module = kind_of(expect.record)
    detail = f"finding the nameservers failed at {failed.query.name} {failed.query.rdtype}"
    answers = {
        q: Lookup(q, failed.outcome, detail=f"{detail}: {failed.detail}", server=failed.server)
        for q in module.queries(expect, {})
    }
    return module.evaluate(expect, answers)
