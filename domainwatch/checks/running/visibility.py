"""A second look at a record the recursive resolver says is missing: is it published after all?

A record just published is not seen by a resolver that cached the name's absence, until that
negative answer expires (its TTL, from the zone's SOA: RFC 2308). Before calling such a record
missing, ask every authoritative server of its zone (the zone the negative answer named): if
each one publishes it, the record is `not_yet_visible`, an error state (no status changes), with
when it will be seen. At most 1 NS query, the nameservers' addresses (MAX_NAMESERVERS, 2 each)
and the record's own queries on each: only for missing records, in recursive mode.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from datetime import timedelta
from typing import Protocol

from domainwatch.checks.base import Answers, Expectation
from domainwatch.checks.diagnoses.mistakes import Code
from domainwatch.checks.registry import kind_of
from domainwatch.dns.authoritative import zone_views
from domainwatch.dns.resolver import Lookup, Resolver
from domainwatch.model import Finding, RecordResult, RecordState, Severity


class LookSettings(Protocol):
    @property
    def timeout(self) -> timedelta: ...

    @property
    def authoritative_port(self) -> int: ...

    @property
    def allow_private_nameservers(self) -> bool: ...

    @property
    def attempts(self) -> int: ...


class Checker(Protocol):
    async def __call__(self, expect: Expectation, resolver: Resolver) -> RecordResult: ...


async def second_look(
    expectations: Sequence[Expectation],
    results: list[RecordResult],
    answers: Answers,
    *,
    resolver: Resolver,
    settings: LookSettings,
    check: Checker,
) -> None:
    """Replace each missing result whose record every authoritative server publishes."""
    looks = [
        (index, negative)
        for index, (expect, result) in enumerate(zip(expectations, results, strict=True))
        if result.state is RecordState.MISSING and (negative := _negative(expect, answers)) is not None
    ]
    outcomes = await asyncio.gather(
        *(_published(expectations[i], negative, resolver, settings, check) for i, negative in looks)
    )
    for (index, negative), seen in zip(looks, outcomes, strict=True):
        if seen is not None:
            results[index] = _not_yet_visible(results[index], negative, seen)


def _negative(expect: Expectation, answers: Answers) -> Lookup | None:
    """The record's own negative answer that names its zone, if any."""
    for query in sorted(kind_of(expect.record).queries(expect, {})):
        lookup = answers.get(query)
        if lookup is not None and lookup.outcome.is_void and lookup.zone:
            return lookup
    return None


async def _published(
    expect: Expectation, negative: Lookup, resolver: Resolver, settings: LookSettings, check: Checker
) -> list[RecordResult] | None:
    views = await zone_views(
        resolver,
        negative.zone,
        port=settings.authoritative_port,
        query_timeout=settings.timeout.total_seconds(),
        attempts=settings.attempts,
        allow_private=settings.allow_private_nameservers,
    )
    if isinstance(views, Lookup) or not views:
        return None
    seen = await asyncio.gather(*(check(expect, view) for view in views))
    return list(seen) if all(r.state is RecordState.PRESENT for r in seen) else None


def _not_yet_visible(result: RecordResult, negative: Lookup, seen: list[RecordResult]) -> RecordResult:
    message = (
        f"published on all {len(seen)} nameservers of {negative.zone}, but the resolver still answers "
        f"from its cache that {negative.query.name} has no {negative.query.rdtype} (cached for up to "
        f"{negative.ttl} s more, the zone's negative TTL): it becomes visible by then; the status waits"
    )
    finding = Finding(Code.NOT_YET_VISIBLE, Severity.ERROR, message)
    return dataclasses.replace(result, state=RecordState.ERROR, found=seen[0].found, findings=(finding,))
