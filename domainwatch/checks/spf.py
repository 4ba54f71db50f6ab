"""SPF (RFC 7208) on the return-path domain: published once, valid, within limits, authorizing.

The include tree is walked statically: every DNS-querying term is counted as an evaluator would
count it for a non-matching sender, which is the worst case a receiver can hit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from domainwatch.checks.base import Answers, Expectation, lookup_error, state_from, unanswered
from domainwatch.checks.spf_parse import DNS_TERMS, IPNetwork, Mechanism, Qualifier, SpfRecord, is_spf, parse
from domainwatch.dns.resolver import Lookup, Outcome, Query
from domainwatch.model import Finding, FindingCode, RecordResult, RecordState, Remediation, Severity

MAX_DNS_TERMS = 10  # §4.6.4
MAX_VOID_LOOKUPS = 2  # §4.6.4
MAX_RECORD_OCTETS = 512  # §3.4: keep the answer within a classic UDP datagram
MAX_STRING_OCTETS = 255  # §3.3: one character-string
_MAX_RECORDS_FOLLOWED = 40  # bounds the work an attacker-controlled include tree can cause


@dataclass(frozen=True, slots=True)
class SpfExpectation(Expectation):
    includes: tuple[str, ...] = ()
    networks: tuple[IPNetwork, ...] = ()
    all_qualifier: str = "~"

    def expected_record(self) -> str:
        terms = [f"include:{d}" for d in self.includes]
        terms += [f"ip{n.version}:{_network_text(n)}" for n in self.networks]
        return " ".join(["v=spf1", *terms, f"{self.all_qualifier}all"])


@dataclass(slots=True)
class SpfWalk:
    """Everything the static walk of an include tree learned."""

    pending: set[Query] = field(default_factory=set)
    lookups: int = 0
    void: int = 0
    loops: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)
    errors: list[Lookup] = field(default_factory=list)
    authorized_domains: set[str] = field(default_factory=set)
    authorized_networks: list[IPNetwork] = field(default_factory=list)
    macros: list[str] = field(default_factory=list)
    uses_ptr: bool = False
    followed: int = 0


def select(lookup: Lookup) -> list[str]:
    """The SPF records among a TXT answer (§4.5)."""
    return [r for r in lookup.records if is_spf(r)]


def queries(expect: SpfExpectation, answers: Answers) -> set[Query]:
    root = Query.of(expect.name, "TXT")
    if root not in answers:
        return {root}
    record = _single_record(answers[root])
    return walk(expect.name, record, answers).pending if record else set()


def walk(domain: str, record: SpfRecord, answers: Answers) -> SpfWalk:
    state = SpfWalk()
    _visit(domain, record, answers, state, path=(domain,), authorizing=True)
    return state


def _visit(
    domain: str,
    record: SpfRecord,
    answers: Answers,
    state: SpfWalk,
    *,
    path: tuple[str, ...],
    authorizing: bool,
) -> None:
    for mech in record.mechanisms:
        state.lookups += mech.kind in DNS_TERMS
        passing = authorizing and mech.qualifier is Qualifier.PASS
        if mech.kind == "include":
            _follow(mech.domain_spec or "", answers, state, path, passing)
        elif mech.kind in ("a", "mx", "exists"):
            _count_void(mech, domain, answers, state)
        elif mech.kind == "ptr":
            state.uses_ptr = True
        elif mech.network is not None and passing:
            state.authorized_networks.append(mech.network)
    redirect = record.modifier("redirect")
    # §6.1: redirect is ignored when the record has an "all" mechanism.
    if redirect is not None and not any(m.kind == "all" for m in record.mechanisms):
        state.lookups += 1
        _follow(redirect.value, answers, state, path, authorizing)


def _follow(target: str, answers: Answers, state: SpfWalk, path: tuple[str, ...], passing: bool) -> None:
    if "%" in target:
        state.macros.append(target)
        return
    target = target.rstrip(".").lower()
    if target in path:
        state.loops.append(" -> ".join((*path, target)))
        return
    if passing:
        state.authorized_domains.add(target)
    if state.followed >= _MAX_RECORDS_FOLLOWED:
        return
    state.followed += 1
    query = Query.of(target, "TXT")
    lookup = answers.get(query)
    if lookup is None:
        state.pending.add(query)
    elif lookup.outcome.is_error:
        state.errors.append(lookup)
    else:
        state.void += lookup.outcome.is_void
        records = [parse(r) for r in select(lookup)]
        if len(records) != 1 or records[0].errors:
            reason = (
                "no SPF record"
                if not records
                else ("several SPF records" if len(records) > 1 else f"syntax error {records[0].errors[0]}")
            )
            state.invalid.append(f"{target}: {reason}")
            return
        _visit(target, records[0], answers, state, path=(*path, target), authorizing=passing)


def _count_void(mech: Mechanism, domain: str, answers: Answers, state: SpfWalk) -> None:
    target = mech.domain_spec or domain
    if "%" in target:
        state.macros.append(target)
        return
    types = ("A",) if mech.kind == "exists" else ("MX",) if mech.kind == "mx" else ("A", "AAAA")
    lookups = [answers.get(Query.of(target, t)) for t in types]
    missing = unanswered((Query.of(target, t) for t in types), answers)
    if missing:
        state.pending |= missing
        return
    resolved = [lk for lk in lookups if lk is not None]
    state.errors.extend(lk for lk in resolved if lk.outcome.is_error)
    if all(lk.outcome.is_void for lk in resolved):
        state.void += 1


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
    return _evaluate_record(expect, parse(found[0]), answers)


def _evaluate_record(expect: SpfExpectation, record: SpfRecord, answers: Answers) -> RecordResult:
    found = (record.text,)
    if record.errors:
        # Receivers treat the whole record as permerror: publish the expected one instead.
        fix = (
            Remediation(expect.name, "TXT", expect.expected_record())
            if expect.includes or expect.networks
            else None
        )
        findings = [
            Finding(
                FindingCode.SPF_SYNTAX,
                Severity.ERROR,
                f"SPF syntax error at {e}",
                found=record.text,
                remediation=fix,
            )
            for e in record.errors
        ]
        return _result(expect, RecordState.WRONG, found, findings)
    tree = walk(expect.name, record, answers)
    unauthorized = _unauthorized(expect, tree)
    fix = Remediation(expect.name, "TXT", repaired(record, unauthorized, expect.all_qualifier))
    findings = [*_limit_findings(tree), *_policy_findings(record, tree, fix)]
    if unauthorized and tree.errors:
        # An include we could not resolve may hold the authorization: that is not a verdict.
        findings.extend(lookup_error(lk) for lk in tree.errors)
        return _result(expect, RecordState.ERROR, found, findings, tree)
    if unauthorized:
        findings.append(
            Finding(
                FindingCode.SPF_NOT_AUTHORIZED,
                Severity.ERROR,
                f"SPF record does not authorize {', '.join(unauthorized)}",
                expected=" ".join(unauthorized),
                found=record.text,
                remediation=fix,
            )
        )
        findings.extend(_split_notice(fix))
    return _result(expect, state_from(findings), found, findings, tree)


def _unauthorized(expect: SpfExpectation, tree: SpfWalk) -> list[str]:
    terms = [f"include:{d}" for d in expect.includes if d.lower() not in tree.authorized_domains]
    for net in expect.networks:
        if not any(_covers(have, net) for have in tree.authorized_networks):
            terms.append(f"ip{net.version}:{_network_text(net)}")
    return terms


def _limit_findings(tree: SpfWalk) -> list[Finding]:
    out: list[Finding] = []
    if tree.lookups > MAX_DNS_TERMS:
        out.append(
            Finding(
                FindingCode.SPF_TOO_MANY_LOOKUPS,
                Severity.ERROR,
                f"{tree.lookups} DNS-querying terms (limit {MAX_DNS_TERMS}): receivers "
                "return permerror; flatten or remove includes",
                expected=f"<= {MAX_DNS_TERMS}",
                found=str(tree.lookups),
            )
        )
    if tree.void > MAX_VOID_LOOKUPS:
        out.append(
            Finding(
                FindingCode.SPF_TOO_MANY_VOID_LOOKUPS,
                Severity.ERROR,
                f"{tree.void} lookups return no data (limit {MAX_VOID_LOOKUPS})",
                expected=f"<= {MAX_VOID_LOOKUPS}",
                found=str(tree.void),
            )
        )
    out += [Finding(FindingCode.SPF_LOOP, Severity.ERROR, f"include loop: {loop}") for loop in tree.loops]
    out += [
        Finding(
            FindingCode.SPF_INCLUDE_INVALID, Severity.ERROR, f"included record is unusable (permerror): {why}"
        )
        for why in tree.invalid
    ]
    out += [
        Finding(
            FindingCode.SPF_MACRO_NOT_FOLLOWED,
            Severity.INFO,
            f"{spec} uses macros and depends on the sender; not followed",
        )
        for spec in tree.macros
    ]
    return out


def _policy_findings(record: SpfRecord, tree: SpfWalk, fix: Remediation) -> list[Finding]:
    out: list[Finding] = []
    for mech in record.mechanisms:
        if mech.kind == "all" and mech.qualifier is Qualifier.PASS:
            out.append(
                Finding(
                    FindingCode.SPF_PASS_ALL,
                    Severity.ERROR,
                    f"{mech.text!r} authorizes every host on the internet",
                    found=mech.text,
                    remediation=fix,
                )
            )
        elif mech.kind == "all" and mech.qualifier is Qualifier.NEUTRAL:
            out.append(
                Finding(
                    FindingCode.SPF_NEUTRAL_ALL,
                    Severity.WARNING,
                    f"{mech.text!r} asserts nothing about unlisted hosts; use ~all or -all",
                    found=mech.text,
                )
            )
    if tree.uses_ptr:
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


def _single_record(lookup: Lookup) -> SpfRecord | None:
    if lookup.outcome is not Outcome.ANSWER:
        return None
    found = select(lookup)
    return parse(found[0]) if len(found) == 1 else None


def _covers(have: IPNetwork, want: IPNetwork) -> bool:
    return have.version == want.version and want.subnet_of(have)  # type: ignore[arg-type]


def _network_text(net: IPNetwork) -> str:
    single = net.prefixlen == net.max_prefixlen
    return str(net.network_address) if single else str(net)


def _result(
    expect: SpfExpectation,
    state: RecordState,
    found: tuple[str, ...],
    findings: list[Finding],
    tree: SpfWalk | None = None,
) -> RecordResult:
    facts: dict[str, str | int] = {}
    if tree is not None:
        facts = {"spf_dns_lookups": tree.lookups, "spf_void_lookups": tree.void}
    expected = expect.expected_record() if expect.includes or expect.networks else None
    return RecordResult(
        expect.record, expect.name, "TXT", state, expect.required, expected, found, tuple(findings), facts
    )
