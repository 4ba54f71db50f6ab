"""The SPF check's findings from an evaluation and a record (pure): the codes, what a probe
evaluation and the record's own terms say, and the notice for a record too long for one string."""

from __future__ import annotations

import enum

from domainwatch.model import Finding, Remediation, Severity
from domainwatch.spf.syntax import SpfRecord
from domainwatch.spf.types import Evaluation, Problem, Result

MAX_RECORD_OCTETS = 512  # §3.4: keep the answer within a classic UDP datagram
MAX_STRING_OCTETS = 255  # §3.3: one character-string


class Code(enum.StrEnum):
    SPF_MISSING = "spf_missing"
    SPF_MULTIPLE = "spf_multiple"
    SPF_SYNTAX = "spf_syntax"
    SPF_NOT_AUTHORIZED = "spf_not_authorized"
    SPF_TOO_MANY_LOOKUPS = "spf_too_many_lookups"
    SPF_TOO_MANY_VOID_LOOKUPS = "spf_too_many_void_lookups"
    SPF_LOOP = "spf_loop"
    SPF_INCLUDE_INVALID = "spf_include_invalid"
    SPF_PASS_ALL = "spf_pass_all"  # noqa: S105 (a finding code, not a password)
    SPF_NEUTRAL_ALL = "spf_neutral_all"
    SPF_PTR = "spf_ptr"
    SPF_STRING_TOO_LONG = "spf_string_too_long"
    SPF_RECORD_TOO_LONG = "spf_record_too_long"
    SPF_MACRO_NOT_FOLLOWED = "spf_macro_not_followed"
    SPF_MX_TOO_MANY_HOSTS = "spf_mx_too_many_hosts"


PROBLEM_CODES = {
    Problem.TOO_MANY_LOOKUPS: Code.SPF_TOO_MANY_LOOKUPS,
    Problem.TOO_MANY_VOID: Code.SPF_TOO_MANY_VOID_LOOKUPS,
    Problem.TOO_MANY_MX: Code.SPF_MX_TOO_MANY_HOSTS,
}


def with_fix(finding: Finding, fix: Remediation) -> Finding:
    return Finding(finding.code, finding.severity, finding.message, finding.expected, finding.found, fix)


def probe_findings(probe: Evaluation) -> list[Finding]:
    out: list[Finding] = []
    if probe.result is Result.PERMERROR and probe.problem is not None:
        code = PROBLEM_CODES.get(probe.problem, Code.SPF_INCLUDE_INVALID)
        out.append(
            Finding(
                code,
                Severity.ERROR,
                f"receivers get permerror: {probe.message}",
                found=str(probe.dns_lookups) if code is Code.SPF_TOO_MANY_LOOKUPS else None,
            )
        )
    out += [Finding(Code.SPF_LOOP, Severity.ERROR, f"include loop: {loop}") for loop in probe.loops]
    out += [
        Finding(
            Code.SPF_MACRO_NOT_FOLLOWED,
            Severity.INFO,
            f"{r.value} uses macros and depends on the sender; not followed",
        )
        for r in probe.reached
        if r.kind == "macro"
    ]
    return out


def policy_findings(record: SpfRecord, probe: Evaluation) -> list[Finding]:
    out: list[Finding] = []
    for mech in record.mechanisms:
        if mech.kind == "all" and mech.qualifier.value == "+":
            out.append(
                Finding(
                    Code.SPF_PASS_ALL,
                    Severity.ERROR,
                    f"{mech.text!r} authorizes every host on the internet",
                    found=mech.text,
                )
            )
        elif mech.kind == "all" and mech.qualifier.value == "?":
            out.append(
                Finding(
                    Code.SPF_NEUTRAL_ALL,
                    Severity.WARNING,
                    f"{mech.text!r} asserts nothing about unlisted hosts; use ~all or -all",
                    found=mech.text,
                )
            )
    if probe.uses_ptr or any(m.kind == "ptr" for m in record.mechanisms):  # even ptr:%{d}, not followed
        out.append(
            Finding(
                Code.SPF_PTR,
                Severity.WARNING,
                "the ptr mechanism is slow and unreliable (RFC 7208 §5.5: SHOULD NOT be used)",
            )
        )
    if len(record.text.encode()) > MAX_RECORD_OCTETS:
        out.append(
            Finding(
                Code.SPF_RECORD_TOO_LONG,
                Severity.WARNING,
                f"record is {len(record.text.encode())} octets; over {MAX_RECORD_OCTETS} "
                "it may not fit a UDP answer (RFC 7208 §3.4)",
            )
        )
    return out


def split_notice(fix: Remediation | None) -> list[Finding]:
    if fix is None or len(fix.value.encode()) <= MAX_STRING_OCTETS:
        return []
    return [
        Finding(
            Code.SPF_STRING_TOO_LONG,
            Severity.INFO,
            f"the record to publish is over {MAX_STRING_OCTETS} octets: publish it as several "
            "quoted strings in one TXT record (RFC 7208 §3.3)",
            remediation=fix,
        )
    ]
