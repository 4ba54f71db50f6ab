"""What every check module shares: the answers it reads, expectations, and small helpers.

A check module is two pure functions over an expectation and the answers gathered so far:
`queries(expect, answers)` names what it still needs resolved (it may depend on earlier answers,
as when SPF follows includes), and `evaluate(expect, answers)` turns the answers into a
RecordResult. The runner resolves until `queries` asks for nothing new, then evaluates.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from domainwatch.dns.resolver import Lookup, Outcome, Query
from domainwatch.model import Finding, FindingCode, RecordState, Severity

Answers = Mapping[Query, Lookup]


@dataclass(frozen=True, slots=True)
class Expectation:
    """One record a domain must (or, when not required, should) publish."""

    record: str  # the record id: spf, dkim:<selector>, return_path_mx, ...
    name: str  # the owner name to query
    required: bool


def lookup_error(lookup: Lookup) -> Finding:
    detail = f" ({lookup.detail})" if lookup.detail else ""
    server = f" from {lookup.server}" if lookup.server else ""
    return Finding(
        FindingCode.LOOKUP_ERROR,
        Severity.ERROR,
        f"{lookup.query.rdtype} lookup of {lookup.query.name} failed: "
        f"{lookup.outcome.value}{server}{detail}; the record's presence is unknown",
    )


def missing_lookup(query: Query) -> Lookup:
    """Stand-in for an answer the runner never fetched (treated as an error, never as absence)."""
    return Lookup(query, Outcome.TIMEOUT, detail="not resolved")


def answer(answers: Answers, query: Query) -> Lookup:
    return answers.get(query) or missing_lookup(query)


def unanswered(queries: Iterable[Query], answers: Answers) -> set[Query]:
    return {q for q in queries if q not in answers}


def state_from(findings: Iterable[Finding]) -> RecordState:
    """PRESENT unless a finding is an error, which makes the published record WRONG."""
    if any(f.severity is Severity.ERROR for f in findings):
        return RecordState.WRONG
    return RecordState.PRESENT


def same_host(a: str, b: str) -> bool:
    return a.rstrip(".").lower() == b.rstrip(".").lower()
