"""SPF (RFC 7208) on the return-path domain: published once, valid, within limits, authorizing.

Every verdict comes from the one RFC 7208 evaluator (domainwatch.spf): a probe run that matches
nothing but "all" counts the lookups a receiver would make for an unlisted sender (the worst
case) and shows which includes and networks would pass; a run per `authorize:` address asks the
question that matters: would mail from this provider pass?
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import Field, Strict, field_validator
from pydantic.dataclasses import dataclass as schema

from domainwatch.checks.base import (
    Answers,
    Diagnosis,
    DriftRules,
    Expectation,
    FactMetric,
    PlannedDomain,
    RecordKind,
    Section,
    lookup_error,
    return_path_host,
)
from domainwatch.checks.diagnoses import mistakes
from domainwatch.checks.kinds.spf import drift
from domainwatch.checks.kinds.spf.findings import (
    Code,
    policy_findings,
    probe_findings,
    split_notice,
    with_fix,
)
from domainwatch.checks.kinds.spf.fix import Wanted, first_reached, provider_samples, verified
from domainwatch.dns.resolver import Lookup, Outcome, Query
from domainwatch.fields import SECTION_CONFIG, Text
from domainwatch.model import CommonCode, Finding, RecordResult, RecordState, Remediation, Severity
from domainwatch.spf.offline import evaluate_offline
from domainwatch.spf.syntax import IPNetwork, SpfRecord, is_spf, parse
from domainwatch.spf.types import Evaluation, Result
from domainwatch.state.rules import state_of

__all__ = ["KIND", "Code", "SpfConfig", "SpfExpectation", "network_term", "probes", "select"]


@schema(frozen=True, slots=True, config=SECTION_CONFIG)
class SpfConfig:
    """`sending.spf`: the SPF record on the return-path domain."""

    include: Annotated[list[Text], Strict()] = Field(default_factory=list)
    # Addresses (or CIDRs) whose mail must pass check_host(): the SPF record is found only if
    # an RFC 7208 evaluation passes for each (both ends of a CIDR).
    authorize: Annotated[list[Text], Strict()] = Field(default_factory=list)

    @field_validator("authorize")
    @classmethod
    def _networks_only(cls, values: list[str]) -> list[str]:
        for value in values:
            if not _is_network(value):
                raise ValueError(f"{value!r} is not an IP address or CIDR")
        return values

    @field_validator("include")
    @classmethod
    def _domains_or_networks(cls, values: list[str]) -> list[str]:
        for value in values:
            if not value or " " in value:
                raise ValueError("entries must be domains or IP networks, without spaces")
        return values

    def targets(self) -> tuple[tuple[str, ...], tuple[IPNetwork, ...]]:
        """The domains to include, and the addresses to evaluate: `authorize`, and IPs listed
        under `include` (same meaning)."""
        return _targets(tuple(self.include), tuple(self.authorize))


@functools.lru_cache(maxsize=1024)
def _targets(
    include: tuple[str, ...], authorize: tuple[str, ...]
) -> tuple[tuple[str, ...], tuple[IPNetwork, ...]]:
    """Cached: most domains of a fleet include the same few providers, and share the tuples."""
    domains = tuple(v.rstrip(".").lower() for v in include if not _is_network(v))
    listed = [v for v in include if _is_network(v)] + list(authorize)
    return domains, tuple(dict.fromkeys(ipaddress.ip_network(v, strict=False) for v in listed))


def _is_network(value: str) -> bool:
    if ":" not in value and not value.replace(".", "").replace("/", "").isdigit():
        return False  # a domain name (the usual entry): skip the costly parse
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        return False
    return True


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


def probes(expect: SpfExpectation, answers: Answers | None = None) -> list[str | None]:
    """The evaluations to run: the probe (None), the ends of each authorized network, and an
    address of each provider's include (its mail must pass: an earlier term of the record may
    match it first, as `-ip4:...` or `-include:...` before the include)."""
    addresses: list[str | None] = [None]
    for net in expect.networks:
        addresses += sorted({str(net.network_address), str(net[-1])})
    return addresses + list(provider_samples(expect.includes, answers or {}))


def select(lookup: Lookup) -> list[str]:
    """The SPF records among a TXT answer (§4.5)."""
    return [r for r in lookup.records if is_spf(r)]


def queries(expect: SpfExpectation, answers: Answers) -> set[Query]:
    root = Query.of(expect.name, "TXT")
    if root not in answers:
        return {root}
    needed = set()
    for ip in probes(expect, answers):
        outcome = evaluate_offline(answers, ip, expect.name)
        if isinstance(outcome, Query):
            needed.add(outcome)
    if needed:
        return needed
    # The published record is evaluated: if it needs a fix, the fix is verified too, which may
    # need answers of its own (a provider's include the record does not have yet).
    if evaluate(expect, answers).state in (RecordState.WRONG, RecordState.MISSING):
        _, query = verified(select(answers[root]), _wanted(expect, answers), answers)
        if query is not None:
            needed.add(query)
    return needed


def _wanted(expect: SpfExpectation, answers: Answers) -> Wanted:
    networks = tuple(network_term(n) for n in expect.networks)
    samples = tuple(ip for ip in probes(expect, answers) if ip is not None)
    return Wanted(expect.name, expect.includes, networks, samples, expect.all_qualifier)


def fix_for(expect: SpfExpectation, found: Sequence[str], answers: Answers) -> Remediation | None:
    """The one verified record that resolves every error on this name (spf_fix.py), or None."""
    text, _ = verified(found, _wanted(expect, answers), answers)
    return Remediation(expect.name, "TXT", text) if text is not None else None


def evaluate(expect: SpfExpectation, answers: Answers) -> RecordResult:
    lookup = answers.get(Query.of(expect.name, "TXT"))
    if lookup is None or lookup.outcome.is_error:
        return _result(expect, RecordState.ERROR, (), [lookup_error(lookup)] if lookup else [])
    found = tuple(select(lookup))
    if not found:
        fix = fix_for(expect, found, answers) if expect.includes or expect.networks else None
        finding = Finding(
            Code.SPF_MISSING,
            Severity.ERROR,
            f"no SPF record at {expect.name}",
            expected=fix.value if fix else None,
            remediation=fix,
        )
        return _result(expect, RecordState.MISSING, (), [finding, *split_notice(fix)])
    if len(found) > 1:
        fix = fix_for(expect, found, answers)
        finding = Finding(
            Code.SPF_MULTIPLE,
            Severity.ERROR,
            f"{len(found)} SPF records at {expect.name}: receivers return permerror; publish exactly one",
            expected=fix.value if fix else None,
            remediation=fix,
        )
        return _result(expect, RecordState.WRONG, found, [finding, *split_notice(fix)])
    record = parse(found[0])
    if record.errors:
        # Receivers treat the whole record as permerror: the fix keeps its usable terms.
        fix = fix_for(expect, found, answers)
        findings = [
            Finding(
                Code.SPF_SYNTAX,
                Severity.ERROR,
                f"SPF syntax error at {e}",
                found=record.text,
                remediation=fix,
            )
            for e in record.errors
        ]
        return _result(expect, RecordState.WRONG, found, [*findings, *split_notice(fix)])
    return _evaluate_record(expect, record, answers)


def _evaluate_record(expect: SpfExpectation, record: SpfRecord, answers: Answers) -> RecordResult:
    runs = {ip: evaluate_offline(answers, ip, expect.name) for ip in probes(expect, answers)}
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
    findings = [*probe_findings(probe), *policy_findings(record, probe)]
    missing = _unauthorized(
        expect,
        probe,
        {ip: r for ip, r in runs.items() if ip and isinstance(r, Evaluation)},
        provider_samples(expect.includes, answers),
    )
    undecided = probe.result is Result.TEMPERROR or any(
        isinstance(r, Evaluation) and r.result is Result.TEMPERROR for r in runs.values()
    )
    if missing and undecided:
        # A lookup we could not make may hold the authorization: that is not a verdict.
        findings.append(
            Finding(
                CommonCode.LOOKUP_ERROR,
                Severity.ERROR,
                f"SPF evaluation ended in temperror: {probe.message}; authorization unknown",
            )
        )
        return _result(expect, RecordState.ERROR, (record.text,), findings, probe)
    wrong = missing or any(f.severity is Severity.ERROR for f in findings)
    fix = fix_for(expect, [record.text], answers) if wrong else None
    # Every error finding carries the same fix: one record that resolves them all.
    findings = [with_fix(f, fix) if f.severity is Severity.ERROR and fix else f for f in findings]
    for term, why in missing:
        findings.append(
            Finding(
                Code.SPF_NOT_AUTHORIZED,
                Severity.ERROR,
                f"SPF record does not authorize {term}: {why}",
                expected=term,
                found=record.text,
                remediation=fix,
            )
        )
    findings += split_notice(fix)
    return _result(expect, state_of(findings), (record.text,), findings, probe)


def _unauthorized(
    expect: SpfExpectation, probe: Evaluation, runs: dict[str | None, Evaluation], samples: Sequence[str]
) -> list[tuple[str, str]]:
    passing = {r.value for r in first_reached(probe) if r.passing}
    missing = [
        (f"include:{d}", "it is not reached with a pass qualifier")
        for d in expect.includes
        if d.lower() not in passing
    ]
    shadowed = [
        f"check_host({ip}) = {runs[ip].result.value}" for ip in samples if runs[ip].result is not Result.PASS
    ]
    if shadowed and not missing:
        # Reached with pass, but an earlier term matches the provider's mail first.
        why = "an earlier term matches its mail first: " + "; ".join(shadowed)
        missing.append((f"include:{expect.includes[0]}", why))
    for net in expect.networks:
        failed = [
            f"check_host({ip}) = {r.result.value}"
            for ip, r in runs.items()
            if ip and ipaddress.ip_address(ip) in net and r.result is not Result.PASS
        ]
        if failed:
            missing.append((network_term(net), "; ".join(failed)))
    return missing


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


def diagnose(expect: SpfExpectation, answers: Answers, result: RecordResult) -> Diagnosis:
    """Not verifying? A quoted or padded value, a CNAME in the way, the record at the name with
    the zone appended again, or at the domain itself instead of its return-path name."""
    found = mistakes.pasted(expect.name, answers, is_spf)
    found += mistakes.cname_conflict(expect.name, "TXT", answers)
    if result.state is not RecordState.MISSING:
        return found
    found += mistakes.doubled_name(expect.name, "TXT", answers, _has_spf)
    parent = expect.name.partition(".")[2]
    if expect.includes and parent.count("."):
        found += mistakes.wrong_name(
            expect.name,
            parent,
            "TXT",
            answers,
            looks=lambda answer: _includes(answer, expect.includes),
            why="one label up",
        )
    return found


def _has_spf(lookup: Lookup) -> bool:
    return bool(select(lookup))


def _includes(lookup: Lookup, domains: Sequence[str]) -> bool:
    return any(f"include:{d}" in r.lower() for r in select(lookup) for d in domains)


def plan(domain: PlannedDomain, own: SpfConfig) -> list[Expectation]:
    return [SpfExpectation("spf", return_path_host(domain), True, *own.targets())]


def inspect(name: str, selectors: Any) -> list[Expectation]:
    del selectors
    return [SpfExpectation("spf", name, False)]


def publish(expect: SpfExpectation) -> tuple[Remediation, ...]:
    if not (expect.includes or expect.networks):
        return ()
    return (Remediation(expect.name, "TXT", expect.expected_record()),)


KIND = RecordKind(
    name="spf",
    section=Section.SENDING,
    key="spf",
    model=SpfConfig | None,
    default=None,
    capability="sending",
    rdtype="TXT",
    plan=plan,
    queries=queries,
    evaluate=evaluate,
    codes=Code,
    publish=publish,
    diagnose=diagnose,
    version_tag=is_spf,
    metrics=(
        FactMetric(
            "domainwatch_spf_dns_lookups",
            "DNS-querying terms of the SPF record (limit 10)",
            "spf_dns_lookups",
        ),
    ),
    inspect=inspect,
    drift=DriftRules(drift.reasons, ("spf_dns_lookups",)),
)
