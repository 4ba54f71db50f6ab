"""DMARC: selection, syntax, policy strength, pct, reporting, external consent, org domain."""

from __future__ import annotations

from enum import StrEnum

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domainwatch.checks.dmarc import Code as DmarcCode
from domainwatch.checks.dmarc import DmarcExpectation, organizational_domain
from domainwatch.checks.tags import parse_tags
from domainwatch.dns.resolver import Outcome
from domainwatch.model import RecordState
from tests.helpers import codes, run_check

DOMAIN = "updates.example.com"
NAME = f"_dmarc.{DOMAIN}"
ADVISORY = DmarcExpectation("dmarc", NAME, False, DOMAIN)
STRICT = DmarcExpectation("dmarc", NAME, True, DOMAIN, min_policy="quarantine")
GOOD = "v=DMARC1; p=reject; rua=mailto:dmarc@example.com"


async def test_good_record_is_present_and_policy_recorded() -> None:
    """A reject policy with internal reporting has no findings."""
    result = await run_check(STRICT, {(NAME, "TXT"): [GOOD]})
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
        ("v=DMARC1; p=reject; pct=150; rua=mailto:d@example.com", DmarcCode.DMARC_SYNTAX),
        ("v=DMARC1; p=reject; p=none; rua=mailto:d@example.com", DmarcCode.DMARC_SYNTAX),
        ("v=DMARC1; p=reject", DmarcCode.DMARC_NO_RUA),
        ("v=DMARC1; p=reject; pct=25; rua=mailto:d@example.com", DmarcCode.DMARC_PCT_PARTIAL),
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
    """A destination in the same organizational domain is not external."""
    record = "v=DMARC1; p=reject; rua=mailto:r@reports.example.com"
    assert set() == codes(await run_check(STRICT, {(NAME, "TXT"): [record]}))


@pytest.mark.parametrize(
    ("domain", "org"),
    [
        ("updates.example.com", "example.com"),
        ("a.b.example.co.uk", "example.co.uk"),
        ("example.com", "example.com"),
    ],
)
def test_organizational_domain_uses_public_suffix_list(domain: str, org: str) -> None:
    """The organizational domain is one label below the public suffix."""
    assert org == organizational_domain(domain)


@given(st.text())
def test_tag_parser_never_raises(text: str) -> None:
    """Arbitrary text parses to tags and errors; nothing raises."""
    parse_tags(text)


@given(st.text())
async def test_dmarc_check_never_raises(text: str) -> None:
    """Any published text yields a result."""
    await run_check(STRICT, {(NAME, "TXT"): ["v=DMARC1; " + text]})
