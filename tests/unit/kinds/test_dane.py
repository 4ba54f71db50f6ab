"""DANE records (checks/kinds/dane.py) from TLSA answers and the chains the probe read: each
state, each finding, the matching rules of RFC 6698 §2.1 and RFC 7672, and the fix, published."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping
from typing import Any

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from domainwatch.checks.kinds.dane import DaneExpectation, evaluate, parse_tlsa, queries
from domainwatch.checks.kinds.starttls import StartTlsExpectation
from domainwatch.checks.kinds.starttls import evaluate as evaluate_starttls
from domainwatch.checks.relief import relieve
from domainwatch.dns.resolver import Lookup, Outcome, Query
from domainwatch.model import RecordResult, RecordState
from domainwatch.probes.answers import STARTTLS, completed
from domainwatch.probes.tls import chain_facts

HOST = "mx.example.com"
TLSA_NAME = f"_25._tcp.{HOST}"
EXPECT = DaneExpectation(f"dane:{HOST}", HOST, True)
CA = trustme.CA()
INTERMEDIATE = CA.create_child_ca()
LEAF = INTERMEDIATE.issue_cert(HOST)
CHAIN = [x509.load_pem_x509_certificate(blob.bytes()) for blob in LEAF.cert_chain_pems]
DERS = [c.public_bytes(Encoding.DER) for c in CHAIN]
OTHER = x509.load_pem_x509_certificate(trustme.CA().issue_cert(HOST).cert_chain_pems[0].bytes())


def spki(certificate: x509.Certificate) -> bytes:
    return certificate.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


def record(usage: int, selector: int, mtype: int, certificate: x509.Certificate = CHAIN[0]) -> str:
    data = certificate.public_bytes(Encoding.DER) if selector == 0 else spki(certificate)
    digest = {0: data, 1: hashlib.sha256(data).digest(), 2: hashlib.sha512(data).digest()}[mtype]
    return f"{usage} {selector} {mtype} {digest.hex()}"


def entry(address: str = "192.0.2.1", ders: list[bytes] = DERS) -> dict[str, Any]:
    return {"address": address, "starttls": True, "tls_version": "1.3", **chain_facts(ders)}


def answers(
    tlsa: list[str] | Outcome, *entries: Mapping[str, Any], secure: bool = True
) -> dict[Query, Lookup]:
    query = Query.of(TLSA_NAME, "TLSA")
    if isinstance(tlsa, Outcome):
        found = Lookup(query, tlsa, detail="test")
    else:
        found = Lookup(query, Outcome.ANSWER if tlsa else Outcome.NODATA, tuple(tlsa), authenticated=secure)
    probe = Query.of(HOST, STARTTLS)
    return {query: found, probe: completed(probe, {"addresses": [dict(e) for e in entries]})}


def judged(tlsa: list[str] | Outcome, *entries: Mapping[str, Any], secure: bool = True) -> RecordResult:
    return evaluate(EXPECT, answers(tlsa, *entries, secure=secure))


def codes(result: RecordResult) -> list[str]:
    return [f.code.value for f in result.findings]


@pytest.mark.parametrize("selector", [0, 1])
@pytest.mark.parametrize("mtype", [0, 1, 2])
def test_dane_ee_matches_the_server_certificate_by_every_selector_and_type(selector: int, mtype: int) -> None:
    both = [record(3, selector, mtype), record(3, 1, 1, OTHER)]  # two: rollover-ready
    result = judged(both, entry(), entry("2001:db8::1"))
    assert (RecordState.PRESENT, []) == (result.state, codes(result))
    assert ["present", "present"] == [a.outcome.value for a in result.addresses]


def test_dane_ta_matches_an_issuer_of_the_chain_but_not_the_leaf_s_own_key() -> None:
    assert (
        RecordState.PRESENT == judged([record(2, 1, 1, CHAIN[1]), record(2, 0, 1, CHAIN[1])], entry()).state
    )
    assert RecordState.WRONG == judged([record(2, 1, 1, CHAIN[0]), record(2, 0, 1, CHAIN[0])], entry()).state


def test_dane_ta_needs_the_chain_below_it_issued_by_it() -> None:
    """A chain whose leaf the matched certificate did not issue does not chain to the anchor."""
    foreign = [OTHER.public_bytes(Encoding.DER), DERS[1]]
    result = judged([record(2, 1, 1, CHAIN[1]), record(3, 1, 1, CHAIN[0])], entry(ders=foreign))
    assert (RecordState.WRONG, ["dane_no_match"]) == (result.state, codes(result))


def test_a_mismatch_names_the_address_and_its_fix_matches_when_published() -> None:
    stale = [record(3, 1, 1, OTHER)]
    result = judged(stale, entry("192.0.2.1"), entry("2001:db8::1"))
    assert RecordState.WRONG == result.state
    misses = [f for f in result.findings if f.code.value == "dane_no_match"]
    assert ["192.0.2.1", "2001:db8::1"] == [f.found for f in misses]
    assert all(f.found and f.found in f.message for f in misses)
    fix = misses[0].remediation
    assert fix is not None
    assert (TLSA_NAME, "TLSA", record(3, 1, 1)) == (fix.name, fix.type, fix.value)
    fixed = judged([*stale, fix.value], entry("192.0.2.1"), entry("2001:db8::1"))
    assert (RecordState.PRESENT, []) == (fixed.state, codes(fixed))


def test_one_bad_address_beside_a_good_one_is_wrong() -> None:
    result = judged(
        [record(3, 1, 1), record(3, 1, 2)], entry(), entry("2001:db8::1", [OTHER.public_bytes(Encoding.DER)])
    )
    assert RecordState.WRONG == result.state
    assert [("192.0.2.1", "present"), ("2001:db8::1", "wrong")] == [
        (a.address, a.outcome.value) for a in result.addresses
    ]
    assert not any(f.remediation for f in result.findings)  # one record could not match both keys


def test_a_validated_absence_is_missing_with_the_record_to_publish() -> None:
    result = judged([], entry())
    assert (RecordState.MISSING, ["dane_missing"]) == (result.state, codes(result))
    fix = result.findings[0].remediation
    assert fix is not None
    assert RecordState.PRESENT == judged([fix.value], entry()).state


def test_an_insecure_answer_is_missing_and_says_there_is_no_dane_without_dnssec() -> None:
    for published in ([record(3, 1, 1)], []):
        result = judged(published, entry(), secure=False)
        assert (RecordState.MISSING, ["dane_insecure"]) == (result.state, codes(result))
        assert "info" == result.findings[0].severity.value


def test_a_failed_lookup_is_an_error_and_asks_no_probe() -> None:
    result = judged(Outcome.SERVFAIL, entry())
    assert (RecordState.ERROR, ["lookup_error"]) == (result.state, codes(result))
    bogus = answers(Outcome.SERVFAIL)
    assert {Query.of(TLSA_NAME, "TLSA")} == queries(EXPECT, bogus)
    assert Query.of(HOST, STARTTLS) in queries(EXPECT, answers([record(3, 1, 1)]))
    assert Query.of(HOST, STARTTLS) not in queries(EXPECT, answers([record(3, 1, 1)], secure=False))


def test_pkix_usages_are_unusable_for_smtp() -> None:
    alone = judged([record(1, 1, 1), record(0, 1, 1, CHAIN[1])], entry())
    assert (RecordState.WRONG, ["dane_unusable_record"]) == (alone.state, codes(alone))
    assert "error" == alone.findings[0].severity.value
    beside = judged([record(1, 1, 1), record(3, 1, 1), record(3, 0, 1)], entry())
    assert (RecordState.PRESENT, ["dane_unusable_record"]) == (beside.state, codes(beside))
    assert "warning" == beside.findings[0].severity.value


def test_a_single_usable_record_is_not_ready_for_a_rollover() -> None:
    result = judged([record(3, 1, 1)], entry())
    assert (RecordState.PRESENT, ["dane_rollover_unready"]) == (result.state, codes(result))


@pytest.mark.parametrize(
    "text",
    ["3 1 1", "3 1 1 zz", "3 1 1 abc", "x 1 1 ab", "3 1 1 ab cd", "1000 1 1 ab", "3 1 1 " + "a" * 5000],
)
def test_what_is_not_a_tlsa_value_is_skipped(text: str) -> None:
    assert parse_tlsa(text) is None


def test_dane_ee_relieves_the_certificate_findings_of_its_addresses_unless_mta_sts_enforces() -> None:
    """RFC 7672 §3.1.1: names, dates and trust do not decide under DANE-EE."""
    untrusted = {
        **entry(),
        "trusted": False,
        "verify_error": "self-signed certificate",
        "names": ["other.example"],
    }
    tls = StartTlsExpectation(f"starttls:{HOST}", HOST, True)
    found = answers([record(3, 1, 1), record(3, 1, 2)], untrusted)
    expectations = [tls, EXPECT]
    results = [evaluate_starttls(tls, found), evaluate(EXPECT, found)]
    assert RecordState.WRONG == results[0].state
    relieved = relieve(expectations, results, found)[0]
    assert RecordState.PRESENT == relieved.state
    assert {"warning"} == {f.severity.value for f in relieved.findings}
    enforce = RecordResult("mta_sts", "_mta-sts.example.com", "TXT", RecordState.PRESENT, True, None, (), (),
                           {"mta_sts_mode": "enforce"})  # fmt: skip
    mta_sts = dataclasses.replace(EXPECT, record="mta_sts", name="_mta-sts.example.com")
    kept = relieve([*expectations, mta_sts], [*results, enforce], found)[0]
    assert RecordState.WRONG == kept.state
