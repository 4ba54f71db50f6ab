"""DANE for SMTP (RFC 7672) on each inbound MX host (`receiving.dane`; record ids `dane:<host>`).

A sender that does DANE looks up the TLSA records at `_25._tcp.<MX host>`, and when they are
DNSSEC-validated, delivers only to a server whose certificate chain matches one of them. The
records count only when validated: they are asked of the configured resolvers, with DNSSEC, in
every mode (dns/authoritative.py). The chain each address presents comes from the STARTTLS
probe (the same answer the `starttls` records read); only DANE-TA(2) and DANE-EE(3) are for
SMTP (RFC 7672 §3.1.3), with selectors 0 and 1 and matching types 0, 1 and 2 (RFC 6698 §2.1).
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

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
from domainwatch.checks.kinds.probed import probed_addresses
from domainwatch.dns.resolver import Lookup, Query
from domainwatch.fields import SECTION_CONFIG, Flag
from domainwatch.model import (
    AddressView,
    CommonCode,
    Finding,
    RecordResult,
    RecordState,
    Remediation,
    Severity,
)
from domainwatch.probes.answers import STARTTLS, facts_of

TLSA = "TLSA"
USABLE_USAGES = (2, 3)  # DANE-TA, DANE-EE; PKIX-TA(0) and PKIX-EE(1) are not for SMTP
MAX_RECORDS = 16  # TLSA records of one name read: a hostile zone may publish hundreds
_DIGESTS = {  # (selector, matching type) -> the chain fact holding what it is compared with
    (0, 1): "cert256",
    (0, 2): "cert512",
    (1, 1): "spki256",
    (1, 2): "spki512",
}


class Code(enum.StrEnum):
    DANE_MISSING = "dane_missing"
    DANE_INSECURE = "dane_insecure"
    DANE_BOGUS = "dane_bogus"
    DANE_NO_MATCH = "dane_no_match"
    DANE_UNUSABLE_RECORD = "dane_unusable_record"
    DANE_ROLLOVER_UNREADY = "dane_rollover_unready"


@schema(frozen=True, slots=True, config=SECTION_CONFIG)
class DaneConfig:
    """`receiving.dane`: TLSA records for every configured MX host; `required` makes them count."""

    required: Flag = False


@dataclass(frozen=True, slots=True)
class DaneExpectation(Expectation):
    """`name` is the MX host."""


@dataclass(frozen=True, slots=True)
class Tlsa:
    usage: int
    selector: int
    mtype: int
    data: str  # lower-case hex

    @property
    def text(self) -> str:
        return f"{self.usage} {self.selector} {self.mtype} {self.data}"

    @property
    def usable(self) -> bool:
        return self.usage in USABLE_USAGES and self.selector in (0, 1) and self.mtype in (0, 1, 2)


def tlsa_name(host: str) -> str:
    return f"_25._tcp.{host}"


def queries(expect: DaneExpectation, answers: Answers) -> set[Query]:
    """The TLSA records; then, when they are validated (there or not), the chains the addresses
    present: what they match, or the record to publish."""
    tlsa = Query.of(tlsa_name(expect.name), TLSA)
    lookup = answers.get(tlsa)
    if lookup is not None and not lookup.outcome.is_error and lookup.authenticated:
        return {tlsa, Query.of(expect.name, STARTTLS)}
    return {tlsa}


def parse_tlsa(text: str) -> Tlsa | None:
    """A record's value as published (`usage selector mtype hex`), or None when it is not one."""
    parts = text.split()
    if len(parts) != 4 or not all(p.isdigit() and len(p) <= 3 for p in parts[:3]):
        return None
    data = parts[3].lower()
    if len(data) > 4096 or len(data) % 2 or any(c not in "0123456789abcdef" for c in data):
        return None
    return Tlsa(int(parts[0]), int(parts[1]), int(parts[2]), data)


def evaluate(expect: DaneExpectation, answers: Answers) -> RecordResult:
    lookup = answers.get(Query.of(tlsa_name(expect.name), TLSA))
    if lookup is None or lookup.outcome.is_error:
        finding = lookup_error(lookup) if lookup is not None else _not_asked(expect)
        return _result(expect, RecordState.ERROR, (), [finding])
    records = tuple(r for r in (parse_tlsa(v) for v in lookup.records[:MAX_RECORDS]) if r is not None)
    if not lookup.authenticated:
        return _insecure(expect, lookup, records)
    if not lookup.records:
        message = (
            f"{expect.name} publishes no TLSA record at {tlsa_name(expect.name)}: senders cannot use DANE"
        )
        fix = suggested(expect, answers)
        missing = Finding(Code.DANE_MISSING, Severity.ERROR, message, remediation=fix)
        return _result(expect, RecordState.MISSING, (), [missing])
    return _matched(expect, answers, records)


def _insecure(expect: DaneExpectation, lookup: Lookup, records: tuple[Tlsa, ...]) -> RecordResult:
    """Not validated: senders ignore TLSA records without DNSSEC (RFC 7672 §2.2)."""
    what = "its TLSA records are" if lookup.records else "the answer that there is no TLSA record is"
    message = (
        f"{tlsa_name(expect.name)} is not signed with DNSSEC (or not validated): {what} not secure, and "
        "there is no DANE without DNSSEC; sign the zone of the MX host, then publish the TLSA record"
    )
    return _result(
        expect, RecordState.MISSING, records, [Finding(Code.DANE_INSECURE, Severity.INFO, message)]
    )


def _matched(expect: DaneExpectation, answers: Answers, records: tuple[Tlsa, ...]) -> RecordResult:
    usable = [r for r in records if r.usable]
    findings = _unusable(expect, records, bool(usable))
    if not usable:
        return _result(expect, RecordState.WRONG, records, findings)
    probe = answers.get(Query.of(expect.name, STARTTLS))
    if probe is None or probe.outcome.is_error:
        detail = probe.detail if probe is not None else "not probed"
        message = f"the chain of {expect.name} could not be read: {detail}; whether it matches is unknown"
        return _result(
            expect, RecordState.ERROR, records, [Finding(CommonCode.LOOKUP_ERROR, Severity.ERROR, message)]
        )
    views, misses = [], []
    for entry in probed_addresses(facts_of(probe)):
        view, finding = _address(expect, entry, usable)
        views.append(view)
        misses += [finding] if finding else []
    if misses:
        fix = suggested(expect, answers)
        misses = [replace(f, remediation=fix) for f in misses]
    elif len(usable) == 1:
        findings.append(_rollover(expect, usable[0]))
    states = {view.outcome for view in views}
    state = (
        RecordState.WRONG
        if RecordState.WRONG in states or not views
        else RecordState.ERROR
        if RecordState.ERROR in states
        else RecordState.PRESENT
    )
    return _result(expect, state, records, [*findings, *misses], tuple(views))


def _address(
    expect: DaneExpectation, entry: Mapping[str, Any], usable: list[Tlsa]
) -> tuple[AddressView, Finding | None]:
    address = str(entry.get("address", "?"))[:64]
    if entry.get("error") or not isinstance(entry.get("chain"), list):
        why = str(entry.get("detail") or entry.get("error") or "no TLS session")[:200]
        message = f"the chain of {expect.name} at {address} could not be read: {why}"
        return AddressView(address, RecordState.ERROR, (CommonCode.LOOKUP_ERROR.value,)), Finding(
            CommonCode.LOOKUP_ERROR, Severity.ERROR, message, found=address
        )
    if any(matches(record, entry) for record in usable):
        return AddressView(address, RecordState.PRESENT), None
    message = (
        f"the certificate chain {expect.name} presents at {address} matches none of its TLSA records: "
        "senders that do DANE will not deliver to it"
    )
    finding = Finding(Code.DANE_NO_MATCH, Severity.ERROR, message, found=address)
    return AddressView(address, RecordState.WRONG, (Code.DANE_NO_MATCH.value,)), finding


def matches(record: Tlsa, entry: Mapping[str, Any]) -> bool:
    """Whether the chain an address presented matches the record: DANE-EE(3) its certificate;
    DANE-TA(2) a certificate of its chain above it, each one below issued by the next."""
    chain = [c for c in entry.get("chain", []) if isinstance(c, dict)]
    if record.usage == 3:
        return bool(chain) and _same(record, chain[0])
    linked = entry.get("linked")
    return any(_same(record, chain[depth]) and _issued_up_to(linked, depth) for depth in range(1, len(chain)))


def _issued_up_to(linked: object, depth: int) -> bool:
    """Each certificate below `depth` is issued by the one above it."""
    return isinstance(linked, list) and len(linked) >= depth and all(x is True for x in linked[:depth])


def _same(record: Tlsa, certificate: Mapping[str, Any]) -> bool:
    if record.mtype == 0:  # the full data: compared by its SHA-256 (what the probe keeps)
        key = "cert256" if record.selector == 0 else "spki256"
        return certificate.get(key) == hashlib.sha256(bytes.fromhex(record.data)).hexdigest()
    return certificate.get(_DIGESTS[(record.selector, record.mtype)]) == record.data


def ee_matched(expect_host: str, answers: Answers) -> set[str]:
    """The addresses of `expect_host` whose certificate a validated DANE-EE(3) record matches:
    for them, the certificate's names and dates no longer decide (RFC 7672 §3.1.1)."""
    lookup = answers.get(Query.of(tlsa_name(expect_host), TLSA))
    probe = answers.get(Query.of(expect_host, STARTTLS))
    if lookup is None or not lookup.authenticated or lookup.outcome.is_error or probe is None:
        return set()
    ee = [r for r in (parse_tlsa(v) for v in lookup.records[:MAX_RECORDS]) if r and r.usable and r.usage == 3]
    return {
        str(entry.get("address"))
        for entry in probed_addresses(facts_of(probe))
        if not entry.get("error") and any(matches(r, entry) for r in ee)
    }


def suggested(expect: DaneExpectation, answers: Answers) -> Remediation | None:
    """The `3 1 1` record of the key the first readable address presents, shown only when,
    published as given, it matches every address (checked here, as every fix is)."""
    probe = answers.get(Query.of(expect.name, STARTTLS))
    entries = (
        [e for e in probed_addresses(facts_of(probe)) if isinstance(e.get("chain"), list)] if probe else []
    )
    leaf = entries[0]["chain"][0] if entries and entries[0]["chain"] else None
    if not isinstance(leaf, dict) or not isinstance(leaf.get("spki256"), str):
        return None
    record = Tlsa(3, 1, 1, leaf["spki256"])
    if not all(matches(record, entry) for entry in entries):
        return None  # the addresses present different keys: one record would not do
    return Remediation(tlsa_name(expect.name), TLSA, record.text)


def _unusable(expect: DaneExpectation, records: tuple[Tlsa, ...], others: bool) -> list[Finding]:
    bad = [r for r in records if not r.usable]
    if not bad:
        return []
    shown = "; ".join(f"{r.usage} {r.selector} {r.mtype}" for r in bad[:5])
    message = (
        f"{tlsa_name(expect.name)} has TLSA records SMTP senders do not use ({shown}): only usages 2 "
        "(DANE-TA) and 3 (DANE-EE), selectors 0 and 1 and matching types 0 to 2 count; "
        + ("remove them" if others else "publish a 3 1 1 record of the server's key")
    )
    return [Finding(Code.DANE_UNUSABLE_RECORD, Severity.WARNING if others else Severity.ERROR, message)]


def _rollover(expect: DaneExpectation, record: Tlsa) -> Finding:
    message = (
        f"{tlsa_name(expect.name)} has one usable TLSA record ({record.text[:5]} ...): "
        "it stops matching at the next key or certificate change, and mail to DANE senders stops with it; "
        "publish the next key's record beside it first, then change the key"
    )
    return Finding(Code.DANE_ROLLOVER_UNREADY, Severity.WARNING, message)


def _not_asked(expect: DaneExpectation) -> Finding:
    message = f"the TLSA lookup of {tlsa_name(expect.name)} was not made; the record's presence is unknown"
    return Finding(CommonCode.LOOKUP_ERROR, Severity.ERROR, message)


def _result(
    expect: DaneExpectation,
    state: RecordState,
    records: tuple[Tlsa, ...],
    findings: list[Finding],
    views: tuple[AddressView, ...] = (),
) -> RecordResult:
    expected = f"DNSSEC-signed TLSA records at {tlsa_name(expect.name)} matching every address's certificate"
    numbers: dict[str, str | int] = {}
    if views:
        numbers["dane_matched"] = int(all(v.outcome is RecordState.PRESENT for v in views))
    return RecordResult(
        expect.record, tlsa_name(expect.name), TLSA, state, expect.required, expected,
        tuple(r.text for r in records), tuple(findings), numbers, addresses=views,
    )  # fmt: skip


def plan(domain: PlannedDomain, own: DaneConfig) -> list[Expectation]:
    hosts = [m.host for m in domain.receiving.mx or []]
    return [DaneExpectation(f"dane:{host}", host, own.required) for host in hosts]


def publish(expect: DaneExpectation) -> tuple[Remediation, ...]:
    """The record depends on the server's key: a create answer names where it goes."""
    return (
        Remediation(
            tlsa_name(expect.name), TLSA, "3 1 1 <SHA-256 of the server's public key>", from_provider=True
        ),
    )


KIND = RecordKind(
    name="dane",
    section=Section.RECEIVING,
    key="dane",
    model=DaneConfig | None,
    default=None,
    capability="receiving",
    rdtype=TLSA,
    plan=plan,
    queries=queries,
    evaluate=evaluate,
    codes=Code,
    metrics=(
        FactMetric(
            "domainwatch_dane_matched",
            "1 when the chain every address of the MX host presents matches a validated TLSA record",
            "dane_matched",
            label="mx",
        ),
    ),
    publish=publish,
    probes=True,
    bogus_code=Code.DANE_BOGUS,
    implied=DaneConfig(),
    needs="mx",
)
