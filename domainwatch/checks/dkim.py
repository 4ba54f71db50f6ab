"""DKIM public key records (RFC 6376 §3.6.1), published directly or delegated by CNAME."""

from __future__ import annotations

import base64
import binascii
import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated

from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from cryptography.hazmat.primitives.serialization import load_der_public_key
from pydantic import Field, Strict, model_validator
from pydantic.dataclasses import dataclass as schema

from domainwatch.checks.base import (
    Answers,
    Expectation,
    FactMetric,
    PlannedDomain,
    RecordKind,
    Section,
    lookup_error,
    same_host,
)
from domainwatch.checks.tags import parse_tags
from domainwatch.dns.resolver import Lookup, Query
from domainwatch.fields import SECTION_CONFIG, DomainName, Selector, Text
from domainwatch.model import Finding, RecordResult, RecordState, Remediation, Severity
from domainwatch.state.rules import state_of

MIN_RSA_BITS = 1024  # RFC 8301 §3.2: verifiers MUST NOT accept shorter keys
RECOMMENDED_RSA_BITS = 2048


class Code(enum.StrEnum):
    DKIM_MISSING = "dkim_missing"
    DKIM_MULTIPLE = "dkim_multiple"
    DKIM_CNAME_MISSING = "dkim_cname_missing"
    DKIM_CNAME_WRONG = "dkim_cname_wrong"
    DKIM_SYNTAX = "dkim_syntax"
    DKIM_VERSION_UNKNOWN = "dkim_version_unknown"
    DKIM_KEY_TYPE_UNKNOWN = "dkim_key_type_unknown"
    DKIM_REVOKED = "dkim_revoked"
    DKIM_TESTING = "dkim_testing"
    DKIM_KEY_UNPARSABLE = "dkim_key_unparsable"
    DKIM_KEY_TOO_WEAK = "dkim_key_too_weak"
    DKIM_KEY_SHORT = "dkim_key_short"
    DKIM_KEY_MISMATCH = "dkim_key_mismatch"


@schema(frozen=True, slots=True, config=SECTION_CONFIG)
class DkimConfig:
    """One entry of `sending.dkim`: a selector, and its key or the CNAME delegating it."""

    selector: Selector
    public_key: Text | None = None
    cname: DomainName | None = None

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

    @property
    def expected(self) -> str | None:
        if self.cname:
            return self.cname
        return key_record(self.public_key) if self.public_key else None


def key_record(public_key: str) -> str:
    kind = "ed25519" if len(_decode(public_key) or b"") == 32 else "rsa"
    return f"v=DKIM1; k={kind}; p={public_key}"


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
    facts = _key_facts(lookup.records[0]) if len(lookup.records) == 1 else {}
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
        return [
            Finding(
                Code.DKIM_MULTIPLE,
                Severity.ERROR,
                f"{len(records)} TXT records at {expect.name}: verifiers may pick any "
                "(RFC 6376 §3.6.2.2); publish exactly one",
            )
        ]
    return diagnose_key(records[0], expect)


def diagnose_key(text: str, expect: DkimExpectation) -> list[Finding]:
    """Findings for one published key record (pure; never raises)."""
    parsed = parse_tags(text)
    found = text
    out = [
        Finding(Code.DKIM_SYNTAX, Severity.ERROR, f"DKIM tag-list: {e}", found=found) for e in parsed.errors
    ]
    tags = parsed.tags
    if "v" in tags and (tags["v"] != "DKIM1" or parsed.order[0] != "v"):
        out.append(
            Finding(
                Code.DKIM_VERSION_UNKNOWN,
                Severity.ERROR,
                f"v={tags['v']} must be DKIM1 and the first tag",
                found=found,
            )
        )
    kind = tags.get("k", "rsa")
    if kind not in ("rsa", "ed25519"):
        out.append(
            Finding(
                Code.DKIM_KEY_TYPE_UNKNOWN,
                Severity.ERROR,
                f"key type k={kind} is not rsa or ed25519",
                found=found,
            )
        )
    if "y" in tags.get("t", "").replace(" ", "").split(":"):
        out.append(
            Finding(
                Code.DKIM_TESTING,
                Severity.WARNING,
                "t=y: the domain is testing DKIM; receivers may ignore failures and passes",
            )
        )
    if "p" not in tags:
        out.append(Finding(Code.DKIM_SYNTAX, Severity.ERROR, "p= (the public key) is required", found=found))
        return out
    return out + _public_key_findings(_strip(tags["p"]), kind, expect)


def _public_key_findings(p: str, kind: str, expect: DkimExpectation) -> list[Finding]:
    fix = Remediation(expect.name, "TXT", key_record(expect.public_key)) if expect.public_key else None
    if not p:
        return [
            Finding(Code.DKIM_REVOKED, Severity.ERROR, "p= is empty: the key is revoked", remediation=fix)
        ]
    out: list[Finding] = []
    bits = key_bits(p, kind)
    if bits is None:
        out.append(
            Finding(
                Code.DKIM_KEY_UNPARSABLE,
                Severity.ERROR,
                f"p= is not a valid {kind} public key",
                remediation=fix,
            )
        )
    elif kind == "rsa" and bits < MIN_RSA_BITS:
        out.append(
            Finding(
                Code.DKIM_KEY_TOO_WEAK,
                Severity.ERROR,
                f"{bits}-bit RSA key: verifiers reject keys under {MIN_RSA_BITS} bits (RFC 8301)",
                found=str(bits),
            )
        )
    elif kind == "rsa" and bits < RECOMMENDED_RSA_BITS:
        out.append(
            Finding(
                Code.DKIM_KEY_SHORT,
                Severity.WARNING,
                f"{bits}-bit RSA key: {RECOMMENDED_RSA_BITS} bits is recommended",
                found=str(bits),
            )
        )
    if expect.public_key and _decode(p) != _decode(_strip(expect.public_key)):
        out.append(
            Finding(
                Code.DKIM_KEY_MISMATCH,
                Severity.ERROR,
                "the published key differs from the expected key",
                remediation=fix,
                expected=_strip(expect.public_key),
                found=p,
            )
        )
    return out


def key_bits(p: str, kind: str = "rsa") -> int | None:
    """Size of a published key in bits, or None when it does not parse."""
    der = _decode(p)
    if der is None:
        return None
    if kind == "ed25519":
        try:
            ed25519.Ed25519PublicKey.from_public_bytes(der)
        except ValueError:
            return None
        return 256
    try:
        key = load_der_public_key(der)
    except (ValueError, TypeError):
        return None
    return key.key_size if isinstance(key, rsa.RSAPublicKey) else None


def _key_facts(text: str) -> dict[str, str | int]:
    tags = parse_tags(text).tags
    bits = key_bits(_strip(tags.get("p", "")), tags.get("k", "rsa")) if tags.get("p") else None
    return {"dkim_key_bits": bits} if bits else {}


def _decode(p: str) -> bytes | None:
    try:
        return base64.b64decode(_strip(p), validate=True)
    except (binascii.Error, ValueError):
        return None


def _strip(p: str) -> str:
    return "".join(p.split())


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
        expect.required,
        expect.expected,
        found,
        tuple(findings),
        facts or {},
    )


def plan(domain: PlannedDomain, own: list[DkimConfig]) -> list[Expectation]:
    return [
        DkimExpectation(
            f"dkim:{key.selector}",
            f"{key.selector}._domainkey.{domain.name}",
            True,
            key.selector,
            key.public_key,
            key.cname,
        )
        for key in own
    ]


def inspect(name: str, selectors: Sequence[str]) -> list[Expectation]:
    return [DkimExpectation(f"dkim:{s}", f"{s}._domainkey.{name}", False, s) for s in selectors]


KIND = RecordKind(
    name="dkim",
    section=Section.SENDING,
    key="dkim",
    model=Annotated[list[DkimConfig], Strict()],
    default=Field(default_factory=list),
    capability="sending",
    plan=plan,
    queries=queries,
    evaluate=evaluate,
    codes=Code,
    metrics=(
        FactMetric(
            "domainwatch_dkim_key_bits", "Size of the published DKIM key", "dkim_key_bits", "selector"
        ),
    ),
    inspect=inspect,
)
