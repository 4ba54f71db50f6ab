"""MX records: two kinds, the return-path domain's bounce MX (`sending.mx`) and the receiving
domain's inbound MX (`receiving.mx`); one evaluation serves both."""

from __future__ import annotations

import enum
import ipaddress
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
    return_path_host,
    same_host,
    shared,
)
from domainwatch.checks.diagnoses import mistakes
from domainwatch.dns.resolver import Lookup, Query
from domainwatch.fields import SECTION_CONFIG, DomainName, Number
from domainwatch.model import Finding, RecordResult, RecordState, Remediation, Severity
from domainwatch.state.rules import state_of

_MAX_TARGETS = 10  # bounds the address lookups a hostile MX set can cause
MAX_RECEIVING_HOSTS = 16  # of `receiving.mx`; and of published hosts `inspect --tls` probes


class Code(enum.StrEnum):
    MX_MISSING = "mx_missing"
    MX_HOST_ABSENT = "mx_host_absent"
    MX_PRIORITY_WRONG = "mx_priority_wrong"
    MX_NULL = "mx_null"
    MX_TARGET_CNAME = "mx_target_cname"
    MX_TARGET_NO_ADDRESS = "mx_target_no_address"
    MX_TARGET_IP_LITERAL = "mx_target_ip_literal"


@schema(frozen=True, slots=True, config=SECTION_CONFIG)
class MxConfig:
    """An MX host that must be published: `sending.mx`, or an entry of `receiving.mx`."""

    host: DomainName
    priority: Number = Field(default=10, ge=0, le=65535)


@dataclass(frozen=True, slots=True)
class MxExpectation(Expectation):
    hosts: tuple[tuple[str, int], ...] = ()  # (host, priority) pairs that must be published

    @property
    def expected(self) -> str | None:
        return ", ".join(f"{p} {h}" for h, p in self.hosts) or None


def _drift_reasons(before: Published, after: Published) -> list[Reason]:
    """Hosts added or removed (a priority changed alone is value_changed)."""
    old, new = ({parse_mx(v)[1].rstrip(".").lower() for v in s.values} for s in (before, after))
    return [
        Reason(code)
        for code, hosts in (("mx_host_added", new - old), ("mx_host_removed", old - new))
        if hosts
    ]


DRIFT = DriftRules(_drift_reasons)


def parse_mx(value: str) -> tuple[int, str]:
    """ "10 mx.example.net" -> (10, "mx.example.net"); a priority that is not 0-65535 is -1."""
    priority, _, host = value.partition(" ")
    if priority.isascii() and priority.isdecimal() and len(priority) <= 5:
        return int(priority), host
    return -1, host


def queries(expect: MxExpectation, answers: Answers) -> set[Query]:
    root = Query.of(expect.name, "MX")
    lookup = answers.get(root)
    if lookup is None:
        return {root}
    wanted = {Query.of(host, t) for host in _targets(lookup) for t in ("A", "AAAA")}
    return {q for q in wanted if q not in answers}


def _targets(lookup: Lookup) -> list[str]:
    hosts = [parse_mx(r)[1] for r in lookup.records]
    return [h for h in hosts if h != "." and not _is_ip(h)][:_MAX_TARGETS]


def evaluate(expect: MxExpectation, answers: Answers) -> RecordResult:
    lookup = answers.get(Query.of(expect.name, "MX"))
    if lookup is None or lookup.outcome.is_error:
        return _result(expect, RecordState.ERROR, (), [lookup_error(lookup)] if lookup else [])
    if not lookup.records:
        if not expect.hosts:  # nothing expected (inspect): missing, but only worth a warning
            return _result(
                expect,
                RecordState.MISSING,
                (),
                [Finding(Code.MX_MISSING, Severity.WARNING, f"no MX record at {expect.name}")],
            )
        message = f"no MX record at {expect.name}"
        finding = Finding(
            Code.MX_MISSING,
            Severity.ERROR,
            message,
            expected=expect.expected,
            remediation=rrset_fix(expect, []),
        )
        return _result(expect, RecordState.MISSING, (), [finding])
    published = [parse_mx(r) for r in lookup.records]
    if any(host == "." for _, host in published):
        finding = Finding(
            Code.MX_NULL,
            Severity.ERROR,
            f"{expect.name} publishes a null MX (RFC 7505): it declares it accepts no mail",
            found="0 .",
        )
        findings = [finding]
    else:
        findings = _expected_hosts(expect, published) + _target_findings(expect, published, answers)
    # Every error carries the same fix: the hosts to add and the records to delete.
    fix = rrset_fix(expect, published) if expect.hosts else None
    findings = [_with(f, fix) if f.severity is Severity.ERROR and fix else f for f in findings]
    return _result(expect, state_of(findings), lookup.records, findings)


def rrset_fix(expect: MxExpectation, published: list[tuple[int, str]]) -> Remediation | None:
    """What to change so the MX set holds every expected host at its priority: each host not
    published at its priority, to add with that priority, and to delete, the null MX (RFC 7505
    §3: it must be the only MX) and an expected host's records at another priority. Other hosts
    stay. None when nothing at this name needs to change."""
    add: list[str] = []
    remove = [f"{priority} {host}" for priority, host in published if host == "."]
    for host, priority in expect.hosts:
        at = [p for p, h in published if same_host(h, host)]
        if priority not in at:
            add.append(f"{priority} {host}")
            remove += [f"{p} {h}" for p, h in published if same_host(h, host)]
    if not add and not remove:
        return None
    first_priority, _, first_host = add[0].partition(" ") if add else (None, "", "")
    return Remediation(
        expect.name,
        "MX",
        first_host,
        int(first_priority) if first_priority is not None else None,
        tuple(dict.fromkeys(add)),
        tuple(dict.fromkeys(remove)),
    )


def _with(finding: Finding, fix: Remediation) -> Finding:
    return Finding(finding.code, finding.severity, finding.message, finding.expected, finding.found, fix)


def _expected_hosts(expect: MxExpectation, published: list[tuple[int, str]]) -> list[Finding]:
    out: list[Finding] = []
    for host, priority in expect.hosts:
        matches = [p for p, h in published if same_host(h, host)]
        if not matches:
            out.append(
                Finding(
                    Code.MX_HOST_ABSENT,
                    Severity.ERROR,
                    f"{host} is not among the MX hosts of {expect.name}",
                    expected=f"{priority} {host}",
                )
            )
        elif priority not in matches:
            out.append(
                Finding(
                    Code.MX_PRIORITY_WRONG,
                    Severity.ERROR,
                    f"{host} has priority {matches[0]}, expected {priority}",
                    expected=str(priority),
                    found=str(matches[0]),
                )
            )
    return out


def _target_findings(
    expect: MxExpectation, published: list[tuple[int, str]], answers: Answers
) -> list[Finding]:
    out: list[Finding] = []
    expected_hosts = [h for h, _ in expect.hosts]
    for _, host in published:
        severity = Severity.ERROR if any(same_host(host, h) for h in expected_hosts) else Severity.WARNING
        if _is_ip(host):
            out.append(
                Finding(
                    Code.MX_TARGET_IP_LITERAL,
                    severity,
                    f"MX target {host} is an IP address; it must be a host name (RFC 7505 §3)",
                    found=host,
                )
            )
            continue
        addresses = [answers.get(Query.of(host, t)) for t in ("A", "AAAA")]
        resolved = [a for a in addresses if a is not None]
        if any(a.aliases for a in resolved):
            out.append(
                Finding(
                    Code.MX_TARGET_CNAME,
                    Severity.WARNING,
                    f"MX target {host} is a CNAME; it must be a host with addresses (RFC 2181 §10.3)",
                    found=host,
                )
            )
        errors = [a for a in resolved if a.outcome.is_error]
        if errors:
            out.append(_downgraded(lookup_error(errors[0])))
        elif len(resolved) == 2 and all(not a.records for a in resolved):
            out.append(
                Finding(
                    Code.MX_TARGET_NO_ADDRESS,
                    severity,
                    f"MX target {host} has no A or AAAA record",
                    found=host,
                )
            )
    return out


def _downgraded(finding: Finding) -> Finding:
    """A target's address lookup failing leaves the MX record itself conclusive: warn only."""
    return Finding(finding.code, Severity.WARNING, finding.message)


def _is_ip(host: str) -> bool:
    if ":" not in host and not host.replace(".", "").isdigit():
        return False  # a host name: skip the costly parse (it runs for every MX host, every round)
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _result(
    expect: MxExpectation, state: RecordState, found: tuple[str, ...], findings: list[Finding]
) -> RecordResult:
    return RecordResult(
        expect.record, expect.name, "MX", state, expect.required, expect.expected, found, tuple(findings)
    )


def diagnose(expect: MxExpectation, answers: Answers, result: RecordResult) -> Diagnosis:
    """Not verifying? A CNAME in the way, the MX at the name with the zone appended again, or
    (a return-path MX) at the domain itself."""
    found = mistakes.cname_conflict(expect.name, "MX", answers)
    if result.state is not RecordState.MISSING:
        return found
    found += mistakes.doubled_name(expect.name, "MX", answers, lambda answer: bool(answer.records))
    parent = expect.name.partition(".")[2]
    if expect.record == "return_path_mx" and parent.count("."):

        def has_expected(answer: Lookup) -> bool:
            return any(same_host(parse_mx(r)[1], host) for r in answer.records for host, _ in expect.hosts)

        why = "one label up"
        found += mistakes.wrong_name(expect.name, parent, "MX", answers, looks=has_expected, why=why)
    return found


def plan_return_path(domain: PlannedDomain, own: MxConfig) -> list[Expectation]:
    hosts = shared(((own.host, own.priority),))
    return [MxExpectation("return_path_mx", return_path_host(domain), True, hosts)]


def plan_receiving(domain: PlannedDomain, own: list[MxConfig]) -> list[Expectation]:
    hosts = shared(tuple((m.host, m.priority) for m in own))
    return [MxExpectation("receiving_mx", domain.name, True, hosts)]


def inspect(name: str, selectors: Sequence[str]) -> list[Expectation]:
    del selectors
    return [MxExpectation("receiving_mx", name, False)]


def publish(expect: MxExpectation) -> tuple[Remediation, ...]:
    return tuple(Remediation(expect.name, "MX", host, priority) for host, priority in expect.hosts)


RETURN_PATH_KIND = RecordKind(
    name="return_path_mx",
    section=Section.SENDING,
    key="mx",
    model=MxConfig | None,
    default=None,
    capability="sending",
    rdtype="MX",
    plan=plan_return_path,
    queries=queries,
    evaluate=evaluate,
    codes=Code,
    diagnose=diagnose,
    publish=publish,
    drift=DRIFT,
)
RECEIVING_KIND = RecordKind(
    name="receiving_mx",
    section=Section.RECEIVING,
    key="mx",
    # At most 16 hosts: each is a STARTTLS probe every round (a document listing 400 made 400
    # connections every recheck while unverified).
    model=Annotated[list[MxConfig], Strict(), Field(min_length=1, max_length=MAX_RECEIVING_HOSTS)] | None,
    default=None,
    capability="receiving",
    rdtype="MX",
    plan=plan_receiving,
    queries=queries,
    evaluate=evaluate,
    codes=Code,
    diagnose=diagnose,
    publish=publish,
    inspect=inspect,
    drift=DRIFT,
)
