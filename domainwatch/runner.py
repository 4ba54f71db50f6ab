"""The async shell around the pure checks: resolve what a check asks for, then evaluate."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence

from domainwatch.checks import module_for
from domainwatch.checks.base import Expectation
from domainwatch.config.schema import ResolverConfig
from domainwatch.dns.authoritative import zone_views
from domainwatch.dns.cache import PassCache
from domainwatch.dns.dnspython_resolver import DnsPythonResolver, QueryObserver, system_nameservers
from domainwatch.dns.fast.transport import FastResolver
from domainwatch.dns.resolver import Lookup, Query, Resolver
from domainwatch.model import (
    DomainReport,
    Finding,
    FindingCode,
    RecordResult,
    RecordState,
    ServerView,
    Severity,
)

_MAX_ROUNDS = 64  # SPF evaluation asks one lookup per round; its own limits end it well before
DEFAULT_CONCURRENCY = 64


async def check_record(expect: Expectation, resolver: Resolver) -> RecordResult:
    module = module_for(expect)
    answers: dict[Query, Lookup] = {}
    for _ in range(_MAX_ROUNDS):
        needed = sorted(q for q in module.queries(expect, answers) if q not in answers)
        if not needed:
            break
        if len(needed) == 1:  # the common case: skip gather's task machinery
            answers[needed[0]] = await resolver.resolve(needed[0])
            continue
        results = await asyncio.gather(*(resolver.resolve(q) for q in needed))
        answers.update(zip(needed, results, strict=True))
    return module.evaluate(expect, answers)


async def check_domain(
    name: str,
    expectations: Sequence[Expectation],
    resolver: Resolver,
    settings: ResolverConfig | None = None,
) -> DomainReport:
    """Check every expectation of one domain, through each authoritative server if asked."""
    if settings is None or settings.mode == "recursive":
        results = await asyncio.gather(*(check_record(e, resolver) for e in expectations))
        return DomainReport(name, tuple(results))
    views = await zone_views(
        resolver,
        name,
        port=settings.authoritative_port,
        query_timeout=settings.timeout.total_seconds(),
        attempts=settings.attempts,
    )
    if isinstance(views, Lookup):
        return DomainReport(name, tuple(_unreachable(e, views) for e in expectations))
    combined = []
    for expect in expectations:
        per_view = await asyncio.gather(*(check_record(expect, view) for view in views))
        combined.append(combine_views([v.label for v in views], list(per_view)))
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
                FindingCode.NAMESERVERS_DISAGREE,
                Severity.ERROR if len(present) != len(answering) else Severity.WARNING,
                f"published on {len(present)} of {len(results)} nameservers",
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


def _unreachable(expect: Expectation, failed: Lookup) -> RecordResult:
    """The zone's nameservers could not be found: every query of the record counts as failed."""
    module = module_for(expect)
    detail = f"finding the nameservers failed at {failed.query.name} {failed.query.rdtype}"
    answers = {
        q: Lookup(q, failed.outcome, detail=f"{detail}: {failed.detail}", server=failed.server)
        for q in module.queries(expect, {})
    }
    return module.evaluate(expect, answers)


async def check_with(
    domains: Iterable[tuple[str, Sequence[Expectation]]], settings: ResolverConfig
) -> list[DomainReport]:
    """One pass with a resolver made (and closed) for it: what the one-shot commands run."""
    resolver = resolver_from(settings)
    try:
        return await check_many(domains, resolver, settings)
    finally:
        await close(resolver)


async def close(resolver: Resolver) -> None:
    """Release a resolver's sockets, if it holds any."""
    aclose = getattr(resolver, "aclose", None)
    if aclose is not None:
        await aclose()


async def check_many(
    domains: Iterable[tuple[str, Sequence[Expectation]]],
    resolver: Resolver,
    settings: ResolverConfig | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> list[DomainReport]:
    """One pass over many domains; identical lookups within the pass are made once."""
    cache = PassCache(resolver)
    limit = asyncio.Semaphore(concurrency)

    async def one(name: str, expectations: Sequence[Expectation]) -> DomainReport:
        async with limit:
            return await check_domain(name, expectations, cache, settings)

    return list(await asyncio.gather(*(one(n, e) for n, e in domains)))


def resolver_from(settings: ResolverConfig, observer: QueryObserver | None = None) -> Resolver:
    """The configured resolver; /etc/resolv.conf's nameservers when the config lists none."""
    nameservers = list(settings.nameservers) or system_nameservers()
    transport = FastResolver if settings.transport == "fast" else DnsPythonResolver
    return transport(
        nameservers,
        timeout=settings.timeout.total_seconds(),
        attempts=settings.attempts,
        max_qps=settings.max_qps,
        observer=observer,
    )
