"""The open/click tracking CNAME (advisory: it never counts toward a capability)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from pydantic.dataclasses import dataclass as schema

from domainwatch.checks.base import (
    Answers,
    Diagnosis,
    Expectation,
    PlannedDomain,
    RecordKind,
    Section,
    lookup_error,
    same_host,
)
from domainwatch.checks.diagnoses import mistakes
from domainwatch.dns.resolver import Query
from domainwatch.fields import SECTION_CONFIG, DomainName, RelativeHost
from domainwatch.model import Finding, RecordResult, RecordState, Remediation, Severity


class Code(enum.StrEnum):
    TRACKING_MISSING = "tracking_missing"
    TRACKING_WRONG = "tracking_wrong"


@schema(frozen=True, slots=True, config=SECTION_CONFIG)
class TrackingConfig:
    """`tracking`: the host (under the domain) that must be a CNAME to the tracking provider."""

    host: RelativeHost
    cname: DomainName


@dataclass(frozen=True, slots=True)
class TrackingExpectation(Expectation):
    cname: str = ""


def queries(expect: TrackingExpectation, answers: Answers) -> set[Query]:
    query = Query.of(expect.name, "CNAME")
    return set() if query in answers else {query}


def evaluate(expect: TrackingExpectation, answers: Answers) -> RecordResult:
    lookup = answers.get(Query.of(expect.name, "CNAME"))
    fix = Remediation(expect.name, "CNAME", expect.cname)
    if lookup is None or lookup.outcome.is_error:
        return _result(expect, RecordState.ERROR, (), lookup_error(lookup) if lookup else None)
    if not lookup.records:
        return _result(
            expect,
            RecordState.MISSING,
            (),
            Finding(
                Code.TRACKING_MISSING,
                Severity.ERROR,
                f"no CNAME at {expect.name}",
                expected=expect.cname,
                remediation=fix,
            ),
        )
    if not same_host(lookup.records[0], expect.cname):
        return _result(
            expect,
            RecordState.WRONG,
            lookup.records,
            Finding(
                Code.TRACKING_WRONG,
                Severity.ERROR,
                f"{expect.name} points to {lookup.records[0]}, not {expect.cname}",
                expected=expect.cname,
                found=lookup.records[0],
                remediation=fix,
            ),
        )
    return _result(expect, RecordState.PRESENT, lookup.records, None)


def _result(
    expect: TrackingExpectation, state: RecordState, found: tuple[str, ...], finding: Finding | None
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


def diagnose(expect: TrackingExpectation, answers: Answers, result: RecordResult) -> Diagnosis:
    """Not verifying? The CNAME at the name with the zone appended again, or addresses where
    the CNAME should be (a provider proxying or flattening the name)."""
    if result.state is not RecordState.MISSING:
        return Diagnosis()
    found = mistakes.doubled_name(expect.name, "CNAME", answers, lambda answer: bool(answer.records))
    return found + mistakes.flattened(expect.name, answers)


def plan(domain: PlannedDomain, own: TrackingConfig) -> list[Expectation]:
    return [TrackingExpectation("tracking", f"{own.host}.{domain.name}", False, own.cname)]


def publish(expect: TrackingExpectation) -> tuple[Remediation, ...]:
    return (Remediation(expect.name, "CNAME", expect.cname),)


KIND = RecordKind(
    name="tracking",
    section=Section.DOMAIN,
    key="tracking",
    model=TrackingConfig | None,
    default=None,
    capability="sending",
    rdtype="CNAME",
    plan=plan,
    queries=queries,
    evaluate=evaluate,
    codes=Code,
    diagnose=diagnose,
    publish=publish,
)
