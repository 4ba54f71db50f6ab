"""The record kinds, in the order a domain's records are planned, checked and shown.

Adding a kind: one module ending in `KIND = RecordKind(...)` (checks/base.py), and one line
here. docs/architecture.md walks through it.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

from domainwatch.checks.base import AnyKind
from domainwatch.checks.diagnoses import mistakes
from domainwatch.checks.kinds import dane, mta_sts, mx, return_path, reverse_dns, starttls, tls_rpt, tracking
from domainwatch.checks.kinds.dkim import kind as dkim
from domainwatch.checks.kinds.dmarc import kind as dmarc
from domainwatch.checks.kinds.spf import kind as spf
from domainwatch.model import CommonCode
from domainwatch.state.facts import SEVERITIES, DomainFacts

KINDS: tuple[AnyKind, ...] = (
    spf.KIND,
    dkim.KIND,
    mx.RETURN_PATH_KIND,
    return_path.KIND,
    mx.RECEIVING_KIND,
    dmarc.KIND,
    tracking.KIND,
    reverse_dns.KIND,
    starttls.KIND,
    dane.KIND,
    mta_sts.KIND,
    tls_rpt.KIND,
)
_BY_NAME = {kind.name: kind for kind in KINDS}


def kind_of(record: str) -> AnyKind:
    """The kind of a record id (`spf`, `dkim:<selector>`, ...)."""
    return _BY_NAME[record.partition(":")[0]]


def finding_codes() -> list[enum.StrEnum]:
    """Every finding code there is: the common ones, then each kind's (a closed vocabulary)."""
    seen: dict[str, enum.StrEnum] = {code.value: code for code in (*CommonCode, *mistakes.Code)}
    for kind in KINDS:
        for code in kind.codes:
            seen.setdefault(code.value, code)
    return list(seen.values())


PROBLEM_CHARS = 120  # of a domain's first error, kept for the overview
# Facts every kind's records may hold (checks/running/dnssec.py), kept for the metrics as the kinds' own.
COMMON_FACTS = ("dnssec_validated", "signatures_expire")


def facts_of(results: Mapping[str, Mapping[str, Any]]) -> DomainFacts:
    """The few numbers metrics export, from {record id: RecordResult.as_dict()}: the findings
    by severity, and of each record the facts its kind exports (FactMetric)."""
    counts = dict.fromkeys(SEVERITIES, 0)
    kept: dict[str, dict[str, str | int]] = {}
    codes: set[str] = set()
    problem = ""
    for record, result in results.items():
        for finding in result.get("findings", []):
            counts[finding["severity"]] = counts.get(finding["severity"], 0) + 1
            code = finding.get("code")
            if code and finding["severity"] in ("error", "warning"):
                codes.add(code)
            if code and not problem and finding["severity"] == "error":
                problem = f"{code}: {finding.get('message', '')}"[:PROBLEM_CHARS]
        facts = result.get("facts", {})
        kind = _BY_NAME.get(record.partition(":")[0])
        wanted = {m.fact: facts[m.fact] for m in kind.metrics if m.fact in facts} if kind else {}
        wanted |= {name: facts[name] for name in COMMON_FACTS if name in facts}
        if wanted:
            kept[record] = wanted
    return DomainFacts(counts, kept, tuple(sorted(codes)), problem)
