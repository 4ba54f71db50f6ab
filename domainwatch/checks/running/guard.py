"""What a check that raised reports, and the size a result may have (pure).

DNS data is written by strangers: every parser is bounded and total, and the hypothesis tests
feed each kind random and near-valid records. If a kind's code raises anyway, that is a defect;
the record becomes an error (its status does not change, as for a lookup error), and the
domain's other records and other domains go on."""

from __future__ import annotations

from dataclasses import replace

from domainwatch.checks.base import AnyKind, Expectation
from domainwatch.model import CommonCode, Finding, RecordResult, RecordState, Severity


def check_failed(kind: AnyKind, expect: Expectation, exc: Exception) -> RecordResult:
    finding = Finding(
        CommonCode.CHECK_FAILED,
        Severity.ERROR,
        f"domainwatch could not evaluate this record ({type(exc).__name__}); it counts as a lookup "
        "error, so its status is unchanged. This is a defect in domainwatch: please report it",
    )
    return RecordResult(
        expect.record, expect.name, kind.rdtype, RecordState.ERROR, expect.required, None, (), (finding,)
    )


# What one record's result may hold: a stranger's DNS can publish 64 KB TXT records, or a DMARC
# record listing thousands of report addresses, and every result is stored and may be sent in
# every webhook about the domain.
MAX_FOUND = 20  # values
MAX_VALUE = 4096  # characters of one found, expected or message text
MAX_FINDINGS = 30
MAX_FIX = 8192  # a longer record could not be published as one TXT anyway


def _cut(text: str | None, limit: int = MAX_VALUE) -> str | None:
    if text is None or len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit} more characters)"


def _bounded_finding(finding: Finding) -> Finding:
    fix = finding.remediation
    if fix is not None and len(fix.value) > MAX_FIX:
        fix = None
    return Finding(
        finding.code,
        finding.severity,
        _cut(finding.message) or "",
        _cut(finding.expected),
        _cut(finding.found),
        fix,
    )


def _too_big(result: RecordResult) -> bool:
    if len(result.found) > MAX_FOUND or len(result.findings) > MAX_FINDINGS:
        return True
    if any(len(value) > MAX_VALUE for value in result.found):
        return True
    return any(
        len(f.message) > MAX_VALUE
        or len(f.expected or "") > MAX_VALUE
        or len(f.found or "") > MAX_VALUE
        or (f.remediation is not None and len(f.remediation.value) > MAX_FIX)
        for f in result.findings
    )


def bounded(result: RecordResult) -> RecordResult:
    """The result within the limits above (the same object when it already is, as usual)."""
    if not _too_big(result):
        return result
    found = tuple(_cut(v) or "" for v in result.found[:MAX_FOUND])
    findings = [_bounded_finding(f) for f in result.findings[:MAX_FINDINGS]]
    dropped = len(result.found) - len(found), len(result.findings) - len(findings)
    findings.append(
        Finding(
            CommonCode.RESULT_TRUNCATED,
            Severity.INFO,
            f"this result was cut to fit: {dropped[0]} more published values and {dropped[1]} more "
            f"findings not shown, long texts shortened",
        )
    )
    return replace(result, found=found, findings=tuple(findings))
