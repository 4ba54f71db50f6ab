"""How a change of a published record is judged: each kind's reasons, the direction, and the
property that undoing a change swaps its pairs (checks/drift.py)."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domainwatch.checks.base import Published, Reason
from domainwatch.checks.drift import (
    CODES,
    REVERSED,
    STRENGTHENING,
    WEAKENING,
    body,
    digest,
    direction,
    from_body,
    published,
    reasons,
)
from domainwatch.checks.kinds.dkim.key import key_facts
from domainwatch.model import RecordResult, RecordState, ServerView
from tests.keys import rsa_key

RUA = "rua=mailto:d@example.com"


def snap(values: list[str], facts: Mapping[str, str | int] | None = None, type_: str = "TXT") -> Published:
    return Published(type_, tuple(sorted(values)), dict(facts or {}))


def codes(record: str, before: Published, after: Published) -> list[str]:
    return [r.code + (f":{r.tag}" if r.tag else "") for r in reasons(record, before, after)]


Change = tuple[str, list[str], list[str], list[str], str]
# (record, before, after, reasons, direction): each published one after another in the daemon test.
CHANGES: list[Change] = [
    (
        "dmarc",
        [f"v=DMARC1; p=reject; {RUA}"],
        [f"v=DMARC1; p=none; {RUA}"],
        ["dmarc_policy_lowered:p"],
        "weakening",
    ),
    ("dmarc", [f"v=DMARC1; p=none; {RUA}"], ["v=DMARC1; p=none"], ["dmarc_reporting_removed"], "weakening"),
    (
        "dmarc",
        ["v=DMARC1; p=none"],
        [f"v=DMARC1; p=reject; {RUA}"],
        ["dmarc_policy_raised:p", "dmarc_reporting_added"],
        "strengthening",
    ),
    (
        "dmarc",
        ["v=DMARC1; p=reject; sp=reject"],
        ["v=DMARC1; p=reject; sp=none"],
        ["dmarc_policy_lowered:sp"],
        "weakening",
    ),
    ("dmarc", ["v=DMARC1; p=reject"], ["v=DMARC1; p=reject; t=y"], ["dmarc_testing_added"], "weakening"),
    ("dmarc", ["v=DMARC1; p=reject"], [], ["dmarc_policy_lowered:p"], "weakening"),
    (
        "spf",
        ["v=spf1 include:p.example.net -all"],
        ["v=spf1 include:p.example.net ~all"],
        ["spf_all_widened"],
        "weakening",
    ),
    (
        "spf",
        ["v=spf1 include:p.example.net ~all"],
        ["v=spf1 include:p.example.net include:q.example.net ~all"],
        ["spf_authorizes_more"],
        "weakening",
    ),
    (
        "spf",
        ["v=spf1 ip4:192.0.2.0/24 -all"],
        ["v=spf1 ip4:192.0.2.7 -all"],
        ["spf_authorizes_less"],
        "strengthening",
    ),
    ("spf", ["v=spf1 ip4:192.0.2.7 -all"], ["v=spf1 ip4:192.0.2.7/32 -all"], ["value_changed"], "neutral"),
    (
        "spf",
        ["v=spf1 include:q.example.net ~all"],
        ["v=spf1 ip4:192.0.2.0/24 -all"],
        ["spf_all_narrowed", "spf_authorizes_more", "spf_authorizes_less"],
        "mixed",
    ),
    (
        "spf",
        ["v=spf1 INCLUDE:P.example.net. -all"],
        ["v=spf1 include:p.example.net -all"],
        ["value_changed"],
        "neutral",
    ),
    (
        "dkim:s1",
        [f"v=DKIM1; p={rsa_key(2048)}"],
        [f"v=DKIM1; p={rsa_key(1024)}"],
        ["dkim_key_replaced", "dkim_key_shorter"],
        "weakening",
    ),
    (
        "dkim:s1",
        [f"v=DKIM1; p={rsa_key(2048)}"],
        [f"v=DKIM1; t=y; p={rsa_key(2048)}"],
        ["dkim_testing_added"],
        "weakening",
    ),
    (
        "receiving_mx",
        ["10 mx1.example.net"],
        ["10 mx1.example.net", "20 mx2.example.net"],
        ["mx_host_added"],
        "neutral",
    ),
    ("receiving_mx", ["10 mx1.example.net"], ["20 mx1.example.net"], ["value_changed"], "neutral"),
    ("tracking", ["a.example.net."], ["b.example.net."], ["cname_target_changed"], "neutral"),
    ("tls_rpt", [f"v=TLSRPTv1; {RUA}"], [], ["tls_rpt_removed"], "weakening"),
]


@pytest.mark.parametrize(("record", "before", "after", "expected", "way"), CHANGES)
def test_each_change_has_its_reasons_and_direction(
    record: str, before: list[str], after: list[str], expected: list[str], way: str
) -> None:
    def facts(values: list[str]) -> dict[str, str | int]:
        return key_facts(values[0]) if record.startswith("dkim") and values else {}

    old, new = snap(before, facts(before)), snap(after, facts(after))
    assert codes(record, old, new) == expected
    assert direction(reasons(record, old, new)) == way


def test_facts_make_reasons_of_their_own() -> None:
    """The lookup count crossing 10, DNSSEC, MTA-STS's policy, a key behind the provider's CNAME."""
    spf = ["v=spf1 include:p.example.net -all"]
    assert codes("spf", snap(spf, {"spf_dns_lookups": 9}), snap(spf, {"spf_dns_lookups": 11})) == [
        "spf_over_lookup_limit"
    ]
    signed, unsigned = snap(spf, {"dnssec_validated": 1}), snap(spf, {"dnssec_validated": 0})
    assert codes("spf", signed, unsigned) == ["dnssec_lost"]
    record = ["v=STSv1; id=1"]
    enforce: dict[str, str | int] = {
        "mta_sts_mode": "enforce",
        "mta_sts_max_age": 604800,
        "mta_sts_uncovered": 0,
    }
    testing: dict[str, str | int] = {
        "mta_sts_mode": "testing",
        "mta_sts_max_age": 86400,
        "mta_sts_uncovered": 1,
    }
    assert codes("mta_sts", snap(record, enforce), snap(record, testing)) == [
        "mta_sts_mode_lowered",
        "mta_sts_max_age_lowered",
        "mta_sts_mx_uncovered",
    ]
    key_a, key_b = f"v=DKIM1; p={rsa_key(2048)}", f"v=DKIM1; p={rsa_key(1024)}"
    behind = codes(
        "dkim:s1", snap([key_a], key_facts(key_a), "CNAME"), snap([key_b], key_facts(key_b), "CNAME")
    )
    assert behind == ["dkim_key_replaced"]  # the provider's rotation: neutral, never a failure


def test_hostile_values_never_raise() -> None:
    junk = [
        "v=DMARC1; p=\x00; rua=mailto:",
        "v=spf1 ip4:999.1.1.1/99 include: -all",
        "v=DKIM1; p=!!!; k=",
        "\u202e",
    ]
    for record in ("dmarc", "spf", "dkim:x", "mta_sts", "tls_rpt", "receiving_mx", "tracking"):
        for value in junk:
            found = reasons(
                record, snap([value], {"mta_sts_mode": "bogus"}), snap([], {"spf_dns_lookups": "x"})
            )
            assert found


def test_only_conclusive_results_are_snapshots() -> None:
    def result(state: RecordState, servers: tuple[ServerView, ...] = ()) -> RecordResult:
        return RecordResult("spf", "example.com", "TXT", state, True, None, ("v=spf1 -all",), (), {}, servers)

    assert published(result(RecordState.ERROR)) is None
    split = (
        ServerView("ns1", RecordState.PRESENT, ("v=spf1 -all",)),
        ServerView("ns2", RecordState.ERROR, ()),
    )
    assert published(result(RecordState.PRESENT, split)) is None  # one nameserver did not answer
    seen = published(result(RecordState.WRONG))
    assert seen is not None
    assert seen.values == ("v=spf1 -all",)
    assert from_body(body(seen)) == seen
    assert digest(body(seen)) == digest(body(published(result(RecordState.PRESENT))))  # type: ignore[arg-type]


reason_codes = st.lists(st.sampled_from(CODES), max_size=6).map(lambda cs: [Reason(c) for c in cs])


@given(reason_codes)
def test_undoing_a_change_swaps_its_direction(found: list[Reason]) -> None:
    """Weakening and strengthening swap; mixed and neutral stay."""
    undone = [Reason(REVERSED[r.code], r.tag) for r in found]
    swapped = {"weakening": "strengthening", "strengthening": "weakening"}
    way = direction(found)
    assert direction(undone) == swapped.get(way, way)


@given(st.sampled_from([c for c in CHANGES if c[0] != "dkim:s1"]))
def test_a_change_and_its_reverse_give_paired_reasons(
    change: tuple[str, list[str], list[str], list[str], str],
) -> None:
    record, before, after, _, _ = change
    forth = reasons(record, snap(before), snap(after))
    back = reasons(record, snap(after), snap(before))
    assert sorted(REVERSED[r.code] for r in forth) == sorted(r.code for r in back)


def test_the_pairs_are_a_closed_vocabulary() -> None:
    assert len(WEAKENING) == len(STRENGTHENING) == 13
    assert all(REVERSED[REVERSED[code]] == code for code in CODES)
