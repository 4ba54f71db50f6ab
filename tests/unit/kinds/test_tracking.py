"""The tracking CNAME: present, missing, pointing elsewhere, lookup error."""

from __future__ import annotations

from domainwatch.checks.kinds.tracking import Code as TrackingCode
from domainwatch.checks.kinds.tracking import TrackingExpectation
from domainwatch.dns.resolver import Outcome
from domainwatch.model import RecordState
from tests.helpers import codes, run_check

EXPECT = TrackingExpectation("tracking", "links.example.com", False, "track.example.net")


async def test_cname_to_target_is_present() -> None:
    """The expected CNAME is present."""
    result = await run_check(EXPECT, {("links.example.com", "CNAME"): ["track.example.net"]})
    assert RecordState.PRESENT == result.state


async def test_missing_cname_is_missing() -> None:
    """No CNAME: missing, with the CNAME to publish."""
    result = await run_check(EXPECT, {})
    assert (RecordState.MISSING, {TrackingCode.TRACKING_MISSING}) == (result.state, codes(result))


async def test_cname_elsewhere_is_wrong() -> None:
    """A CNAME to another target is wrong."""
    result = await run_check(EXPECT, {("links.example.com", "CNAME"): ["other.example.net"]})
    assert (RecordState.WRONG, {TrackingCode.TRACKING_WRONG}) == (result.state, codes(result))


async def test_timeout_is_error() -> None:
    """A timeout is an error, not missing."""
    result = await run_check(EXPECT, {("links.example.com", "CNAME"): Outcome.TIMEOUT})
    assert RecordState.ERROR == result.state
