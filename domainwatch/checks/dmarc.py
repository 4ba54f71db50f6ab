"""DMARC policy records (RFC 7489): at the domain, or inherited from the organizational domain."""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from publicsuffixlist import PublicSuffixList
from pydantic.dataclasses import dataclass as schema

from domainwatch.checks.base import (
    Answers,
    Expectation,
    FactMetric,
    PlannedDomain,
    RecordKind,
    Section,
    lookup_error,
)
from domainwatch.checks.tags import TagList, parse_tags
from domainwatch.dns.resolver import Lookup, Query
from domainwatch.fields import SECTION_CONFIG, Flag
from domainwatch.model import Finding, RecordResult, RecordState, Remediation, Severity
from domainwatch.state.rules import state_of


class Code(enum.StrEnum):
    DMARC_MISSING = "dmarc_missing"
    DMARC_MULTIPLE = "dmarc_multiple"
    DMARC_SYNTAX = "dmarc_syntax"
    DMARC_POLICY_MISSING = "dmarc_policy_missing"
    DMARC_POLICY_WEAK = "dmarc_policy_weak"
    DMARC_PCT_PARTIAL = "dmarc_pct_partial"
    DMARC_NO_RUA = "dmarc_no_rua"
    DMARC_EXTERNAL_UNAUTHORIZED = "dmarc_external_unauthorized"
    DMARC_ORG_DOMAIN_ONLY = "dmarc_org_domain_only"


@schema(frozen=True, slots=True, config=SECTION_CONFIG)
class DmarcConfig:
    """`dmarc`: checked (advisory) for every sending domain; `required` makes it count."""

    required: Flag = False
    min_policy: Literal["none", "quarantine", "reject"] = "none"


POLICIES = ("none", "quarantine", "reject")  # weakest first
_MAILTO = re.compile(r"mailto:([^@\s]+)@([^!\s]+)(?:![0-9]+[kmgt]?)?", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class DmarcExpectation(Expectation):
    domain: str = ""
    min_policy: str = "none"

    @property
    def expected(self) -> str:
        return f"v=DMARC1; p={self.min_policy}"


@functools.cache
def _suffixes() -> PublicSuffixList:
    return PublicSuffixList()  # the list shipped with the package: no network


@functools.lru_cache(maxsize=65536)
def organizational_domain(domain: str) -> str:
    """RFC 7489 §3.2, using the Public Suffix List."""
    return _suffixes().privatesuffix(domain.lower()) or domain.lower()


@dataclass(frozen=True, slots=True)
class _Located:
    policy_domain: str
    lookup: Lookup
    inherited: bool


def _locate(expect: DmarcExpectation, answers: Answers) -> _Located | Query | None:
    """Where the applicable record lives, or the query still needed, or None if undecidable."""
    own = answers.get(Query.of(expect.name, "TXT"))
    if own is None:
        return Query.of(expect.name, "TXT")
    org = organizational_domain(expect.domain)
    if own.outcome.is_error or _select(own) or org == expect.domain:
        return _Located(expect.domain, own, inherited=False)
    inherited = answers.get(Query.of(f"_dmarc.{org}", "TXT"))
    if inherited is None:
        return Query.of(f"_dmarc.{org}", "TXT")
    return _Located(org, inherited, inherited=True)


def queries(expect: DmarcExpectation, answers: Answers) -> set[Query]:
    located = _locate(expect, answers)
    if isinstance(located, Query):
        return {located}
    if located is None or len(_select(located.lookup)) != 1:
        return set()
    tags = parse_tags(_select(located.lookup)[0])
    wanted = {q for _, q in _external_destinations(located.policy_domain, tags)}
    return {q for q in wanted if q not in answers}


def _select(lookup: Lookup) -> list[str]:
    """Records whose first tag is v=DMARC1 (§6.6.3)."""
    return [r for r in lookup.records if re.match(r"v\s*=\s*DMARC1\s*(;|$)", r)]


def evaluate(expect: DmarcExpectation, answers: Answers) -> RecordResult:
    located = _locate(expect, answers)
    if not isinstance(located, _Located) or located.lookup.outcome.is_error:
        error = [lookup_error(located.lookup)] if isinstance(located, _Located) else []
        return _result(expect, RecordState.ERROR, (), error, None)
    records = _select(located.lookup)
    fix = Remediation(expect.name, "TXT", expect.expected)
    if not records:
        finding = Finding(
            Code.DMARC_MISSING,
            Severity.ERROR,
            f"no DMARC record at {expect.name}",
            expected=expect.expected,
            remediation=fix,
        )
        return _result(expect, RecordState.MISSING, (), [finding], "absent")
    if len(records) > 1:
        finding = Finding(
            Code.DMARC_MULTIPLE,
            Severity.ERROR,
            f"{len(records)} DMARC records at _dmarc.{located.policy_domain}: receivers "
            "apply none of them (RFC 7489 §6.6.3)",
            remediation=fix,
        )
        return _result(expect, RecordState.WRONG, tuple(records), [finding], "absent")
    return _evaluate_record(expect, located, records[0], answers)


def _evaluate_record(
    expect: DmarcExpectation, located: _Located, text: str, answers: Answers
) -> RecordResult:
    tags = parse_tags(text)
    findings = [
        Finding(Code.DMARC_SYNTAX, Severity.ERROR, f"DMARC tag-list: {e}", found=text) for e in tags.errors
    ]
    findings += _value_findings(tags.tags, text)
    policy_tag = "sp" if located.inherited and "sp" in tags.tags else "p"
    policy = tags.tags.get(policy_tag, "none") if tags.tags.get(policy_tag) in POLICIES else "none"
    if located.inherited:
        findings.append(
            Finding(
                Code.DMARC_ORG_DOMAIN_ONLY,
                Severity.INFO,
                f"no record at {expect.name}; the organizational domain's record at "
                f"_dmarc.{located.policy_domain} applies ({policy_tag}={policy})",
            )
        )
    if POLICIES.index(policy) < POLICIES.index(expect.min_policy):
        fixed = re.sub(r"(^|;)(\s*)p\s*=\s*[a-z]*", rf"\1\2p={expect.min_policy}", text, count=1)
        findings.append(
            Finding(
                Code.DMARC_POLICY_WEAK,
                Severity.ERROR,
                f"policy {policy} is weaker than the required {expect.min_policy}",
                expected=expect.min_policy,
                found=policy,
                remediation=Remediation(expect.name, "TXT", fixed),
            )
        )
    findings += _report_findings(located.policy_domain, tags, answers)
    return _result(expect, state_of(findings), (text,), findings, policy)


def _value_findings(tags: dict[str, str], text: str) -> list[Finding]:
    out: list[Finding] = []
    if "p" not in tags:
        out.append(
            Finding(
                Code.DMARC_POLICY_MISSING,
                Severity.ERROR,
                "p= is required; receivers treat the record as p=none or ignore it",
                found=text,
            )
        )
    for tag in ("p", "sp"):
        if tag in tags and tags[tag] not in POLICIES:
            out.append(
                Finding(
                    Code.DMARC_SYNTAX,
                    Severity.ERROR,
                    f"{tag}={tags[tag]} is not one of {', '.join(POLICIES)}",
                    found=text,
                )
            )
    for tag in ("adkim", "aspf"):
        if tag in tags and tags[tag] not in ("r", "s"):
            out.append(Finding(Code.DMARC_SYNTAX, Severity.ERROR, f"{tag}= must be r or s", found=text))
    pct = tags.get("pct", "100")
    if not pct.isdigit() or int(pct) > 100:
        out.append(Finding(Code.DMARC_SYNTAX, Severity.ERROR, f"pct={pct} is not 0-100", found=text))
    elif int(pct) < 100:
        out.append(
            Finding(
                Code.DMARC_PCT_PARTIAL,
                Severity.WARNING,
                f"pct={pct}: the policy applies to only {pct}% of failing mail",
            )
        )
    return out


def _report_findings(policy_domain: str, tags: TagList, answers: Answers) -> list[Finding]:
    out: list[Finding] = []
    if "rua" not in tags.tags:
        out.append(
            Finding(
                Code.DMARC_NO_RUA,
                Severity.WARNING,
                "no rua=: you receive no aggregate reports to see who sends as you",
            )
        )
    for host, query in _external_destinations(policy_domain, tags):
        lookup = answers.get(query)
        if lookup is None or lookup.outcome.is_error:
            continue  # unknown: not a finding either way
        if not _select(lookup):
            out.append(
                Finding(
                    Code.DMARC_EXTERNAL_UNAUTHORIZED,
                    Severity.WARNING,
                    f"reports to {host} need its consent record at {query.name} (RFC 7489 §7.1); "
                    "without it receivers drop them",
                    remediation=Remediation(query.name, "TXT", "v=DMARC1"),
                )
            )
    return out


def _external_destinations(policy_domain: str, tags: TagList) -> list[tuple[str, Query]]:
    own = organizational_domain(policy_domain)
    hosts: dict[str, Query] = {}
    for tag in ("rua", "ruf"):
        for uri in tags.tags.get(tag, "").split(","):
            match = _MAILTO.fullmatch(uri.strip())
            if match is None:
                continue
            host = match.group(2).rstrip(".").lower()
            if organizational_domain(host) != own:
                hosts[host] = Query.of(f"{policy_domain}._report._dmarc.{host}", "TXT")
    return sorted(hosts.items())


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


def plan(domain: PlannedDomain, own: DmarcConfig) -> list[Expectation]:
    if domain.sending is None and not own.required:
        return []
    return [DmarcExpectation("dmarc", f"_dmarc.{domain.name}", own.required, domain.name, own.min_policy)]


def inspect(name: str, selectors: Sequence[str]) -> list[Expectation]:
    del selectors
    return [DmarcExpectation("dmarc", f"_dmarc.{name}", False, name)]


KIND = RecordKind(
    name="dmarc",
    section=Section.DOMAIN,
    key="dmarc",
    model=DmarcConfig,
    default=DmarcConfig(),
    capability="sending",
    plan=plan,
    queries=queries,
    evaluate=evaluate,
    codes=Code,
    metrics=(
        FactMetric(
            "domainwatch_dmarc_policy",
            "1 for the effective DMARC policy",
            "dmarc_policy",
            one_hot=("policy", ("none", "quarantine", "reject", "absent")),
        ),
    ),
    inspect=inspect,
)
