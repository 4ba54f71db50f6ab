"""A name that must be a CNAME to a provider's host: what the tracking host and a return path
that is a CNAME share (their kinds differ in key, codes and whether they count)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from domainwatch.checks.base import (
    Answers,
    Diagnosis,
    DriftRules,
    Expectation,
    Published,
    Reason,
    lookup_error,
    same_host,
)
from domainwatch.checks.diagnoses import mistakes
from domainwatch.dns.resolver import Query
from domainwatch.model import Finding, RecordResult, RecordState, Remediation, Severity


@dataclass(frozen=True, slots=True)
class CnameExpectation(Expectation):
    cname: str = ""


def queries(expect: CnameExpectation, answers: Answers) -> set[Query]:
    query = Query.of(expect.name, "CNAME")
    return set() if query in answers else {query}


def evaluate(
    expect: CnameExpectation, answers: Answers, missing: enum.StrEnum, wrong: enum.StrEnum
) -> RecordResult:
    """Present when the name's CNAME is the expected target; `missing` and `wrong` are the
    kind's codes for no CNAME and another target."""
    lookup = answers.get(Query.of(expect.name, "CNAME"))
    fix = Remediation(expect.name, "CNAME", expect.cname)
    if lookup is None or lookup.outcome.is_error:
        return _result(expect, RecordState.ERROR, (), lookup_error(lookup) if lookup else None)
    if not lookup.records:
        message = f"no CNAME at {expect.name}"
        finding = Finding(missing, Severity.ERROR, message, expected=expect.cname, remediation=fix)
        return _result(expect, RecordState.MISSING, (), finding)
    if not same_host(lookup.records[0], expect.cname):
        message = f"{expect.name} points to {lookup.records[0]}, not {expect.cname}"
        finding = Finding(
            wrong, Severity.ERROR, message, expected=expect.cname, found=lookup.records[0], remediation=fix
        )
        return _result(expect, RecordState.WRONG, lookup.records, finding)
    return _result(expect, RecordState.PRESENT, lookup.records, None)


def _result(
    expect: CnameExpectation, state: RecordState, found: tuple[str, ...], finding: Finding | None
) -> RecordResult:
    return RecordResult(
        expect.record,
        expect.name,
        "CNAME",
        state,
        expect.required,
        expect.cname,
        found,
        (finding,) if finding else (),
    )


def diagnose(expect: CnameExpectation, answers: Answers, result: RecordResult) -> Diagnosis:
    """Not verifying? The CNAME at the name with the zone appended again, or addresses where
    the CNAME should be (a provider proxying or flattening the name)."""
    if result.state is not RecordState.MISSING:
        return Diagnosis()
    found = mistakes.doubled_name(expect.name, "CNAME", answers, lambda answer: bool(answer.records))
    return found + mistakes.flattened(expect.name, answers)


def publish(expect: CnameExpectation) -> tuple[Remediation, ...]:
    return (Remediation(expect.name, "CNAME", expect.cname),)


def _drift_reasons(before: Published, after: Published) -> list[Reason]:
    """Another target (or none): a change of where the name leads, neither weaker nor stronger."""
    targets = [{v.rstrip(".").lower() for v in s.values} for s in (before, after)]
    return [Reason("cname_target_changed")] if targets[0] != targets[1] else []


DRIFT = DriftRules(_drift_reasons)
