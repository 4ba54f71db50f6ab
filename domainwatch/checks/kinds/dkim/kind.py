"""DKIM public key records (RFC 6376 §3.6.1), published directly or delegated by CNAME."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated, Literal

from pydantic import Field, Strict, model_validator
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
    same_host,
    shared,
)
from domainwatch.checks.diagnoses import mistakes
from domainwatch.checks.kinds.dkim import drift
from domainwatch.checks.kinds.dkim.key import Code, diagnose_key, key_bits, key_facts, key_record
from domainwatch.dns.resolver import Lookup, Query
from domainwatch.fields import SECTION_CONFIG, DomainName, Selector, Text
from domainwatch.model import Finding, RecordResult, RecordState, Remediation, Severity
from domainwatch.state.rules import state_of

__all__ = ["Code", "DkimConfig", "DkimExpectation", "diagnose_key", "key_bits", "key_record"]


@schema(frozen=True, slots=True, config=SECTION_CONFIG)
class DkimConfig:
    """One entry of `sending.dkim`: a selector, and its key or the CNAME delegating it."""

    selector: Selector
    public_key: Text | None = None
    cname: DomainName | None = None
    # Rotation (fleet/drift.py): `next` is the key being published before signing switches to
    # it, `retiring` the one signing switched away from. Both are advisory.
    role: Literal["active", "next", "retiring"] = "active"

    @model_validator(mode="after")
    def _one_source(self) -> DkimConfig:
        if self.public_key is not None and self.cname is not None:
            raise ValueError("set either public_key or cname, not both")
        return self


@dataclass(frozen=True, slots=True)
class DkimExpectation(Expectation):
    selector: str = ""
    public_key: str | None = None
    cname: str | None = None
    # Not part of the fingerprint: a role change is not an expectation change (no restart).
    role: str = field(default="active", metadata={"fingerprint": False})

    @property
    def counts(self) -> bool:
        """Whether the record counts toward its capability: a required `active` key."""
        return self.required and self.role == "active"

    @property
    def expected(self) -> str | None:
        if self.cname:
            return self.cname
        return key_record(self.public_key) if self.public_key else None


def queries(expect: DkimExpectation, answers: Answers) -> set[Query]:
    wanted = {Query.of(expect.name, "TXT")}
    if expect.cname:
        wanted.add(Query.of(expect.name, "CNAME"))
    follow = _alias_target(answers.get(Query.of(expect.name, "TXT")))
    if follow is not None:
        wanted.add(follow)
    return {q for q in wanted if q not in answers}


def _alias_target(lookup: Lookup | None) -> Query | None:
    """A server answering only with the CNAME (authoritative mode): ask for the target's TXT."""
    if lookup is None or not lookup.aliases or not lookup.outcome.is_void:
        return None
    return Query.of(lookup.aliases[-1], "TXT")


def evaluate(expect: DkimExpectation, answers: Answers) -> RecordResult:
    if expect.cname:
        verdict = _check_cname(expect, answers)
        if verdict is not None:
            return verdict
    lookup = answers.get(Query.of(expect.name, "TXT"))
    follow = _alias_target(lookup)
    if follow is not None:
        lookup = answers.get(follow)
    if lookup is None or lookup.outcome.is_error:
        return _result(expect, RecordState.ERROR, (), [lookup_error(lookup)] if lookup else [])
    if not lookup.records:
        fix = Remediation(expect.name, "TXT", key_record(expect.public_key)) if expect.public_key else None
        message = f"no DKIM key at {expect.name}"
        if fix is None:
            message += "; publish the key your mail provider gives for this selector"
        finding = Finding(Code.DKIM_MISSING, Severity.ERROR, message, remediation=fix)
        return _result(expect, RecordState.MISSING, (), [finding])
    findings = _key_findings(expect, lookup.records)
    facts = key_facts(lookup.records[0]) if len(lookup.records) == 1 else {}
    if lookup.ttl:  # how long resolvers may keep the key (a `next` key's readiness, fleet/drift.py)
        facts["dkim_ttl"] = lookup.ttl
    return _result(expect, state_of(findings), lookup.records, findings, facts)


def _check_cname(expect: DkimExpectation, answers: Answers) -> RecordResult | None:
    assert expect.cname is not None
    lookup = answers.get(Query.of(expect.name, "CNAME"))
    fix = Remediation(expect.name, "CNAME", expect.cname)
    if lookup is None or lookup.outcome.is_error:
        return _result(expect, RecordState.ERROR, (), [lookup_error(lookup)] if lookup else [])
    if not lookup.records:
        finding = Finding(
            Code.DKIM_CNAME_MISSING,
            Severity.ERROR,
            f"no CNAME at {expect.name}",
            expected=expect.cname,
            remediation=fix,
        )
        return _result(expect, RecordState.MISSING, (), [finding])
    if not same_host(lookup.records[0], expect.cname):
        finding = Finding(
            Code.DKIM_CNAME_WRONG,
            Severity.ERROR,
            f"{expect.name} points to {lookup.records[0]}, not {expect.cname}",
            expected=expect.cname,
            found=lookup.records[0],
            remediation=fix,
        )
        return _result(expect, RecordState.WRONG, lookup.records, [finding])
    return None


def _key_findings(expect: DkimExpectation, records: tuple[str, ...]) -> list[Finding]:
    if len(records) > 1:
        fix = Remediation(expect.name, "TXT", key_record(expect.public_key)) if expect.public_key else None
        return [
            Finding(
                Code.DKIM_MULTIPLE,
                Severity.ERROR,
                f"{len(records)} TXT records at {expect.name}: verifiers may pick any "
                "(RFC 6376 §3.6.2.2); publish exactly one",
                remediation=fix,
            )
        ]
    return diagnose_key(records[0], expect.public_key, expect.name)


def _result(
    expect: DkimExpectation,
    state: RecordState,
    found: tuple[str, ...],
    findings: list[Finding],
    facts: dict[str, str | int] | None = None,
) -> RecordResult:
    rtype = "CNAME" if expect.cname else "TXT"
    return RecordResult(
        expect.record,
        expect.name,
        rtype,
        state,
        expect.counts,
        expect.expected,
        found,
        tuple(findings),
        facts or {},
    )


def diagnose(expect: DkimExpectation, answers: Answers, result: RecordResult) -> Diagnosis:
    """Not verifying? A quoted, padded or cut key, a CNAME in the way, or the key at the name
    with the zone appended again, at the parent domain, or without the underscore."""
    found = mistakes.pasted(expect.name, answers, _looks_like_key)
    lookup = answers.get(Query.of(expect.name, "TXT"))
    for value in lookup.records if lookup is not None else ():
        found += mistakes.truncated_key(tag_value(value, "p"))
    if not expect.cname:
        found += mistakes.cname_conflict(expect.name, "TXT", answers)
    if result.state is not RecordState.MISSING:
        return found
    rdtype = "CNAME" if expect.cname else "TXT"
    looks = _has_cname if expect.cname else _has_key
    found += mistakes.doubled_name(expect.name, rdtype, answers, looks)
    domain = expect.name.split("._domainkey.", 1)[1]
    parent = domain.partition(".")[2]
    if parent.count("."):
        elsewhere = f"{expect.selector}._domainkey.{parent}"
        why = f"the parent domain {parent}, not {domain}"
        found += mistakes.wrong_name(expect.name, elsewhere, rdtype, answers, looks=looks, why=why)
    underscore = f"{expect.selector}.domainkey.{domain}"
    why = "domainkey without its underscore: the name is _domainkey"
    return found + mistakes.wrong_name(expect.name, underscore, rdtype, answers, looks=looks, why=why)


def _looks_like_key(value: str) -> bool:
    return value.startswith("v=DKIM1") or "p=" in value


def _has_key(lookup: Lookup) -> bool:
    return any(_looks_like_key(r) for r in lookup.records)


def _has_cname(lookup: Lookup) -> bool:
    return bool(lookup.records)


def tag_value(record: str, tag: str) -> str:
    """A tag's value in a tag=value list (empty when absent)."""
    for part in record.split(";"):
        name, _, value = part.partition("=")
        if name.strip() == tag:
            return value.strip()
    return ""


def plan(domain: PlannedDomain, own: list[DkimConfig]) -> list[Expectation]:
    return [
        DkimExpectation(
            shared(f"dkim:{key.selector}"),
            f"{key.selector}._domainkey.{domain.name}",
            True,
            key.selector,
            key.public_key,
            key.cname,
            key.role,
        )
        for key in own
    ]


def inspect(name: str, selectors: Sequence[str]) -> list[Expectation]:
    return [DkimExpectation(f"dkim:{s}", f"{s}._domainkey.{name}", False, s) for s in selectors]


def publish(expect: DkimExpectation) -> tuple[Remediation, ...]:
    if expect.cname:
        return (Remediation(expect.name, "CNAME", expect.cname),)
    if expect.public_key:
        return (Remediation(expect.name, "TXT", key_record(expect.public_key)),)
    # The provider makes the key (Resend, Google Workspace): the record is still required, so
    # it is listed, with its host and type and the value marked as the provider's.
    return (Remediation(expect.name, "TXT", PROVIDER_KEY, from_provider=True),)


PROVIDER_KEY = "p=<the public key from your provider>"


KIND = RecordKind(
    name="dkim",
    section=Section.SENDING,
    key="dkim",
    model=Annotated[list[DkimConfig], Strict()],
    default=Field(default_factory=list),
    capability="sending",
    rdtype="TXT",
    plan=plan,
    queries=queries,
    evaluate=evaluate,
    codes=Code,
    publish=publish,
    diagnose=diagnose,
    metrics=(
        FactMetric(
            "domainwatch_dkim_key_bits", "Size of the published DKIM key", "dkim_key_bits", "selector"
        ),
    ),
    inspect=inspect,
    drift=DriftRules(drift.reasons, ("dkim_key_bits",)),
)
