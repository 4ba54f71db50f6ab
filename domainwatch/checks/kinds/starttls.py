"""STARTTLS on each inbound MX host (`receiving.tls`; record ids `starttls:<MX host>`).

A sender that enforces TLS delivers only to a server that offers STARTTLS with a recent
protocol and a certificate valid for the MX host name. The probe (probes/smtp.py) answers what
the server did; this module turns that into findings. A probe that could not complete is an
error state, never a failure.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic.dataclasses import dataclass as schema

from domainwatch.checks.base import Answers, Expectation, FactMetric, PlannedDomain, RecordKind, Section
from domainwatch.checks.kinds.probed import only_refused, probed_addresses, refused_addresses
from domainwatch.dns.resolver import Query
from domainwatch.fields import SECTION_CONFIG, Flag
from domainwatch.model import AddressView, CommonCode, Finding, RecordResult, RecordState, Severity
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
    facts = facts_of(lookup) if lookup is not None else {}
    if lookup is None or lookup.outcome.is_error or not (probed_addresses(facts) or only_refused(facts)):
        detail = (lookup.detail or "no address probed") if lookup is not None else "not probed"
        message = f"the STARTTLS probe of {expect.name} could not complete: {detail}; TLS support is unknown"
        return _result(
            expect, RecordState.ERROR, [], [Finding(CommonCode.LOOKUP_ERROR, Severity.ERROR, message)], ()
        )
    refused = refused_addresses(expect.name, facts)
    entries = probed_addresses(facts)
    views = [_judged(expect, entry) for entry in entries]
    findings = refused + [finding for _, found in views for finding in found]
    state = RecordState.WRONG if only_refused(facts) else worst(view.outcome for view, _ in views)
    return _result(expect, state, entries, findings, tuple(view for view, _ in views))


# What DANE-EE makes no longer decide (relieved).
CERTIFICATE_CODES = frozenset(
    {
        Code.CERTIFICATE_UNTRUSTED,
        Code.CERTIFICATE_NAME_MISMATCH,
        Code.CERTIFICATE_EXPIRED,
        Code.CERTIFICATE_EXPIRING,
    }
)


def relieved(result: RecordResult, dane_ee: set[str]) -> RecordResult:
    """The result where a validated DANE-EE(3) record matches the certificate of the addresses
    in `dane_ee`: its names, dates and trust no longer decide for them (RFC 7672 §3.1.1), so
    those findings are warnings, and the state follows what is left."""
    if not dane_ee or not result.addresses:
        return result
    note = " (a DANE-EE record matches it: senders that use DANE deliver; others may not)"
    findings = tuple(
        replace(f, severity=Severity.WARNING, message=f.message + note)
        if f.code in CERTIFICATE_CODES and f.found in dane_ee and f.severity is Severity.ERROR
        else f
        for f in result.findings
    )
    views = tuple(
        replace(view, outcome=RecordState.PRESENT)
        if view.outcome is RecordState.WRONG
        and not any(f.found == view.address and f.severity is Severity.ERROR for f in findings)
        else view
        for view in result.addresses
    )
    state = worst(view.outcome for view in views)
    return replace(result, state=state, findings=findings, addresses=views)


def worst(outcomes: Iterable[RecordState]) -> RecordState:
    """A host's state from its addresses': wrong when any is (a conclusive failure), else an
    error when one could not be probed, else present."""
    seen = set(outcomes)
    if RecordState.WRONG in seen:
        return RecordState.WRONG
    return RecordState.ERROR if RecordState.ERROR in seen else RecordState.PRESENT


def _judged(expect: StartTlsExpectation, entry: dict[str, Any]) -> tuple[AddressView, list[Finding]]:
    """One address: its state and findings, each naming it."""
    address = str(entry.get("address", "?"))[:64]
    if entry.get("error"):
        detail = str(entry.get("detail") or entry["error"])[:300]
        message = f"the STARTTLS probe of {expect.name} at {address} could not complete: {detail}"
        finding = Finding(CommonCode.LOOKUP_ERROR, Severity.ERROR, message, found=address)
        return AddressView(address, RecordState.ERROR, (finding.code.value,)), [finding]
    findings = [replace(f, found=address) for f in _findings(expect, f"{expect.name} ({address})", entry)]
    wrong = any(f.severity is Severity.ERROR for f in findings)
    outcome = RecordState.WRONG if wrong else RecordState.PRESENT
    return AddressView(address, outcome, tuple(f.code.value for f in findings)), findings


def _findings(expect: StartTlsExpectation, host: str, facts: dict[str, Any]) -> list[Finding]:
    """`host` names the server and its address in messages."""
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
    out += _certificate_findings(expect.name, host, facts)
    return out


def _certificate_findings(name: str, host: str, facts: dict[str, Any]) -> list[Finding]:
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
    if not name_matches(name, names):
        shown = ", ".join(names[:5]) or "no name"
        message = f"the certificate of {host} is for {shown}: it must name {name}"
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
    expect: StartTlsExpectation,
    state: RecordState,
    entries: list[dict[str, Any]],
    findings: list[Finding],
    views: tuple[AddressView, ...],
) -> RecordResult:
    found = tuple(_found(entry) for entry in entries[:8])
    if not entries and findings and findings[0].code is CommonCode.PROBE_ADDRESS_NOT_GLOBAL:
        found = ("not probed: no address on the public internet",)
    numbers: dict[str, str | int] = {}
    expiries = [until for entry in entries if (until := _expiry(entry)) is not None]
    if expiries:
        numbers["tls_certificate_expiry"] = min(expiries)  # the earliest over the addresses
    versions = [str(entry["tls_version"]) for entry in entries if entry.get("tls_version") in VERSIONS]
    if versions:
        numbers["tls_version"] = min(versions, key=VERSIONS.index)  # the oldest negotiated
    expected = f"STARTTLS, TLS {expect.min_version} or later, a trusted certificate for {expect.name}"
    return RecordResult(
        expect.record, expect.name, "SMTP", state, expect.required, expected, found, tuple(findings),
        numbers, addresses=views,
    )  # fmt: skip


def _found(entry: dict[str, Any]) -> str:
    address = str(entry.get("address", "?"))[:64]
    if entry.get("error"):
        return f"{address}: not probed ({str(entry['error'])[:40]})"
    if entry.get("tls_version"):
        until = _expiry(entry)
        expiry = datetime.fromtimestamp(until, UTC).strftime("%Y-%m-%d") if until is not None else "?"
        names = ", ".join(_names(entry)[:5])
        return (f"{address}: TLS {entry['tls_version']} {entry.get('cipher') or ''}; certificate for {names} "
                f"issued by {entry.get('issuer') or '?'}, valid until {expiry}")  # fmt: skip
    return f"{address}: " + ("STARTTLS offered" if entry.get("starttls") else "no STARTTLS")


def _expiry(entry: dict[str, Any]) -> int | None:
    until = entry.get("not_after")
    return until if isinstance(until, int) and 0 <= until < 2**37 else None  # a date a certificate can hold


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
