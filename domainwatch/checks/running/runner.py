"""The async shell around the pure checks: resolve what a check asks for, then evaluate."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

import structlog

from domainwatch.checks.base import Answers, AnyKind, Diagnosis, Expectation, Observed
from domainwatch.checks.diagnoses.padded import judged, padded_values, stripped
from domainwatch.checks.registry import kind_of
from domainwatch.checks.relief import relieve
from domainwatch.checks.running.dnssec import bogus_look, own_lookups, with_signature_facts
from domainwatch.checks.running.guard import bounded, check_failed
from domainwatch.checks.running.views import check_views
from domainwatch.checks.running.visibility import second_look
from domainwatch.dns.batch import resolve_all
from domainwatch.dns.cache import PassCache
from domainwatch.dns.dnspython_resolver import system_nameservers
from domainwatch.dns.factory import TransportSettings, close, resolver_from
from domainwatch.dns.resolver import Lookup, Query, Resolver
from domainwatch.model import (
    DomainReport,
    RecordResult,
    RecordState,
)
from domainwatch.probes.answers import PROBE_TYPES, ProbeSettings
from domainwatch.probes.routing import Answerer, ProbingResolver


class CheckSettings(TransportSettings, Protocol):
    """What checking reads of the config's `resolver:` section."""

    @property
    def mode(self) -> str: ...  # recursive | authoritative

    @property
    def authoritative_port(self) -> int: ...

    @property
    def allow_private_nameservers(self) -> bool: ...


log = structlog.get_logger("domainwatch")
_MAX_ROUNDS = 64  # SPF evaluation asks one lookup per round; its own limits end it well before
DEFAULT_CONCURRENCY = 64


async def check_record(expect: Expectation, resolver: Resolver) -> RecordResult:
    return (await check_records([expect], resolver))[0]


async def check_records(
    expectations: Sequence[Expectation], resolver: Resolver, settings: CheckSettings | None = None
) -> list[RecordResult]:
    """Resolve in rounds what the checks ask for, all of them together, then evaluate each.

    One answer per query serves every check of the domain (as PassCache would), and a round's
    queries go out as one batch: a domain costs a task, not a task per record or per query.
    """
    return list((await _resolve_and_evaluate(expectations, resolver, settings))[1])


async def _resolve_and_evaluate(
    expectations: Sequence[Expectation], resolver: Resolver, settings: CheckSettings | None = None
) -> tuple[dict[Query, Lookup], tuple[RecordResult, ...]]:
    """Resolve and evaluate; `settings` (recursive mode): missing records get a second look
    at their zone's authoritative servers (visibility.py)."""
    kinds = [kind_of(e.record) for e in expectations]
    answers: dict[Query, Lookup] = {}
    failed: dict[int, Exception] = {}  # a kind's code raised on this record: it asks nothing more
    # Records whose every query is answered: asking them again (each round, while another
    # record follows a chain) would evaluate them again for nothing (base.py's contract).
    settled: set[int] = set()
    for _ in range(_MAX_ROUNDS):
        wanted: set[Query] = set()
        for index, (kind, expect) in enumerate(zip(kinds, expectations, strict=True)):
            if index not in failed and index not in settled:
                try:
                    asks = kind.queries(expect, answers)
                    padded = padded_values(kind, expect, answers)
                    if padded:  # also what the fix's evaluation asks (padded.py)
                        asks |= kind.queries(expect, stripped(expect, answers, padded))
                except Exception as exc:  # a defect, on one record: that record's error
                    failed[index] = _reported(exc, expect)
                    continue
                if asks <= answers.keys():
                    settled.add(index)
                wanted |= asks
        needed = sorted(wanted - answers.keys())
        if not needed:
            break
        answers.update(zip(needed, await resolve_all(_able(resolver, needed), needed), strict=True))
    results = [
        _evaluated(kind, expect, answers, failed.get(index))
        for index, (kind, expect) in enumerate(zip(kinds, expectations, strict=True))
    ]
    await _diagnose(kinds, expectations, results, answers, resolver)
    results = [_with_zone(r, e, answers) for e, r in zip(expectations, results, strict=True)]
    if settings is not None and settings.mode == "recursive":
        await second_look(
            expectations, results, answers, resolver=resolver, settings=settings, check=check_record
        )
        await bogus_look(
            expectations,
            results,
            answers,
            nameservers=list(settings.nameservers) or system_nameservers(),
            query_timeout=settings.timeout.total_seconds(),
            now=time.time(),
        )
        results = [
            with_signature_facts(result, own_lookups(expect, answers))
            for expect, result in zip(expectations, results, strict=True)
        ]
    return answers, tuple(relieve(expectations, results, answers))


def _with_zone(result: RecordResult, expect: Expectation, answers: Answers) -> RecordResult:
    """A missing or wrong record's zone, as its negative answer named it (the SOA's owner): the
    publish block gives hosts relative to it, as a DNS provider's form wants them."""
    if result.state not in (RecordState.MISSING, RecordState.WRONG):
        return result
    zones = [lookup.zone for lookup in own_lookups(expect, answers) if lookup.outcome.is_void and lookup.zone]
    return dataclasses.replace(result, facts={**result.facts, "zone": zones[0]}) if zones else result


async def _diagnose(
    kinds: Sequence[AnyKind],
    expectations: Sequence[Expectation],
    results: list[RecordResult],
    answers: dict[Query, Lookup],
    resolver: Resolver,
) -> None:
    """Look for missing and wrong records where they were probably put by mistake (one more
    round of queries, only for those records), and put what is found first among their
    findings."""
    troubled = [
        i
        for i, (kind, result) in enumerate(zip(kinds, results, strict=True))
        if kind.diagnose is not None and result.state in (RecordState.MISSING, RecordState.WRONG)
    ]
    if not troubled:
        return
    wanted: set[Query] = set()
    for index in troubled:
        wanted |= _diagnosis(kinds[index], expectations[index], answers, results[index]).queries
    needed = sorted(wanted - answers.keys())
    if needed:
        answers.update(zip(needed, await resolve_all(_able(resolver, needed), needed), strict=True))
    for index in troubled:
        result = results[index]
        known = {f.code for f in result.findings}  # a padded record's own finding stays one
        found = tuple(
            f
            for f in _diagnosis(kinds[index], expectations[index], answers, result).findings
            if f.code not in known
        )
        if found:
            results[index] = bounded(dataclasses.replace(result, findings=(*found, *result.findings)))


def _diagnosis(kind: AnyKind, expect: Expectation, answers: Answers, result: RecordResult) -> Diagnosis:
    assert kind.diagnose is not None
    try:
        return kind.diagnose(expect, answers, result)
    except Exception as exc:  # a defect in a diagnosis: the record's result stands without it
        _reported(exc, expect)
        return Diagnosis()


def _able(resolver: Resolver, queries: Sequence[Query]) -> Resolver:
    """A resolver that answers every query: probes asked of one that cannot probe (no prober
    given) are answered "probes are off", never sent to DNS as a record type."""
    if isinstance(resolver, ProbingResolver) or PROBE_TYPES.isdisjoint(q.rdtype for q in queries):
        return resolver
    return ProbingResolver(resolver, None)


def _evaluated(
    kind: AnyKind, expect: Expectation, answers: Answers, failed: Exception | None
) -> RecordResult:
    if failed is not None:
        return check_failed(kind, expect, failed)
    try:
        result = kind.evaluate(expect, answers)
        padded = padded_values(kind, expect, answers)
        if padded:
            fixed = kind.evaluate(expect, stripped(expect, answers, padded))
            result = judged(kind, expect, result, fixed, padded)
        return bounded(result)
    except Exception as exc:  # a defect, on one record: that record's error
        return check_failed(kind, expect, _reported(exc, expect))


def _reported(exc: Exception, expect: Expectation) -> Exception:
    """Log a check that raised (with its traceback the first time per kind and error)."""
    key = (expect.record.partition(":")[0], type(exc).__name__)
    log.warning(
        "check_raised",
        record=expect.record,
        name=expect.name,
        error=type(exc).__name__,
        exc_info=key not in _LOGGED,
    )
    _LOGGED.add(key)
    return exc


_LOGGED: set[tuple[str, str]] = set()


def digest(lookups: Iterable[Lookup]) -> bytes:
    """A 128-bit BLAKE2b digest of what evaluation can read of these answers: all but the TTLs,
    which a recursive resolver's cache counts down between checks and which no check reads.

    A digest, not the answers: the daemon keeps one per domain (16 bytes instead of about a
    kilobyte). The repr of the tuples is an unambiguous encoding of them.
    """
    seen = tuple(
        (a.outcome.value, a.records, a.aliases, a.detail, a.server, a.authenticated, a.signatures_expire)
        for a in lookups
    )
    return hashlib.blake2b(repr(seen).encode(), digest_size=16).digest()


async def observe_records(
    expectations: Sequence[Expectation],
    resolver: Resolver,
    previous: Observed | None = None,
    settings: CheckSettings | None = None,
) -> Observed:
    """check_records, keeping what the next check of the domain needs to know.

    With `previous` (the last check of the same expectations), its queries are asked again first,
    in one batch; if every answer is the same, so is every result (a check is a pure function of
    its answers), and `previous` itself is returned: no evaluation, and a round instead of the
    three an SPF include chain takes. Otherwise the domain is checked afresh.
    """
    if (
        previous is not None
        and previous.expectations is expectations
        and digest(await resolve_all(resolver, previous.queries)) == previous.seen
    ):
        return previous
    answers, results = await _resolve_and_evaluate(expectations, resolver, settings)
    return Observed(expectations, tuple(answers), digest(answers.values()), results)


async def check_domain(
    name: str,
    expectations: Sequence[Expectation],
    resolver: Resolver,
    settings: CheckSettings | None = None,
) -> DomainReport:
    """Check every expectation of one domain, through each authoritative server if asked.

    Identical queries within the check are made once: check_records shares one answer per
    query between the records, and the views share what they ask through a PassCache.
    """
    if settings is None or settings.mode == "recursive":
        return DomainReport(name, tuple(await check_records(expectations, resolver, settings)))
    return await check_views(name, expectations, resolver, settings, check_record)


async def recheck_domain(
    name: str,
    expectations: Sequence[Expectation],
    resolver: Resolver,
    settings: CheckSettings | None = None,
    previous: Observed | None = None,
) -> tuple[DomainReport, Observed | None]:
    """check_domain, given the domain's last check: its report and what to pass next time.

    A recursive check whose answers are all the same as last time returns `previous` itself
    (see observe_records). Authoritative checks are always made afresh (None).
    """
    if settings is None or settings.mode == "recursive":
        observed = await observe_records(expectations, resolver, previous, settings)
        return DomainReport(name, observed.results), observed
    return await check_views(name, expectations, resolver, settings, check_record), None


async def check_with(
    domains: Iterable[tuple[str, Sequence[Expectation]]],
    settings: CheckSettings,
    probes: ProbeSettings | None = None,
    on_done: Callable[[DomainReport], None] | None = None,
) -> list[DomainReport]:
    """One pass with a resolver made (and closed) for it: what the one-shot commands run.
    `probes`: settings for the STARTTLS and MTA-STS probes (none: those records are errors)."""
    resolver = resolver_from(settings)
    prober = None
    if probes is not None:
        # Here, not at the top: the prober brings HTTP and SMTP clients, which no other
        # one-shot command needs (`spf-eval` starts without them).
        from domainwatch.probes.prober import Prober  # noqa: PLC0415

        prober = Prober(resolver, probes, time.time, recheck=0)
    try:
        return await check_many(domains, resolver, settings, prober=prober, on_done=on_done)
    finally:
        await close(resolver)


async def check_many(
    domains: Iterable[tuple[str, Sequence[Expectation]]],
    resolver: Resolver,
    settings: CheckSettings | None = None,
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    prober: Answerer | None = None,
    on_done: Callable[[DomainReport], None] | None = None,
) -> list[DomainReport]:
    """One pass over many domains; identical lookups within the pass are made once. Each domain
    asks the prober through a resolver of its own: its share of the probes is its own.
    `on_done` hears of each domain as it is done (the CLI's progress)."""
    cache = PassCache(resolver)
    limit = asyncio.Semaphore(concurrency)

    async def one(name: str, expectations: Sequence[Expectation]) -> DomainReport:
        asking: Resolver = cache if prober is None else ProbingResolver(cache, prober)
        async with limit:
            report = await check_domain(name, expectations, asking, settings)
        if on_done is not None:
            on_done(report)
        return report

    return list(await asyncio.gather(*(one(n, e) for n, e in domains)))
