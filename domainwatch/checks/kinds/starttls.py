"""STARTTLS on each inbound MX host (`receiving.tls`; record ids `starttls:<MX host>`).

A sender that enforces TLS delivers only to a server that offers STARTTLS with a recent
protocol and a certificate valid for the MX host name. The probe (probes/smtp.py) answers what
the server did; this module turns that into findings. A probe that could not complete is an
error state, never a failure.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic.dataclasses import dataclass as schema

from domainwatch.checks.base import Answers, Expectation, FactMetric, PlannedDomain, RecordKind, Section
from domainwatch.checks.kinds.probed import only_refused, refused_addresses
from domainwatch.dns.resolver import Query
from domainwatch.fields import SECTION_CONFIG, Flag
from domainwatch.model import CommonCode, Finding, RecordResult, RecordState, Severity
from domainwatch.probes.answers import STARTTLS, facts_of
from domainwatch.probes.tls import name_matches

EXPIRING_DAYS = 14
VERSIONS = ("1.0", "1.1", "1.2", "1.3")


class Code(enum.StrEnum):
    STARTTLS_NOT_OFFERED = "starttls_not_offered"
    TLS_HANDSHAKE_FAILED = "tls_handshake_failed"
    TLS_VERSION_TOO_OLD = "tls_version_too_old"
    CERTIFICATE_UNTRUSTED = "certificate_untrusted"
    CERTIFICATE_NAME_MISMATCH = "certificate_name_mismatch"
    CERTIFICATE_EXPIRED = "certificate_expired"
    CERTIFICATE_EXPIRING = "certificate_expiring"


@schema(frozen=True, slots=True, config=SECTION_CONFIG)
class TlsConfig:
    """`receiving.tls`: probe every configured MX host; `required` makes the records count."""

    required: Flag = False
    min_version: Literal["1.0", "1.1", "1.2", "1.3"] = "1.2"


@dataclass(frozen=True, slots=True)
class StartTlsExpectation(Expectation):
    min_version: str = "1.2"


def queries(expect: StartTlsExpectation, answers: Answers) -> set[Query]:
    query = Query.of(expect.name, STARTTLS)
    return set() if query in answers else {query}


def evaluate(expect: StartTlsExpectation, answers: Answers) -> RecordResult:
    lookup = answers.get(Query.of(expect.name, STARTTLS))
    if lookup is None or lookup.outcome.is_error:
        detail = lookup.detail if lookup is not None else "not probed"
        message = f"the STARTTLS probe of {expect.name} could not complete: {detail}; TLS support is unknown"
        return _result(
            expect, RecordState.ERROR, {}, [Finding(CommonCode.LOOKUP_ERROR, Severity.ERROR, message)]
        )
    facts = facts_of(lookup)
    refused = refused_addresses(expect.name, facts)
    findings = refused if only_refused(facts) else refused + _findings(expect, facts)
    wrong = any(f.severity is Severity.ERROR for f in findings)
    return _result(expect, RecordState.WRONG if wrong else RecordState.PRESENT, facts, findings)


def _findings(expect: StartTlsExpectation, facts: dict[str, Any]) -> list[Finding]:
    host = expect.name
    if not facts.get("starttls"):
        return [_error(Code.STARTTLS_NOT_OFFERED, f"{host} does not offer STARTTLS: enable TLS on it")]
    if facts.get("handshake_error"):
        message = f"the TLS handshake with {host} failed: {facts['handshake_error']}"
        return [_error(Code.TLS_HANDSHAKE_FAILED, message)]
    out = []
    version = str(facts.get("tls_version") or "")
    if version not in VERSIONS or VERSIONS.index(version) < VERSIONS.index(expect.min_version):
        message = f"{host} negotiated TLS {version or '?'}; at least TLS {expect.min_version} is required"
        out.append(_error(Code.TLS_VERSION_TOO_OLD, message))
    out += _certificate_findings(host, facts)
    return out


def _certificate_findings(host: str, facts: dict[str, Any]) -> list[Finding]:
    out = []
    names = _names(facts)
    problem = str(facts.get("verify_error") or "")
    if facts.get("trusted") is False and "expired" in problem:
        out.append(_error(Code.CERTIFICATE_EXPIRED, f"the certificate of {host} has expired: renew it"))
    elif facts.get("trusted") is False:
        message = (
            f"the certificate of {host} is not trusted ({problem}): use one from a public CA, with its chain"
        )
        out.append(_error(Code.CERTIFICATE_UNTRUSTED, message))
    if not name_matches(host, names):
        shown = ", ".join(names[:5]) or "no name"
        message = f"the certificate of {host} is for {shown}: it must name {host}"
        out.append(_error(Code.CERTIFICATE_NAME_MISMATCH, message))
    days = _days_left(facts)
    if days is not None and 0 <= days < EXPIRING_DAYS:
        message = f"the certificate of {host} expires in {days} days: renew it"
        out.append(Finding(Code.CERTIFICATE_EXPIRING, Severity.WARNING, message))
    return out


def _names(facts: dict[str, Any]) -> list[str]:
    names = facts.get("names")
    return [str(n) for n in names[:20]] if isinstance(names, list) else []


def _days_left(facts: dict[str, Any]) -> int | None:
    """Days from the probe to the certificate's expiry (the probe's time: the answer's own)."""
    not_after, probed = facts.get("not_after"), facts.get("probed_at")
    if not isinstance(not_after, int) or not isinstance(probed, int):
        return None
    return (not_after - probed) // 86400


def _error(code: Code, message: str) -> Finding:
    return Finding(code, Severity.ERROR, message)


def _result(
    expect: StartTlsExpectation, state: RecordState, facts: dict[str, Any], findings: list[Finding]
) -> RecordResult:
    found: tuple[str, ...] = ()
    until = facts.get("not_after")
    if not (isinstance(until, int) and 0 <= until < 2**37):  # a date a certificate can hold
        until = None
    if facts.get("tls_version"):
        expiry = datetime.fromtimestamp(until, UTC).strftime("%Y-%m-%d") if until is not None else "?"
        names = ", ".join(_names(facts)[:5])
        found = (f"TLS {facts['tls_version']} {facts.get('cipher') or ''}; certificate for {names} "
                 f"issued by {facts.get('issuer') or '?'}, valid until {expiry}",)  # fmt: skip
    elif only_refused(facts):
        found = ("not probed: no address on the public internet",)
    elif facts:
        found = ("STARTTLS offered" if facts.get("starttls") else "no STARTTLS",)
    numbers: dict[str, str | int] = {}
    if until is not None:
        numbers["tls_certificate_expiry"] = until
    if facts.get("tls_version") in VERSIONS:
        numbers["tls_version"] = facts["tls_version"]
    expected = f"STARTTLS, TLS {expect.min_version} or later, a trusted certificate for {expect.name}"
    return RecordResult(
        expect.record, expect.name, "SMTP", state, expect.required, expected, found, tuple(findings), numbers
    )


def plan(domain: PlannedDomain, own: TlsConfig) -> list[Expectation]:
    hosts = [m.host for m in domain.receiving.mx or []]
    return [StartTlsExpectation(f"starttls:{host}", host, own.required, own.min_version) for host in hosts]


def inspect_tls(name: str, hosts: Sequence[str]) -> list[Expectation]:
    """`inspect --tls`: each MX host the domain publishes, advisory."""
    del name
    return [StartTlsExpectation(f"starttls:{host}", host, False) for host in hosts]


KIND = RecordKind(
    name="starttls",
    section=Section.RECEIVING,
    key="tls",
    model=TlsConfig | None,
    default=None,
    capability="receiving",
    rdtype="SMTP",
    plan=plan,
    queries=queries,
    evaluate=evaluate,
    codes=Code,
    metrics=(
        FactMetric(
            "domainwatch_tls_certificate_expiry_timestamp_seconds",
            "When the certificate an MX host offers over STARTTLS expires",
            "tls_certificate_expiry",
            label="mx",
        ),
        FactMetric(
            "domainwatch_tls_version_info",
            "The TLS version an MX host negotiates over STARTTLS (value 1)",
            "tls_version",
            label="mx",
            info="version",
        ),
    ),
    probes=True,
    inspect_tls=inspect_tls,
    implied=TlsConfig(),
    needs="mx",
)
