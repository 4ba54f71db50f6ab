"""A record published with whitespace before its version tag (`" v=DMARC1; p=reject"`): it is
there, and receivers discard it (SPF, DMARC, MTA-STS and TLS-RPT select records by their first
characters), so whatever applies is what applies without it. Pure.

Such a record is `wrong`, never `missing` nor `present`: the `txt_value_whitespace` error says
what applies instead, and carries the fix, found by evaluating the same answers with the value
stripped: the stripped value itself when that passes, else the kind's own fix for it. The runner
asks the queries of both evaluations (`stripped`), so the fix is checked against the same DNS.
DKIM is not among these kinds: its tag-list allows leading whitespace (RFC 6376 §3.2).
"""

from __future__ import annotations

import dataclasses

from domainwatch.checks.base import Answers, AnyKind, Expectation
from domainwatch.checks.diagnoses.mistakes import Code
from domainwatch.dns.resolver import Lookup, Query
from domainwatch.model import Finding, RecordResult, RecordState, Remediation, Severity


def padded_values(kind: AnyKind, expect: Expectation, answers: Answers) -> tuple[str, ...]:
    """The values at the record's name that would be its record but for leading whitespace,
    when no value there is selected as the record; () otherwise (the usual case, and cheap)."""
    if kind.version_tag is None:
        return ()
    lookup = answers.get(Query.of(expect.name, "TXT"))
    if lookup is None or not any(value[:1].isspace() for value in lookup.records):
        return ()
    if any(kind.version_tag(value) for value in lookup.records):
        return ()  # receivers select that one; a padded one beside it is ignored, harmlessly
    return tuple(v for v in lookup.records if v[:1].isspace() and kind.version_tag(v.lstrip()))


def stripped(expect: Expectation, answers: Answers, padded: tuple[str, ...]) -> dict[Query, Lookup]:
    """The answers as they would be with the padded values published without their whitespace."""
    query = Query.of(expect.name, "TXT")
    lookup = answers[query]
    records = tuple(value.lstrip() if value in padded else value for value in lookup.records)
    return {**answers, query: dataclasses.replace(lookup, records=records)}


def judged(
    kind: AnyKind, expect: Expectation, raw: RecordResult, fixed: RecordResult, padded: tuple[str, ...]
) -> RecordResult:
    """`raw` (what receivers see) made `wrong`, led by the `txt_value_whitespace` error and its
    fix; `fixed` is the evaluation of the stripped values."""
    instead = kind.applies_instead(raw) if kind.applies_instead is not None else "nothing"
    message = (
        f"the record at {expect.name} starts with whitespace, not its version tag: receivers "
        f"discard it, and what applies instead is {instead}; publish it without the leading spaces"
    )
    finding = Finding(
        Code.TXT_VALUE_WHITESPACE,
        Severity.ERROR,
        message,
        found=padded[0][:200],
        remediation=_fix(expect, fixed, padded, raw),
    )
    kept = tuple(f for f in raw.findings if f.severity is not Severity.ERROR)
    return dataclasses.replace(raw, state=RecordState.WRONG, findings=(finding, *kept))


def _fix(
    expect: Expectation, fixed: RecordResult, padded: tuple[str, ...], raw: RecordResult
) -> Remediation | None:
    if fixed.state is RecordState.PRESENT and len(padded) == 1:
        return Remediation(expect.name, "TXT", padded[0].lstrip())
    for result in (fixed, raw):
        fix = next((f.remediation for f in result.findings if f.remediation is not None), None)
        if fix is not None and fix.type == "TXT":
            return fix
    return None
