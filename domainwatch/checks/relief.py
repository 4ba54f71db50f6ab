"""Rules across records of one domain's check (pure): what one record's result changes in
another's.

DANE-EE (RFC 7672 §3.1.1): where a validated `3 x x` TLSA record matches the certificate an MX
address presents, senders that use DANE ignore the certificate's names, dates and issuer, so
the `starttls` record's certificate findings for that address become warnings. Not when the
domain's MTA-STS policy is `enforce`: those senders still require a valid certificate.
"""

from __future__ import annotations

from collections.abc import Sequence

from domainwatch.checks.base import Answers, Expectation
from domainwatch.checks.kinds import dane, starttls
from domainwatch.model import RecordResult


def relieve(
    expectations: Sequence[Expectation], results: Sequence[RecordResult], answers: Answers
) -> list[RecordResult]:
    """The results, the starttls ones relieved where DANE-EE matches."""
    checked_dane = {e.name for e in expectations if e.record.startswith("dane:")}
    if not checked_dane or _mta_sts_mode(results) == "enforce":
        return list(results)
    return [
        starttls.relieved(result, dane.ee_matched(expect.name, answers))
        if expect.record.startswith("starttls:") and expect.name in checked_dane
        else result
        for expect, result in zip(expectations, results, strict=True)
    ]


def _mta_sts_mode(results: Sequence[RecordResult]) -> str | None:
    for result in results:
        if result.record == "mta_sts":
            mode = result.facts.get("mta_sts_mode")
            return str(mode) if mode is not None else None
    return None
