"""MX records: expected hosts and priorities, null MX, and what the targets resolve to."""

from __future__ import annotations

import pytest

from domainwatch.checks.kinds.mx import Code as MxCode
from domainwatch.checks.kinds.mx import MxExpectation
from domainwatch.dns.resolver import Outcome
from domainwatch.model import CommonCode, RecordState, Severity
from tests.helpers import Zone, codes, run_check

NAME = "send.example.com"
HOST = "feedback-smtp.us-east-1.amazonses.com"
EXPECT = MxExpectation("return_path_mx", NAME, True, ((HOST, 10),))
TARGET: Zone = {(HOST, "A"): ["192.0.2.25"]}


def with_mx(*records: str, **extra: list[str]) -> Zone:
    data: dict[tuple[str, str], object] = {**TARGET, (NAME, "MX"): list(records)}
    data.update({(k, "A"): v for k, v in extra.items()})
    return data  # type: ignore[return-value]


async def test_expected_host_and_priority_is_present() -> None:
    """The expected host at the expected priority, with an address, is present."""
    result = await run_check(EXPECT, with_mx(f"10 {HOST}"))
    assert (RecordState.PRESENT, set()) == (result.state, codes(result))


async def test_missing_mx_is_missing_with_fix() -> None:
    """No MX: missing, and the remediation is the exact MX with its priority."""
    result = await run_check(EXPECT, {})
    assert RecordState.MISSING == result.state
    remediation = result.findings[0].remediation
    assert remediation is not None
    assert (NAME, "MX", HOST, 10) == (
        remediation.name,
        remediation.type,
        remediation.value,
        remediation.priority,
    )


@pytest.mark.parametrize("outcome", [Outcome.TIMEOUT, Outcome.SERVFAIL, Outcome.NETWORK])
async def test_lookup_error_is_error(outcome: Outcome) -> None:
    """A failed MX lookup is an error, never missing."""
    assert RecordState.ERROR == (await run_check(EXPECT, {(NAME, "MX"): outcome})).state


async def test_other_host_only_is_wrong() -> None:
    """MX records that do not include the expected host are wrong."""
    result = await run_check(EXPECT, with_mx("10 mx.other.example", **{"mx.other.example": ["192.0.2.9"]}))
    assert (RecordState.WRONG, {MxCode.MX_HOST_ABSENT}) == (result.state, codes(result))


async def test_wrong_priority_is_wrong() -> None:
    """The expected host at another priority is wrong, and the fix names the priority."""
    result = await run_check(EXPECT, with_mx(f"20 {HOST}"))
    assert (RecordState.WRONG, {MxCode.MX_PRIORITY_WRONG}) == (result.state, codes(result))


async def test_host_comparison_ignores_case_and_trailing_dot() -> None:
    """DNS names compare case-insensitively."""
    expect = MxExpectation("return_path_mx", NAME, True, ((HOST.upper() + ".", 10),))
    assert RecordState.PRESENT == (await run_check(expect, with_mx(f"10 {HOST}"))).state


async def test_null_mx_where_mail_is_expected_is_wrong() -> None:
    """RFC 7505 null MX declares the domain takes no mail."""
    result = await run_check(EXPECT, {(NAME, "MX"): ["0 ."]})
    assert (RecordState.WRONG, {MxCode.MX_NULL}) == (result.state, codes(result))


async def test_target_that_is_a_cname_is_a_warning() -> None:
    """An MX target must not be an alias (RFC 2181 §10.3)."""
    data = {
        (NAME, "MX"): [f"10 {HOST}"],
        (HOST, "CNAME"): ["real.example.net"],
        ("real.example.net", "A"): ["192.0.2.1"],
    }
    result = await run_check(EXPECT, data)
    assert MxCode.MX_TARGET_CNAME in codes(result)
    assert RecordState.PRESENT == result.state


async def test_target_without_address_is_wrong() -> None:
    """The expected MX host must resolve to an address."""
    result = await run_check(EXPECT, {(NAME, "MX"): [f"10 {HOST}"]})
    assert (RecordState.WRONG, {MxCode.MX_TARGET_NO_ADDRESS}) == (result.state, codes(result))


async def test_extra_target_without_address_is_only_a_warning() -> None:
    """An extra MX host we did not ask for is flagged but does not fail the record."""
    result = await run_check(EXPECT, with_mx(f"10 {HOST}", "20 dead.example.org"))
    finding = next(f for f in result.findings if f.code is MxCode.MX_TARGET_NO_ADDRESS)
    assert (Severity.WARNING, RecordState.PRESENT) == (finding.severity, result.state)


async def test_ip_literal_target_is_reported() -> None:
    """MX targets must be host names, not addresses."""
    result = await run_check(EXPECT, with_mx(f"10 {HOST}", "20 192.0.2.1"))
    assert MxCode.MX_TARGET_IP_LITERAL in codes(result)


async def test_address_lookup_error_does_not_change_state() -> None:
    """A SERVFAIL on the target's address leaves the MX record itself conclusive: a warning."""
    data = {(NAME, "MX"): [f"10 {HOST}"], (HOST, "A"): Outcome.SERVFAIL, (HOST, "AAAA"): Outcome.SERVFAIL}
    result = await run_check(EXPECT, data)
    assert RecordState.PRESENT == result.state
    assert {CommonCode.LOOKUP_ERROR} == codes(result)


async def test_several_expected_hosts_each_checked() -> None:
    """Receiving MX with two hosts: each must be there."""
    expect = MxExpectation("receiving_mx", "example.com", True, (("a.mx.example", 10), ("b.mx.example", 20)))
    data = {("example.com", "MX"): ["10 a.mx.example"], ("a.mx.example", "A"): ["192.0.2.1"]}
    result = await run_check(expect, data)
    missing = [f for f in result.findings if f.code is MxCode.MX_HOST_ABSENT]
    assert ["20 b.mx.example"] == [f.expected for f in missing]


US, EU = "inbound-smtp.us-east-1.amazonaws.com", "inbound-smtp.eu-west-1.amazonaws.com"
TWO = MxExpectation("receiving_mx", "example.com", True, ((US, 10), (EU, 20)))
TWO_TARGETS: Zone = {(US, "A"): ["192.0.2.25"], (EU, "A"): ["192.0.2.26"]}


@pytest.mark.parametrize(
    ("published", "add", "remove"),
    [
        ([f"10 {US}"], [f"20 {EU}"], []),  # one present: only the other to add
        ([], [f"10 {US}", f"20 {EU}"], []),  # both missing: each with its priority
        (["0 ."], [f"10 {US}", f"20 {EU}"], ["0 ."]),  # a null MX must go (RFC 7505)
        ([f"10 {US}", f"20 {EU}", "0 ."], [], ["0 ."]),  # nothing to add, the null MX to delete
        ([f"10 {US}", f"30 {EU}"], [f"20 {EU}"], [f"30 {EU}"]),  # the mis-prioritised host named
        ([f"20 {US}", f"20 {EU}"], [f"10 {US}"], [f"20 {US}"]),
    ],
)
async def test_the_fix_adds_each_absent_host_and_removes_what_is_in_the_way(
    published: list[str], add: list[str], remove: list[str]
) -> None:
    """Every error carries one fix naming each host not published at its priority (never one
    already there), and the records to delete: the null MX, a host at the wrong priority."""
    zone: Zone = {**TWO_TARGETS, ("example.com", "MX"): published} if published else dict(TWO_TARGETS)
    result = await run_check(TWO, zone)
    fixes = {f.remediation for f in result.findings if f.severity is Severity.ERROR}
    assert 1 == len(fixes)
    (fix,) = fixes
    assert fix is not None
    assert (add, remove) == (list(fix.records), list(fix.remove))
