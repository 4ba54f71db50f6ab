"""DMARC policy records (RFC 9989, with RFC 9990's report authorization), found at the domain or
by the DNS tree walk, read by dmarc_record.py.

Policy discovery (RFC 9989 §4.10): the record at `_dmarc.<domain>` applies if there is one;
otherwise the walk asks each parent (a name of eight or more labels is first cut to seven, so
at most eight queries in all), collecting records until one says `psd=y` or `psd=n`, and the
Organizational Domain's record applies (its `sp=`, else `p=`), else the Public Suffix Domain's.
The walk's queries go out in one batch. No public suffix list is used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

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
)
from domainwatch.checks.diagnoses import mistakes
from domainwatch.checks.kinds.dmarc import drift
from domainwatch.checks.kinds.dmarc.record import POLICIES, Code, DmarcRecord, applied, fixed, is_dmarc, read
from domainwatch.checks.kinds.dmarc.report import report_findings, report_queries
from domainwatch.dns.resolver import Lookup, Query
from domainwatch.fields import SECTION_CONFIG, Flag
from domainwatch.model import Finding, RecordResult, RecordState, Remediation, Severity
from domainwatch.state.rules import state_of

__all__ = ["Code", "DmarcConfig", "DmarcExpectation", "discover", "walk_targets"]
MAX_LABELS = 8  # §4.10: a walk makes at most eight queries


@schema(frozen=True, slots=True, config=SECTION_CONFIG)
class DmarcConfig:
    """`dmarc`: checked (advisory) for every sending domain; `required` makes it count."""

    required: Flag = False
    min_policy: Literal["none", "quarantine", "reject"] = "none"


@dataclass(frozen=True, slots=True)
class DmarcExpectation(Expectation):
    domain: str = ""
    min_policy: str = "none"

    @property
    def expected(self) -> str:
        return f"v=DMARC1; p={self.min_policy}"


def walk_targets(domain: str) -> list[str]:
    """The names the tree walk asks about after the domain itself, nearest first (§4.10)."""
    labels = domain.split(".")
    start = labels[-(MAX_LABELS - 1) :] if len(labels) >= MAX_LABELS else labels[1:]
    return [".".join(start[i:]) for i in range(len(start))]


def _records(lookup: Lookup | None) -> list[str]:
    return [r for r in lookup.records if is_dmarc(r)] if lookup is not None else []


@dataclass(frozen=True, slots=True)
class Found:
    """What discovery concluded: the applicable record and where, and the Organizational Domain."""

    record: DmarcRecord | None
    policy_domain: str
    inherited: bool
    organizational: str | None  # None: unknown (a lookup of the walk failed)
    own_texts: tuple[str, ...]  # the DMARC records published at the domain itself


def _walk(domain: str, answers: Answers) -> tuple[list[tuple[str, DmarcRecord]], Lookup | None] | None:
    """The walk's records, nearest first, up to the one that stops it; and the first failed
    lookup before that. None while some of it is unanswered."""
    collected: list[tuple[str, DmarcRecord]] = []
    for name in walk_targets(domain):
        lookup = answers.get(Query.of(f"_dmarc.{name}", "TXT"))
        if lookup is None:
            return None
        if lookup.outcome.is_error:
            return collected, lookup
        texts = _records(lookup)
        if len(texts) == 1:  # several records at one name are all discarded (§4.10 step 6)
            record = read(texts[0])
            collected.append((name, record))
            if record.tags.get("psd") in ("y", "n"):
                break
    return collected, None


def organizational_domain(domain: str, collected: Sequence[tuple[str, DmarcRecord]]) -> str:
    """§4.10.2 over the records found from the domain upward (its own first, if any)."""
    for name, record in collected:  # longest to shortest
        if record.tags.get("psd") == "n":
            return name
        if record.tags.get("psd") == "y" and name != domain:
            below = domain.split(".")[-(len(name.split(".")) + 1) :]
            return ".".join(below)
    return collected[-1][0] if collected else domain


def discover(expect: DmarcExpectation, answers: Answers) -> Found | Query | Lookup | set[Query]:
    """The applicable record; or what to ask next; or the lookup whose failure leaves it unknown."""
    own = answers.get(Query.of(expect.name, "TXT"))
    if own is None:
        return Query.of(expect.name, "TXT")
    if own.outcome.is_error:
        return own
    texts = tuple(_records(own))
    if len(texts) > 1:  # receivers discard them all; the owner must publish one (no walk needed)
        return Found(None, expect.domain, False, None, texts)
    record = read(texts[0]) if texts else None
    needs_walk = record is None or (
        record.tags.get("psd") != "n" and _reports_elsewhere(record, expect.domain)
    )
    walked = _walk(expect.domain, answers) if needs_walk else ([], None)
    if walked is None:
        return {Query.of(f"_dmarc.{name}", "TXT") for name in walk_targets(expect.domain)}
    parents, failed = walked
    if record is not None:
        org = None if failed else organizational_domain(expect.domain, [(expect.domain, record), *parents])
        return Found(record, expect.domain, False, org, texts)
    if failed is not None:
        return failed
    org = organizational_domain(expect.domain, parents)
    by_name = dict(parents)
    psd = next((r for n, r in parents if r.tags.get("psd") == "y"), None)
    chosen = by_name.get(org) or psd
    where = org if org in by_name else next((n for n, r in parents if r is psd), org)
    return Found(chosen, where, True, org, texts)


def _reports_elsewhere(record: DmarcRecord, domain: str) -> bool:
    """Some report URI names a host outside the domain: authorization needs its Organizational
    Domain."""
    return any(
        u.host is not None and u.host != domain and not u.host.endswith("." + domain)
        for u in (*record.rua, *record.ruf)
    )


def queries(expect: DmarcExpectation, answers: Answers) -> set[Query]:
    found = discover(expect, answers)
    if isinstance(found, Query):
        return {found}
    if isinstance(found, set):
        return found - answers.keys()
    if isinstance(found, Lookup) or found.record is None or found.organizational is None:
        return set()
    return report_queries(found.record, found.policy_domain, found.organizational) - answers.keys()


def evaluate(expect: DmarcExpectation, answers: Answers) -> RecordResult:
    found = discover(expect, answers)
    if isinstance(found, Lookup):
        return _result(expect, RecordState.ERROR, (), [lookup_error(found)], None)
    if not isinstance(found, Found):  # the runner stopped before discovery ended: not a verdict
        return _result(expect, RecordState.ERROR, (), [], None)
    fix = Remediation(expect.name, "TXT", fixed(None, expect.min_policy))
    if len(found.own_texts) > 1:
        own = read(found.own_texts[0])
        multiple = Finding(
            Code.DMARC_MULTIPLE,
            Severity.ERROR,
            f"{len(found.own_texts)} DMARC records at {expect.name}: receivers discard them all "
            "(RFC 9989 §4.10); publish exactly one",
            remediation=Remediation(expect.name, "TXT", fixed(own, expect.min_policy)),
        )
        return _result(expect, RecordState.WRONG, found.own_texts, [multiple], "absent")
    if found.record is None:
        missing = Finding(
            Code.DMARC_MISSING,
            Severity.ERROR,
            f"no DMARC record at {expect.name} nor at any parent domain",
            expected=fix.value,
            remediation=fix,
        )
        return _result(expect, RecordState.MISSING, (), [missing], "absent")
    return _evaluate_record(expect, found, answers)


def _evaluate_record(expect: DmarcExpectation, found: Found, answers: Answers) -> RecordResult:
    record = found.record
    assert record is not None
    tag = "sp" if found.inherited and "sp" in record.tags else "p"
    named = record.tags.get(tag, "none")
    usable_rua = any(u.usable for u in record.rua)
    policy = applied(named, test_mode=record.test_mode) if record.policy_valid else "none"
    effective = policy if record.policy_valid or usable_rua else "absent"
    own_fix = Remediation(expect.name, "TXT", fixed(None if found.inherited else record, expect.min_policy))
    findings = syntax_findings(record, own_fix)
    if found.inherited:
        findings.append(
            Finding(
                Code.DMARC_ORG_DOMAIN_ONLY,
                Severity.INFO,
                f"no record at {expect.name}; the record at _dmarc.{found.policy_domain} applies "
                f"({tag}={named})",
                found=f"_dmarc.{found.policy_domain}",
            )
        )
    if record.test_mode and named != "none":
        findings.append(
            Finding(
                Code.DMARC_TEST_MODE,
                Severity.WARNING,
                f"t=y: the domain is testing its policy; receivers apply {applied(named, test_mode=True)} "
                f"instead of {named}",
            )
        )
    if (effective == "absent" and expect.min_policy != "none") or (
        effective != "absent" and POLICIES.index(effective) < POLICIES.index(expect.min_policy)
    ):
        findings.append(
            Finding(
                Code.DMARC_POLICY_WEAK,
                Severity.ERROR,
                f"receivers apply {effective}, weaker than the required {expect.min_policy}",
                expected=expect.min_policy,
                found=effective,
                remediation=own_fix,
            )
        )
    if found.organizational is not None:
        findings += report_findings(record, found.policy_domain, found.organizational, answers)
    return _result(expect, state_of(findings), (record.text,), findings, effective)


def syntax_findings(record: DmarcRecord, fix: Remediation) -> list[Finding]:
    """Invalid values, duplicates, a missing p, removed and unknown tags (the fix drops them)."""
    out: list[Finding] = []
    for tag, value in record.invalid.items():
        policy_tag = tag in ("p", "sp", "np")
        why = "the whole policy is void (receivers apply none)" if policy_tag else "receivers use the default"
        out.append(
            Finding(
                Code.DMARC_SYNTAX,
                Severity.ERROR if policy_tag else Severity.WARNING,
                f"{tag}={value} is not a valid value: {why}",
                found=record.text,
                remediation=fix,
            )
        )
    for tag in record.duplicates:
        out.append(
            Finding(
                Code.DMARC_SYNTAX,
                Severity.ERROR if tag in ("p", "sp", "np") else Severity.WARNING,
                f"{tag}= appears more than once: receivers may read either",
                found=record.text,
                remediation=fix,
            )
        )
    if "p" not in record.order:
        out.append(
            Finding(
                Code.DMARC_POLICY_MISSING,
                Severity.WARNING,
                "no p=: RFC 9989 receivers read it as p=none; RFC 7489 receivers ignore the record",
                found=record.text,
                remediation=fix,
            )
        )
    for tag, value in record.removed.items():
        out.append(
            Finding(
                Code.DMARC_TAG_REMOVED,
                Severity.WARNING,
                f"{tag}={value}: RFC 9989 removed {tag}= (receivers following it ignore it; RFC 7489 "
                "receivers may still apply it)",
            )
        )
    if record.unknown:
        out.append(
            Finding(
                Code.DMARC_UNKNOWN_TAG,
                Severity.WARNING,
                f"ignored (not DMARC tags): {', '.join(record.unknown[:5])}"
                + (f" and {len(record.unknown) - 5} more" if len(record.unknown) > 5 else ""),
            )
        )
    return out


def _result(
    expect: DmarcExpectation,
    state: RecordState,
    found: tuple[str, ...],
    findings: list[Finding],
    policy: str | None,
) -> RecordResult:
    facts: dict[str, str | int] = {"dmarc_policy": policy} if policy else {}
    return RecordResult(
        expect.record,
        expect.name,
        "TXT",
        state,
        expect.required,
        expect.expected,
        found,
        tuple(findings),
        facts,
    )


def diagnose(expect: DmarcExpectation, answers: Answers, result: RecordResult) -> Diagnosis:
    """Not verifying? A quoted or padded record, a CNAME in the way, or the record at the name
    with the zone appended again, or without its underscore."""
    found = mistakes.pasted(expect.name, answers, is_dmarc)
    found += mistakes.cname_conflict(expect.name, "TXT", answers)
    if result.state is not RecordState.MISSING:
        return found
    found += mistakes.doubled_name(expect.name, "TXT", answers, _has_dmarc)
    why = "dmarc without its underscore: the name is _dmarc"
    return found + mistakes.wrong_name(
        expect.name, f"dmarc.{expect.domain}", "TXT", answers, looks=_has_dmarc, why=why
    )


def applies_instead(result: RecordResult) -> str:
    """What receivers apply without the record at the domain: the tree walk's policy, or none."""
    policy = result.facts.get("dmarc_policy")
    if policy in (None, "absent"):
        return "no DMARC policy"
    inherited = next((f.found for f in result.findings if f.code is Code.DMARC_ORG_DOMAIN_ONLY), None)
    return f"{policy}, the policy of {inherited}" if inherited else f"{policy}"


def _has_dmarc(lookup: Lookup) -> bool:
    return any(is_dmarc(r) for r in lookup.records)


def plan(domain: PlannedDomain, own: DmarcConfig) -> list[Expectation]:
    if domain.sending is None and not own.required:
        return []
    return [DmarcExpectation("dmarc", f"_dmarc.{domain.name}", own.required, domain.name, own.min_policy)]


def inspect(name: str, selectors: Sequence[str]) -> list[Expectation]:
    del selectors
    return [DmarcExpectation("dmarc", f"_dmarc.{name}", False, name)]


def publish(expect: DmarcExpectation) -> tuple[Remediation, ...]:
    return (Remediation(expect.name, "TXT", expect.expected),)


KIND = RecordKind(
    name="dmarc",
    section=Section.DOMAIN,
    key="dmarc",
    model=DmarcConfig,
    default=DmarcConfig(),
    capability="sending",
    rdtype="TXT",
    plan=plan,
    queries=queries,
    evaluate=evaluate,
    codes=Code,
    diagnose=diagnose,
    version_tag=is_dmarc,
    applies_instead=applies_instead,
    publish=publish,
    metrics=(
        FactMetric(
            "domainwatch_dmarc_policy",
            "1 for the effective DMARC policy",
            "dmarc_policy",
            one_hot=("policy", ("none", "quarantine", "reject", "absent")),
        ),
    ),
    inspect=inspect,
    drift=DriftRules(drift.reasons, ("dmarc_policy",)),
)
