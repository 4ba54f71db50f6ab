"""`dnssec_bogus` explained from plain answers (pure: `now` is given), and the signature facts."""

from __future__ import annotations

import pytest

from domainwatch.checks.kinds.dkim.kind import DkimExpectation
from domainwatch.checks.running import dnssec
from domainwatch.checks.running.dnssec import bogus_finding, signature_facts
from domainwatch.dns.dnssec import Signature, Unchecked, ZoneKeys
from domainwatch.dns.resolver import Lookup, Outcome, Query
from domainwatch.model import RecordResult, RecordState

NOW = 1_800_000_000
DAY = 86_400
QUERY = Query.of("s1._domainkey.example.com", "TXT")
TRUE_DS = "11111 13 2 " + "AA" * 32


def unchecked(*signatures: Signature) -> Unchecked:
    return Unchecked(Lookup(QUERY, Outcome.ANSWER, ("v=DKIM1; p=x",), zone="example.com"), signatures)


def sig(key_tag: int = 22222, inception: int = NOW - DAY, expiration: int = NOW + DAY) -> Signature:
    return Signature("TXT", "example.com", key_tag, inception, expiration)


def keys(parent_ds: tuple[str, ...] = (TRUE_DS,), matching: bool = True) -> ZoneKeys:
    return ZoneKeys("example.com", frozenset({11111, 22222}), (TRUE_DS,), parent_ds, matching)


def test_expired_signatures_say_when_and_offer_no_record() -> None:
    finding = bogus_finding(unchecked(sig(expiration=NOW - DAY)), keys(), NOW)
    assert "dnssec_bogus" == finding.code.value
    assert "by example.com expired at 2027-01-14" in finding.message
    assert finding.remediation is None


def test_signatures_from_the_future_blame_the_signers_clock() -> None:
    finding = bogus_finding(unchecked(sig(inception=NOW + DAY)), keys(), NOW)
    assert "not valid until" in finding.message
    assert "clock" in finding.message


def test_a_signature_by_an_unpublished_key_names_the_key_and_the_published_ones() -> None:
    finding = bogus_finding(unchecked(sig(key_tag=33333)), keys(), NOW)
    assert "key 33333" in finding.message
    assert "11111, 22222" in finding.message
    assert finding.remediation is None


def test_a_parent_ds_matching_no_key_gets_the_true_ds_as_its_fix() -> None:
    stranger = "4242 13 2 " + "AB" * 32
    finding = bogus_finding(unchecked(sig()), keys(parent_ds=(stranger,), matching=False), NOW)
    assert stranger in finding.message
    assert finding.remediation is not None
    assert ("example.com", "DS", TRUE_DS) == (
        finding.remediation.name,
        finding.remediation.type,
        finding.remediation.value,
    )


def test_an_unsigned_answer_under_a_ds_says_so() -> None:
    finding = bogus_finding(unchecked(), keys(), NOW)
    assert "unsigned" in finding.message
    assert finding.remediation is None


def test_without_a_known_cause_the_finding_points_to_the_chain() -> None:
    finding = bogus_finding(unchecked(sig()), None, NOW)
    assert "chain" in finding.message
    assert finding.remediation is None


def test_signature_facts_need_ad_on_every_conclusive_answer() -> None:
    signed = Lookup(QUERY, Outcome.ANSWER, ("x",), authenticated=True, signatures_expire=NOW + 5 * DAY)
    earlier = Lookup(QUERY, Outcome.NXDOMAIN, authenticated=True, signatures_expire=NOW + 2 * DAY)
    plain = Lookup(QUERY, Outcome.ANSWER, ("x",))
    failed = Lookup(QUERY, Outcome.TIMEOUT)
    assert {"dnssec_validated": 1, "signatures_expire": NOW + 2 * DAY} == signature_facts(
        [signed, earlier, failed]
    )
    assert {"dnssec_validated": 0, "signatures_expire": NOW + 5 * DAY} == signature_facts([signed, plain])
    assert {} == signature_facts([failed])


async def test_records_of_one_signer_zone_ask_its_keys_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two records failing validation under one zone: each asked again with CD, the zone's keys
    asked once, each record given its finding."""
    expectations = [
        DkimExpectation(f"dkim:s{i}", f"s{i}._domainkey.example.com", True, f"s{i}") for i in (1, 2)
    ]
    answers = {
        Query.of(e.name, "TXT"): Lookup(Query.of(e.name, "TXT"), Outcome.SERVFAIL) for e in expectations
    }
    results = [
        RecordResult(e.record, e.name, "TXT", RecordState.ERROR, True, None, (), ()) for e in expectations
    ]
    asked: list[str] = []

    async def ask(query: Query, *_: object) -> Unchecked:
        asked.append(query.name)
        return Unchecked(Lookup(query, Outcome.ANSWER, ("v=DKIM1; p=x",)), (sig(expiration=NOW - DAY),))

    async def keys_of(zone: str, *_: object) -> ZoneKeys:
        asked.append(zone)
        return keys()

    monkeypatch.setattr(dnssec, "ask_unchecked", ask)
    monkeypatch.setattr(dnssec, "zone_keys", keys_of)
    await dnssec.bogus_look(expectations, results, answers, nameservers=[], query_timeout=1, now=NOW)
    assert ["s1._domainkey.example.com", "example.com", "s2._domainkey.example.com"] == asked
    assert [["dnssec_bogus"], ["dnssec_bogus"]] == [[f.code.value for f in r.findings] for r in results]
