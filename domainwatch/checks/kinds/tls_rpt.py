"""SMTP TLS Reporting (RFC 8460; `receiving.tls_rpt`, record id `tls_rpt`): the
`_smtp._tls.<domain>` TXT record telling senders where to report TLS failures."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated

from pydantic import Field, Strict
from pydantic.dataclasses import dataclass as schema

from domainwatch.checks.base import (
    Answers,
    Diagnosis,
    DriftRules,
    Expectation,
    PlannedDomain,
    Published,
    Reason,
    RecordKind,
    Section,
    lookup_error,
)
from domainwatch.checks.diagnoses import mistakes
from domainwatch.dns.resolver import Lookup, Outcome, Query
from domainwatch.fields import SECTION_CONFIG, Flag, Text
from domainwatch.model import Finding, RecordResult, RecordState, Remediation, Severity

_VERSION = "v=TLSRPTv1"


class Code(enum.StrEnum):
    TLS_RPT_MISSING = "tls_rpt_missing"
    TLS_RPT_INVALID = "tls_rpt_invalid"


@schema(frozen=True, slots=True, config=SECTION_CONFIG)
class TlsRptConfig:
    """`receiving.tls_rpt`; `rua`: where reports go, for the suggested record (mailto: or
    https: URIs; default mailto:tls-reports@<domain>)."""

    required: Flag = False
    rua: Annotated[list[Text], Strict(), Field(max_length=10)] = Field(default_factory=list)


@dataclass(frozen=True, slots=True)
class TlsRptExpectation(Expectation):
    rua: tuple[str, ...] = ()

    @property
    def expected(self) -> str:
        return f"{_VERSION}; rua={','.join(self.rua)}"


def queries(expect: TlsRptExpectation, answers: Answers) -> set[Query]:
    query = Query.of(expect.name, "TXT")
    return set() if query in answers else {query}


def evaluate(expect: TlsRptExpectation, answers: Answers) -> RecordResult:
    query = Query.of(expect.name, "TXT")
    lookup = answers.get(query) or Lookup(query, Outcome.NETWORK, detail="not asked")
    if lookup.outcome.is_error:
        return _result(expect, RecordState.ERROR, (), [lookup_error(lookup)])
    # §3: records not beginning with the version are not TLSRPT records.
    records = tuple(r for r in lookup.records if r.startswith(_VERSION))
    fix = Remediation(expect.name, "TXT", expect.expected)
    if not records:
        message = f"no TLS-RPT record at {expect.name}: senders cannot report TLS failures to you"
        missing = Finding(Code.TLS_RPT_MISSING, Severity.ERROR, message, remediation=fix)
        return _result(expect, RecordState.MISSING, (), [missing])
    problem = invalid(records)
    if problem is not None:
        found = "; ".join(records)[:300]
        finding = Finding(Code.TLS_RPT_INVALID, Severity.ERROR, problem, found=found, remediation=fix)
        return _result(expect, RecordState.WRONG, records, [finding])
    return _result(expect, RecordState.PRESENT, records, [])


def invalid(records: tuple[str, ...]) -> str | None:
    """Why senders would not use these records (RFC 8460 §3), or None."""
    if len(records) > 1:
        return f"{len(records)} TLS-RPT records: senders use none of them; publish exactly one"
    fields = [part.strip() for part in records[0].split(";") if part.strip()]
    if fields[0] != _VERSION:
        return "the record must begin with v=TLSRPTv1;"
    values = dict(field.partition("=")[::2] for field in fields[1:])
    uris = [u.strip() for u in values.get("rua", "").split(",") if u.strip()]
    if not uris:
        return "the record has no rua= (where reports go)"
    bad = [u for u in uris if not (u.lower().startswith("mailto:") or u.lower().startswith("https://"))]
    if bad:
        return f"rua {bad[0][:80]!r} is neither a mailto: nor an https: URI"
    return None


def _result(
    expect: TlsRptExpectation, state: RecordState, found: tuple[str, ...], findings: list[Finding]
) -> RecordResult:
    return RecordResult(
        expect.record, expect.name, "TXT", state, expect.required, expect.expected, found, tuple(findings)
    )


def _drift_reasons(before: Published, after: Published) -> list[Reason]:
    if before.values and not after.values:
        return [Reason("tls_rpt_removed")]
    return [Reason("tls_rpt_added")] if after.values and not before.values else []


def diagnose(expect: TlsRptExpectation, answers: Answers, result: RecordResult) -> Diagnosis:
    """Not verifying? A quoted or padded record, or the record with the zone appended again."""
    return mistakes.txt_record(expect.name, answers, result.state is RecordState.MISSING, _is_tlsrpt)


def _is_tlsrpt(value: str) -> bool:
    return value.startswith(_VERSION)


def plan(domain: PlannedDomain, own: TlsRptConfig) -> list[Expectation]:
    rua = tuple(own.rua) or (f"mailto:tls-reports@{domain.name}",)
    return [TlsRptExpectation("tls_rpt", f"_smtp._tls.{domain.name}", own.required, rua)]


def publish(expect: TlsRptExpectation) -> tuple[Remediation, ...]:
    return (Remediation(expect.name, "TXT", expect.expected),)


def inspect_tls(name: str, hosts: Sequence[str]) -> list[Expectation]:
    del hosts
    return [TlsRptExpectation("tls_rpt", f"_smtp._tls.{name}", False, (f"mailto:tls-reports@{name}",))]


KIND = RecordKind(
    name="tls_rpt",
    section=Section.RECEIVING,
    key="tls_rpt",
    model=TlsRptConfig | None,
    default=None,
    capability="receiving",
    rdtype="TXT",
    plan=plan,
    queries=queries,
    evaluate=evaluate,
    codes=Code,
    diagnose=diagnose,
    version_tag=_is_tlsrpt,
    publish=publish,
    inspect_tls=inspect_tls,
    implied=TlsRptConfig(),
    drift=DriftRules(_drift_reasons),
)
