"""SPF (RFC 7208) on the return-path domain: published once, valid, within limits, authorizing.

Every verdict comes from the one RFC 7208 evaluator (domainwatch.spf): a probe run that matches
nothing but "all" counts the lookups a receiver would make for an unlisted sender (the worst
case) and shows which includes and networks would pass; a run per `authorize:` address asks the
question that matters: would mail from this provider pass?
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from domainwatch.checks.base import Answers, Expectation, lookup_error, state_from
from domainwatch.dns.resolver import Lookup, Outcome, Query
from domainwatch.model import Finding, FindingCode, RecordResult, RecordState, Remediation, Severity
from domainwatch.spf.shell import evaluate_offline
from domainwatch.spf.syntax import IPNetwork, SpfRecord, is_spf, parse
from domainwatch.spf.types import Evaluation, Problem, Result

MAX_RECORD_OCTETS = 512  # §3.4: keep the answer within a classic UDP datagram
MAX_STRING_OCTETS = 255  # §3.3: one character-string
_PROBLEM_CODES = {
    Problem.TOO_MANY_LOOKUPS: FindingCode.SPF_TOO_MANY_LOOKUPS,
    Problem.TOO_MANY_VOID: FindingCode.SPF_TOO_MANY_VOID_LOOKUPS,
    Problem.TOO_MANY_MX: FindingCode.SPF_MX_TOO_MANY_HOSTS,
}


@dataclass(frozen=True, slots=True)
class SpfExpectation(Expectation):
    includes: tuple[str, ...] = ()
    networks: tuple[IPNetwork, ...] = ()  # addresses whose mail must pass check_host()
    all_qualifier: str = "~"

    def expected_record(self) -> str:
        terms = [f"include:{d}" for d in self.includes] + [network_term(n) for n in self.networks]
        return " ".join(["v=spf1", *terms, f"{self.all_qualifier}all"])


def network_term(net: IPNetwork) -> str:
    single = net.prefixlen == net.max_prefixlen
    return f"ip{net.version}:{net.network_address if single else net}"


def probes(expect: SpfExpectation) -> list[str | None]:
    """The evaluations to run: the probe (None), then the ends of each authorized network."""
    addresses: list[str | None] = [None]
    for net in expect.networks:
        addresses += sorted({str(net.network_address), str(net[-1])})
    return addresses


def select(lookup: Lookup) -> list[str]:
    """The SPF records among a TXT answer (§4.5)."""
    return [r for r in lookup.records if is_spf(r)]


def queries(expect: SpfExpectation, answers: Answers) -> set[Query]:
    root = Query.of(expect.name, "TXT")
    if root not in answers:
        return {root}
    needed = set()
    for ip in probes(expect):
        outcome = evaluate_offline(answers, ip, expect.name)
        if isinstance(outcome, Query):
            needed.add(outcome)
    return needed


def evaluate(expect: SpfExpectation, answers: Answers) -> RecordResult:
    lookup = answers.get(Query.of(expect.name, "TXT"))
    if lookup is None or lookup.outcome.is_error:
        return _result(expect, RecordState.ERROR, (), [lookup_error(lookup)] if lookup else [])
    found = tuple(select(lookup))
    fix = Remediation(expect.name, "TXT", expect.expected_record())
    if not found:
        finding = Finding(
            FindingCode.SPF_MISSING,
            Severity.ERROR,
            f"no SPF record at {expect.name}",
            expected=fix.value,
            remediation=fix,
        )
        return _result(expect, RecordState.MISSING, (), [finding, *_split_notice(fix)])
    if len(found) > 1:
        finding = Finding(
            FindingCode.SPF_MULTIPLE,
            Severity.ERROR,
            f"{len(found)} SPF records at {expect.name}: receivers return permerror; publish exactly one",
            expected=fix.value,
            remediation=fix,
        )
        return _result(expect, RecordState.WRONG, found, [finding])
    record = parse(found[0])
    if record.errors:
        # Receivers treat the whole record as permerror: publish the expected one instead.
        remedy = fix if expect.includes or expect.networks else None
        findings = [
            Finding(
                FindingCode.SPF_SYNTAX,
                Severity.ERROR,
                f"SPF syntax error at {e}",
                found=record.text,
                remediation=remedy,
            )
            for e in record.errors
        ]
        return _result(expect, RecordState.WRONG, found, findings)
    return _evaluate_record(expect, record, answers)


def _evaluate_record(expect: SpfExpectation, record: SpfRecord, answers: Answers) -> RecordResult:
    runs = {ip: evaluate_offline(answers, ip, expect.name) for ip in probes(expect)}
    if any(isinstance(run, Query) for run in runs.values()):  # the runner stopped early: not a verdict
        unresolved = next(run for run in runs.values() if isinstance(run, Query))
        return _result(
            expect,
            RecordState.ERROR,
            (record.text,),
            [lookup_error(Lookup(unresolved, Outcome.TIMEOUT, detail="not resolved"))],
        )
    probe = runs[None]
    assert isinstance(probe, Evaluation)
    findings = [*_probe_findings(probe), *_policy_findings(record, probe)]
    missing = _unauthorized(
        expect, probe, {ip: r for ip, r in runs.items() if ip and isinstance(r, Evaluation)}
    )
    undecided = probe.result is Result.TEMPERROR or any(
        isinstance(r, Evaluation) and r.result is Result.TEMPERROR for r in runs.values()
    )
    if missing and undecided:
        # A lookup we could not make may hold the authorization: that is not a verdict.
        findings.append(
            Finding(
                FindingCode.LOOKUP_ERROR,
                Severity.ERROR,
                f"SPF evaluation ended in temperror: {probe.message}; authorization unknown",
            )
        )
        return _result(expect, RecordState.ERROR, (record.text,), findings, probe)
    fix = Remediation(expect.name, "TXT", repaired(record, [t for t, _ in missing], expect.all_qualifier))
    for term, why in missing:
        findings.append(
            Finding(
                FindingCode.SPF_NOT_AUTHORIZED,
                Severity.ERROR,
                f"SPF record does not authorize {term}: {why}",
                expected=term,
                found=record.text,
                remediation=fix,
            )
        )
    if missing:
        findings += _split_notice(fix)
    findings = [_with_fix(f, fix) if f.code is FindingCode.SPF_PASS_ALL else f for f in findings]
    return _result(expect, state_from(findings), (record.text,), findings, probe)


def _unauthorized(
    expect: SpfExpectation, probe: Evaluation, runs: dict[str | None, Evaluation]
) -> list[tuple[str, str]]:
    passing = {r.value for r in probe.reached if r.kind == "include" and r.passing}
    missing = [
        (f"include:{d}", "it is not reached with a pass qualifier")
        for d in expect.includes
        if d.lower() not in passing
    ]
    for net in expect.networks:
        failed = [
            f"check_host({ip}) = {r.result.value}"
            for ip, r in runs.items()
            if ip and ipaddress.ip_address(ip) in net and r.result is not Result.PASS
        ]
        if failed:
            missing.append((network_term(net), "; ".join(failed)))
    return missing


def _with_fix(finding: Finding, fix: Remediation) -> Finding:
    return Finding(finding.code, finding.severity, finding.message, finding.expected, finding.found, fix)


def _probe_findings(probe: Evaluation) -> list[Finding]:
    out: list[Finding] = []
    if probe.result is Result.PERMERROR and probe.problem is not None:
        code = _PROBLEM_CODES.get(probe.problem, FindingCode.SPF_INCLUDE_INVALID)
        out.append(
            Finding(
                code,
                Severity.ERROR,
                f"receivers get permerror: {probe.message}",
                found=str(probe.dns_lookups) if code is FindingCode.SPF_TOO_MANY_LOOKUPS else None,
            )
        )
    out += [Finding(FindingCode.SPF_LOOP, Severity.ERROR, f"include loop: {loop}") for loop in probe.loops]
    out += [
        Finding(
            FindingCode.SPF_MACRO_NOT_FOLLOWED,
            Severity.INFO,
            f"{r.value} uses macros and depends on the sender; not followed",
        )
        for r in probe.reached
        if r.kind == "macro"
    ]
    return out


def _policy_findings(record: SpfRecord, probe: Evaluation) -> list[Finding]:
    out: list[Finding] = []
    for mech in record.mechanisms:
        if mech.kind == "all" and mech.qualifier.value == "+":
            out.append(
                Finding(
                    FindingCode.SPF_PASS_ALL,
                    Severity.ERROR,
                    f"{mech.text!r} authorizes every host on the internet",
                    found=mech.text,
                )
            )
        elif mech.kind == "all" and mech.qualifier.value == "?":
            out.append(
                Finding(
                    FindingCode.SPF_NEUTRAL_ALL,
                    Severity.WARNING,
                    f"{mech.text!r} asserts nothing about unlisted hosts; use ~all or -all",
                    found=mech.text,
                )
            )
    if probe.uses_ptr:
        out.append(
            Finding(
                FindingCode.SPF_PTR,
                Severity.WARNING,
                "the ptr mechanism is slow and unreliable (RFC 7208 §5.5: SHOULD NOT be used)",
            )
        )
    if len(record.text.encode()) > MAX_RECORD_OCTETS:
        out.append(
            Finding(
                FindingCode.SPF_RECORD_TOO_LONG,
                Severity.WARNING,
                f"record is {len(record.text.encode())} octets; over {MAX_RECORD_OCTETS} "
                "it may not fit a UDP answer (RFC 7208 §3.4)",
            )
        )
    return out


def _split_notice(fix: Remediation) -> list[Finding]:
    if len(fix.value.encode()) <= MAX_STRING_OCTETS:
        return []
    return [
        Finding(
            FindingCode.SPF_STRING_TOO_LONG,
            Severity.INFO,
            f"the record to publish is over {MAX_STRING_OCTETS} octets: publish it as several "
            "quoted strings in one TXT record (RFC 7208 §3.3)",
            remediation=fix,
        )
    ]


def repaired(record: SpfRecord, terms: list[str], all_qualifier: str = "~") -> str:
    """The record with `terms` inserted before its all mechanism (or at the end), and a "+all"
    replaced by `all_qualifier`: the smallest change that fixes it."""
    words = record.text.split()
    position = next((i for i, w in enumerate(words) if w.lower().lstrip("+-~?") == "all"), len(words))
    if position < len(words) and words[position].lower() in ("all", "+all"):
        words[position] = f"{all_qualifier}all"
    return " ".join(words[:position] + terms + words[position:])


def _result(
    expect: SpfExpectation,
    state: RecordState,
    found: tuple[str, ...],
    findings: list[Finding],
    probe: Evaluation | None = None,
) -> RecordResult:
    facts: dict[str, str | int] = {}
    if probe is not None:
        facts = {"spf_dns_lookups": probe.dns_lookups, "spf_void_lookups": probe.void_lookups}
    expected = expect.expected_record() if expect.includes or expect.networks else None
    return RecordResult(
        expect.record, expect.name, "TXT", state, expect.required, expected, found, tuple(findings), facts
    )
