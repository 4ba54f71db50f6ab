"""Reverse DNS of a sending IP: a PTR that resolves back passes; no PTR is missing; a PTR that
does not resolve back is wrong; a lookup error is an error, never missing."""

from __future__ import annotations

from domainwatch.checks.kinds.reverse_dns import Code, ReverseDnsExpectation
from domainwatch.dns.resolver import Outcome
from domainwatch.model import RecordState
from tests.helpers import codes, run_check

V4 = ReverseDnsExpectation("reverse_dns:192.0.2.1", "1.2.0.192.in-addr.arpa", True, "192.0.2.1")
V6_NAME = "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"
V6 = ReverseDnsExpectation("reverse_dns:2001:db8::1", V6_NAME, True, "2001:db8::1")


async def test_a_ptr_that_resolves_back_is_present() -> None:
    zone = {(V4.name, "PTR"): ["mail.example.net."], ("mail.example.net", "A"): ["192.0.2.1"]}
    result = await run_check(V4, zone)
    assert (RecordState.PRESENT, {"ptr_found": 1, "fcrdns": 1}) == (result.state, result.facts)


async def test_ipv6_is_confirmed_by_aaaa_in_any_spelling() -> None:
    zone = {(V6.name, "PTR"): ["mail.example.net."], ("mail.example.net", "AAAA"): ["2001:0db8::0001"]}
    assert RecordState.PRESENT == (await run_check(V6, zone)).state


async def test_no_ptr_is_missing() -> None:
    result = await run_check(V4, {})
    assert (RecordState.MISSING, {Code.PTR_MISSING}) == (result.state, codes(result))
    assert {"ptr_found": 0, "fcrdns": 0} == result.facts


async def test_a_ptr_that_does_not_resolve_back_is_wrong() -> None:
    zone = {(V4.name, "PTR"): ["mail.example.net."], ("mail.example.net", "A"): ["198.51.100.9"]}
    result = await run_check(V4, zone)
    assert (RecordState.WRONG, {Code.FCRDNS_MISMATCH}) == (result.state, codes(result))
    assert {"ptr_found": 1, "fcrdns": 0} == result.facts


async def test_lookup_errors_are_errors() -> None:
    assert RecordState.ERROR == (await run_check(V4, {(V4.name, "PTR"): Outcome.TIMEOUT})).state
    zone = {(V4.name, "PTR"): ["mail.example.net."], ("mail.example.net", "A"): Outcome.SERVFAIL}
    assert RecordState.ERROR == (await run_check(V4, zone)).state


async def test_at_most_four_ptr_names_are_followed() -> None:
    names = [f"h{n}.example.net." for n in range(50)]
    result = await run_check(V4, {(V4.name, "PTR"): names, ("h49.example.net", "A"): ["192.0.2.1"]})
    assert RecordState.WRONG == result.state  # the 50th is never asked
