"""DMARC (RFC 9989): selection, syntax, policy strength, test mode, reporting, external consent,
and policy discovery by the DNS tree walk."""

from __future__ import annotations

from enum import StrEnum

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domainwatch.checks.kinds.dkim.tags import parse_tags
from domainwatch.checks.kinds.dmarc.kind import Code as DmarcCode
from domainwatch.checks.kinds.dmarc.kind import DmarcExpectation, walk_targets
from domainwatch.checks.kinds.dmarc.record import fixed, is_dmarc, read
from domainwatch.dns.resolver import Outcome
from domainwatch.model import RecordState
from tests.helpers import codes, run_check

DOMAIN = "updates.example.com"
NAME = f"_dmarc.{DOMAIN}"
ADVISORY = DmarcExpectation("dmarc", NAME, False, DOMAIN)
STRICT = DmarcExpectation("dmarc", NAME, True, DOMAIN, min_policy="quarantine")
GOOD = "v=DMARC1; p=reject; rua=mailto:dmarc@example.com"


async def test_good_record_is_present_and_policy_recorded() -> None:
    """A reject policy with reports inside the organization (example.com publishes a record, so
    it is the Organizational Domain) has no findings."""
    result = await run_check(
        STRICT, {(NAME, "TXT"): [GOOD], ("_dmarc.example.com", "TXT"): ["v=DMARC1; p=reject"]}
    )
    assert (RecordState.PRESENT, set()) == (result.state, codes(result))
    assert "reject" == result.facts["dmarc_policy"]


async def test_no_record_anywhere_is_missing() -> None:
    """No record at the domain nor at the organizational domain."""
    result = await run_check(STRICT, {})
    assert (RecordState.MISSING, "absent") == (result.state, result.facts["dmarc_policy"])
    remediation = result.findings[0].remediation
    assert remediation is not None
    assert (NAME, "v=DMARC1; p=quarantine") == (remediation.name, remediation.value)


async def test_record_only_at_org_domain_says_so() -> None:
    """A subdomain inherits the organizational domain's record; sp= applies to it."""
    data = {("_dmarc.example.com", "TXT"): ["v=DMARC1; p=reject; sp=quarantine; rua=mailto:d@example.com"]}
    result = await run_check(STRICT, data)
    assert RecordState.PRESENT == result.state
    assert {DmarcCode.DMARC_ORG_DOMAIN_ONLY} == codes(result)
    assert "quarantine" == result.facts["dmarc_policy"]


async def test_lookup_error_at_domain_is_error() -> None:
    """SERVFAIL on _dmarc.<domain> is an error; we do not fall back to the org domain."""
    result = await run_check(STRICT, {(NAME, "TXT"): Outcome.SERVFAIL})
    assert RecordState.ERROR == result.state


async def test_several_records_is_wrong() -> None:
    """Two DMARC records mean receivers apply none (RFC 7489 §6.6.3)."""
    result = await run_check(STRICT, {(NAME, "TXT"): [GOOD, "v=DMARC1; p=none"]})
    assert (RecordState.WRONG, {DmarcCode.DMARC_MULTIPLE}) == (result.state, codes(result))


async def test_non_dmarc_txt_records_are_ignored() -> None:
    """Only records starting with v=DMARC1 are candidates."""
    result = await run_check(STRICT, {(NAME, "TXT"): ["some verification token", GOOD]})
    assert RecordState.PRESENT == result.state


@pytest.mark.parametrize(
    ("record", "code"),
    [
        ("v=DMARC1; rua=mailto:d@example.com", DmarcCode.DMARC_POLICY_MISSING),
        ("v=DMARC1; p=block; rua=mailto:d@example.com", DmarcCode.DMARC_SYNTAX),
        ("v=DMARC1; p=reject; adkim=x; rua=mailto:d@example.com", DmarcCode.DMARC_SYNTAX),
        ("v=DMARC1; p=reject; pct=150; rua=mailto:d@example.com", DmarcCode.DMARC_TAG_REMOVED),
        ("v=DMARC1; p=reject; p=none; rua=mailto:d@example.com", DmarcCode.DMARC_SYNTAX),
        ("v=DMARC1; p=reject", DmarcCode.DMARC_NO_RUA),
        ("v=DMARC1; p=reject; pct=25; rua=mailto:d@example.com", DmarcCode.DMARC_TAG_REMOVED),
        ("v=DMARC1; p=none; rua=mailto:d@example.com", DmarcCode.DMARC_POLICY_WEAK),
    ],
)
async def test_record_diagnoses(record: str, code: StrEnum) -> None:
    """Each problem of a published record yields its finding."""
    assert code in codes(await run_check(STRICT, {(NAME, "TXT"): [record]}))


async def test_weak_policy_fix_changes_only_the_policy() -> None:
    """The fix keeps the rest of the record."""
    result = await run_check(STRICT, {(NAME, "TXT"): ["v=DMARC1; p=none; rua=mailto:d@example.com"]})
    finding = next(f for f in result.findings if f.code is DmarcCode.DMARC_POLICY_WEAK)
    assert finding.remediation is not None
    assert "v=DMARC1; p=quarantine; rua=mailto:d@example.com" == finding.remediation.value


async def test_weak_policy_is_fine_when_min_policy_is_none() -> None:
    """p=none satisfies the default min_policy."""
    result = await run_check(ADVISORY, {(NAME, "TXT"): ["v=DMARC1; p=none; rua=mailto:d@example.com"]})
    assert RecordState.PRESENT == result.state


async def test_external_rua_without_consent_is_flagged() -> None:
    """Reports to another organization need <domain>._report._dmarc.<host> (RFC 7489 §7.1)."""
    record = "v=DMARC1; p=reject; rua=mailto:r@reports.example.net"
    result = await run_check(STRICT, {(NAME, "TXT"): [record]})
    finding = next(f for f in result.findings if f.code is DmarcCode.DMARC_EXTERNAL_UNAUTHORIZED)
    assert finding.remediation is not None
    assert f"{DOMAIN}._report._dmarc.reports.example.net" == finding.remediation.name


async def test_external_rua_with_consent_is_fine() -> None:
    """A consent record at the destination authorizes the reports."""
    data = {
        (NAME, "TXT"): ["v=DMARC1; p=reject; rua=mailto:r@reports.example.net"],
        (f"{DOMAIN}._report._dmarc.reports.example.net", "TXT"): ["v=DMARC1"],
    }
    assert set() == codes(await run_check(STRICT, data))


async def test_rua_in_same_organization_needs_no_consent() -> None:
    """A destination within the Organizational Domain (found by the tree walk: example.com, which
    publishes a record) is not external."""
    data = {
        (NAME, "TXT"): ["v=DMARC1; p=reject; rua=mailto:r@reports.example.com"],
        ("_dmarc.example.com", "TXT"): ["v=DMARC1; p=reject"],
    }
    assert set() == codes(await run_check(STRICT, data))


async def test_without_a_parent_record_the_domain_is_its_own_organization() -> None:
    """RFC 9989 §4.10.2: with no record above it, the domain is its Organizational Domain, so a
    sibling mailbox is an outside destination (a public suffix list would have said otherwise)."""
    record = "v=DMARC1; p=reject; rua=mailto:r@reports.example.com"
    result = await run_check(STRICT, {(NAME, "TXT"): [record]})
    assert {DmarcCode.DMARC_EXTERNAL_UNAUTHORIZED} == codes(result)


@pytest.mark.parametrize(
    ("domain", "walk"),
    [
        ("updates.example.com", ["example.com", "com"]),
        ("example.com", ["com"]),
        (
            "a.b.c.d.e.f.g.h.i.j.mail.example.com",
            ["g.h.i.j.mail.example.com", "h.i.j.mail.example.com", "i.j.mail.example.com",
             "j.mail.example.com", "mail.example.com", "example.com", "com"],
        ),
        ("h.b.c.d.e.f.example.com", ["b.c.d.e.f.example.com", "c.d.e.f.example.com", "d.e.f.example.com",
                                     "e.f.example.com", "f.example.com", "example.com", "com"]),
    ],
)  # fmt: skip
def test_the_tree_walk_asks_at_most_eight_names(domain: str, walk: list[str]) -> None:
    """RFC 9989 §4.10: after the domain itself, its parents; a name of eight or more labels is
    first cut to seven (the RFC's own example of thirteen labels)."""
    assert walk == walk_targets(domain)
    assert len(walk) + 1 <= 8


DEEP = "a.mail.example.com"
DEEP_NAME = f"_dmarc.{DEEP}"
DEEP_EXPECT = DmarcExpectation("dmarc", DEEP_NAME, True, DEEP, "reject")


@pytest.mark.parametrize(
    ("published", "where", "policy"),
    [
        # Records at mail.example.com and example.com: example.com is the Organizational Domain.
        ({"mail.example.com": "v=DMARC1; p=none", "example.com": "v=DMARC1; p=reject"},
         "example.com", "reject"),
        # psd=n at mail.example.com: it is the Organizational Domain (and the walk stops there).
        ({"mail.example.com": "v=DMARC1; p=quarantine; psd=n", "example.com": "v=DMARC1; p=reject"},
         "mail.example.com", "quarantine"),
        # Only _dmarc.com, with psd=y: the Organizational Domain is example.com, which has no record,
        # so the Public Suffix Domain's policy applies.
        ({"com": "v=DMARC1; p=reject; psd=y"}, "com", "reject"),
        # sp= of the applicable record is what a subdomain gets.
        ({"example.com": "v=DMARC1; p=reject; sp=none"}, "example.com", "none"),
    ],
)  # fmt: skip
async def test_policy_discovery_follows_the_rfc_examples(
    published: dict[str, str], where: str, policy: str
) -> None:
    data = {(f"_dmarc.{name}", "TXT"): [text] for name, text in published.items()}
    result = await run_check(DEEP_EXPECT, data)
    assert policy == result.facts["dmarc_policy"]
    assert f"_dmarc.{where}" in next(
        f.message for f in result.findings if f.code is DmarcCode.DMARC_ORG_DOMAIN_ONLY
    )


async def test_a_failed_lookup_in_the_walk_is_an_error_not_a_missing_record() -> None:
    result = await run_check(DEEP_EXPECT, {("_dmarc.example.com", "TXT"): Outcome.SERVFAIL})
    assert RecordState.ERROR == result.state


# The defects a comparison with other tools' suites found (issue #20), and what is right.
@pytest.mark.parametrize(
    ("record", "state", "policy", "present", "absent"),
    [
        ("v=DMARC1;p=ReJect", RecordState.PRESENT, "reject", set(), {DmarcCode.DMARC_SYNTAX}),
        ("V=DMARC1;p=reject;", RecordState.PRESENT, "reject", set(), {DmarcCode.DMARC_MISSING}),
        ("v=DMARC1; p=reject; rua=reports@dmarc.example,mailto:d@example.com", RecordState.PRESENT, "reject",
         {DmarcCode.DMARC_REPORT_URI_INVALID}, {DmarcCode.DMARC_NO_RUA}),
        ("v=DMARC1; p=reject; rua=__mailto:d@example.com", RecordState.PRESENT, "reject",
         {DmarcCode.DMARC_REPORT_URI_INVALID, DmarcCode.DMARC_NO_RUA}, set()),
        ("v=DMARC1; p=reject; rua=reports.example.com", RecordState.PRESENT, "reject",
         {DmarcCode.DMARC_REPORT_URI_INVALID, DmarcCode.DMARC_NO_RUA}, set()),
        ("v=DMARC1; p=reject; fo=x; rua=mailto:d@example.com", RecordState.PRESENT, "reject",
         {DmarcCode.DMARC_SYNTAX}, set()),
        ("v=DMARC1; p=reject; fo=invalid_value; rua=mailto:d@example.com", RecordState.PRESENT, "reject",
         {DmarcCode.DMARC_SYNTAX}, set()),
        ("v=DMARC1; p=reject; fo=1:d:s; rua=mailto:d@example.com", RecordState.PRESENT, "reject", set(),
         {DmarcCode.DMARC_SYNTAX}),
        ("v=DMARC1; p=reject; foo=bar; test; x=y; rua=mailto:d@example.com", RecordState.PRESENT, "reject",
         {DmarcCode.DMARC_UNKNOWN_TAG}, {DmarcCode.DMARC_SYNTAX}),
        ("v=DMARC1; p=reject; t=y; rua=mailto:d@example.com", RecordState.WRONG, "quarantine",
         {DmarcCode.DMARC_TEST_MODE, DmarcCode.DMARC_POLICY_WEAK}, set()),
        ("v=DMARC1; p=reject; rua=mailto:d@example.com!10m", RecordState.PRESENT, "reject",
         {DmarcCode.DMARC_REPORT_URI_SIZE}, set()),
        ("v=DMARC1; p=reject; sp=nothing; rua=mailto:d@example.com", RecordState.WRONG, "none",
         {DmarcCode.DMARC_SYNTAX}, set()),
        ("v=DMARC1; rua=mailto:d@example.com; p=reject", RecordState.PRESENT, "reject", set(), set()),
    ],
)  # fmt: skip
async def test_rfc_9989_readings(
    record: str, state: RecordState, policy: str, present: set[StrEnum], absent: set[StrEnum]
) -> None:
    expect = DmarcExpectation("dmarc", NAME, True, DOMAIN, min_policy="reject")
    data = {(NAME, "TXT"): [record], ("_dmarc.example.com", "TXT"): ["v=DMARC1; p=reject"]}
    result = await run_check(expect, data)
    assert (state, policy) == (result.state, result.facts["dmarc_policy"])
    assert present <= codes(result)
    assert not absent & codes(result)


async def test_a_fix_resolves_every_problem_at_once() -> None:
    """p=NONE (any case), a duplicate p, an invalid aspf and a removed pct: one record fixes all."""
    record = "v=DMARC1; p=NONE; p=quarantine; aspf=relaxed; pct=50; rua=mailto:d@example.com!10m"
    result = await run_check(
        STRICT, {(NAME, "TXT"): [record], ("_dmarc.example.com", "TXT"): ["v=DMARC1; p=none"]}
    )
    fixes = {f.remediation.value for f in result.findings if f.remediation is not None}
    assert {"v=DMARC1; p=quarantine; rua=mailto:d@example.com"} == fixes


def valid_under_rfc_9989(text: str) -> bool:
    record = read(text)
    return (
        is_dmarc(text)
        and text.startswith("v=DMARC1; p=")
        and not (record.invalid or record.duplicates or record.unknown or record.removed)
        and all(u.usable and not u.size_suffix for u in (*record.rua, *record.ruf))
    )


tag_words = st.sampled_from(
    ["p=none", "p=NONE", "p=reject", "p=junk", "sp=nothing", "sp=none", "np=reject", "psd=y", "psd=x", "t=y",
     "t=maybe", "adkim=x", "aspf=s", "fo=1", "fo=z", "pct=50", "rf=afrf", "ri=3600", "foo=bar", "stray",
     "rua=mailto:a@b.example", "rua=b.example", "ruf=mailto:c@d.example!5m", "p=quarantine", ""]
)  # fmt: skip


@given(st.lists(tag_words, max_size=8), st.sampled_from(["none", "quarantine", "reject"]))
def test_every_suggested_fix_is_a_valid_rfc_9989_record(tags: list[str], min_policy: str) -> None:
    text = "; ".join(["v=DMARC1", *tags])
    suggestion = fixed(read(text), min_policy)
    assert valid_under_rfc_9989(suggestion), suggestion
    assert read(suggestion).tags["p"] in ("none", "quarantine", "reject")


@given(st.text())
def test_tag_parser_never_raises(text: str) -> None:
    """Arbitrary text parses to tags and errors; nothing raises."""
    parse_tags(text)


@given(st.text())
async def test_dmarc_check_never_raises(text: str) -> None:
    """Any published text yields a result."""
    await run_check(STRICT, {(NAME, "TXT"): ["v=DMARC1; " + text]})
