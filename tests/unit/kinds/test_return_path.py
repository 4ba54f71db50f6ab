"""A return path that is a CNAME: planned in place of SPF and the return-path MX, present,
missing, pointing elsewhere, a lookup error; spf or mx beside it is a config error."""

from __future__ import annotations

import pytest

from domainwatch.checks.kinds.cname import CnameExpectation
from domainwatch.checks.kinds.return_path import Code
from domainwatch.config.document import DocumentError, parse_document
from domainwatch.config.plan import plan
from domainwatch.dns.resolver import Outcome
from domainwatch.model import RecordState
from tests.helpers import codes, run_check

EXPECT = CnameExpectation("return_path_cname", "pm-bounces.example.com", True, "pm.mtasv.net")
POSTMARK = {"label": "pm-bounces", "cname": "pm.mtasv.net"}


def test_a_cname_return_path_plans_its_cname_and_no_spf_or_mx() -> None:
    _, domain = parse_document(
        {"name": "example.com", "sending": {"return_path": POSTMARK, "dkim": [{"selector": "s1"}]}}
    )
    records = {e.record: e for e in plan(domain)}
    assert {"dkim:s1", "return_path_cname", "dmarc"} == set(records)
    assert EXPECT == records["return_path_cname"]


def test_a_label_return_path_plans_no_cname() -> None:
    _, domain = parse_document({"name": "example.com", "sending": {"spf": {"include": ["a.example.net"]}}})
    assert "return_path_cname" not in {e.record for e in plan(domain)}


def test_the_domain_itself_as_return_path() -> None:
    """`@`: SPF and the return-path MX at the domain itself (Mailgun, Google Workspace)."""
    sending = {"return_path": "@", "spf": {"include": ["mailgun.org"]}, "mx": {"host": "mxa.mailgun.org"}}
    _, domain = parse_document({"name": "mg.example.com", "sending": sending})
    names = {e.record: e.name for e in plan(domain)}
    assert ("mg.example.com", "mg.example.com") == (names["spf"], names["return_path_mx"])


@pytest.mark.parametrize("key", ["spf", "mx"])
def test_spf_or_mx_beside_a_cname_is_refused(key: str) -> None:
    value = {"include": ["a.example.net"]} if key == "spf" else {"host": "mx.example.net"}
    with pytest.raises(DocumentError) as caught:
        parse_document({"name": "example.com", "sending": {"return_path": POSTMARK, key: value}})
    assert "takes no spf or mx" in str(caught.value)


async def test_cname_to_target_is_present() -> None:
    result = await run_check(EXPECT, {("pm-bounces.example.com", "CNAME"): ["pm.mtasv.net."]})
    assert RecordState.PRESENT == result.state


async def test_missing_cname_is_missing_with_the_cname_to_publish() -> None:
    result = await run_check(EXPECT, {})
    assert (RecordState.MISSING, {Code.RETURN_PATH_CNAME_MISSING}) == (result.state, codes(result))
    assert "pm.mtasv.net" == result.findings[0].remediation.value  # type: ignore[union-attr]


async def test_cname_elsewhere_is_wrong() -> None:
    result = await run_check(EXPECT, {("pm-bounces.example.com", "CNAME"): ["other.example.net"]})
    assert (RecordState.WRONG, {Code.RETURN_PATH_CNAME_WRONG}) == (result.state, codes(result))


async def test_timeout_is_error() -> None:
    result = await run_check(EXPECT, {("pm-bounces.example.com", "CNAME"): Outcome.TIMEOUT})
    assert RecordState.ERROR == result.state
