"""STARTTLS records (checks/kinds/starttls.py) from a probe's facts: evaluated directly."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from domainwatch.checks.kinds.starttls import StartTlsExpectation, evaluate
from domainwatch.dns.resolver import Lookup, Outcome, Query
from domainwatch.model import RecordState, Severity
from domainwatch.probes.answers import STARTTLS
from tests.unit.kinds.answers import answers

HOST = "mx.example.com"
EXPECT = StartTlsExpectation(f"starttls:{HOST}", HOST, True, "1.2")
QUERY = Query.of(HOST, STARTTLS)
NOW = 1_800_000_000
GOOD = {"starttls": True, "trusted": True, "tls_version": "1.3", "cipher": "TLS_AES_128_GCM_SHA256",
        "names": [HOST], "issuer": "Example CA", "not_after": NOW + 90 * 86400, "probed_at": NOW,
        "address": "192.0.2.1"}  # fmt: skip
V6 = {**GOOD, "address": "2001:db8::1"}


def host(*entries: Mapping[str, object], **extra: object) -> dict[str, object]:
    """A host's STARTTLS answer: what each address's probe found."""
    return {"addresses": [dict(e) for e in entries], **extra}


def codes(facts: Mapping[str, object]) -> tuple[RecordState, list[str]]:
    result = evaluate(EXPECT, answers({}, {QUERY: facts}))
    return result.state, [f.code.value for f in result.findings]


def test_a_good_server_is_present() -> None:
    assert (RecordState.PRESENT, []) == codes(host(GOOD, V6))


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"starttls": False}, "starttls_not_offered"),
        ({"handshake_error": "bad record mac"}, "tls_handshake_failed"),
        ({"tls_version": "1.1"}, "tls_version_too_old"),
        (
            {"trusted": False, "verify_error": "unable to get local issuer certificate"},
            "certificate_untrusted",
        ),
        ({"trusted": False, "verify_error": "certificate has expired"}, "certificate_expired"),
        ({"names": ["other.example.com"]}, "certificate_name_mismatch"),
        ({"not_after": NOW + 3 * 86400}, "certificate_expiring"),
    ],
)
def test_each_problem_gives_its_code_naming_the_address(change: dict[str, object], code: str) -> None:
    result = evaluate(EXPECT, answers({}, {QUERY: host(V6, {**GOOD, **change})}))
    found = [f for f in result.findings if f.code.value == code]
    assert [(code, "192.0.2.1")] == [(f.code.value, f.found) for f in found]
    assert "192.0.2.1" in found[0].message
    outcome = "wrong" if found[0].severity is Severity.ERROR else "present"
    views = [(a.address, a.outcome.value, list(a.codes)) for a in result.addresses]
    assert [("2001:db8::1", "present", []), ("192.0.2.1", outcome, [code])] == views


def test_a_refused_address_beside_a_probed_one_is_a_warning() -> None:
    refused = [{"address": "10.0.0.1", "class": "private"}]
    assert (RecordState.PRESENT, ["probe_address_not_global"]) == codes(host(GOOD, refused=refused))


def test_the_state_is_the_worst_address_s() -> None:
    """One bad address makes the record wrong, whatever the others; an address that could not
    be probed makes it an error only when nothing is wrong."""
    timed_out = {"address": "2001:db8::1", "error": "timeout", "detail": "no answer within 3s"}
    assert RecordState.WRONG == codes(host({**GOOD, "starttls": False}, timed_out))[0]
    assert (RecordState.ERROR, ["lookup_error"]) == codes(host(GOOD, timed_out))


def test_metrics_take_the_earliest_expiry_and_the_oldest_version() -> None:
    soon = {**V6, "not_after": NOW + 20 * 86400, "tls_version": "1.2"}
    result = evaluate(EXPECT, answers({}, {QUERY: host(GOOD, soon)}))
    assert {"tls_certificate_expiry": NOW + 20 * 86400, "tls_version": "1.2"} == result.facts


def test_only_refused_addresses_are_wrong_and_nothing_else() -> None:
    refused = {"refused": [{"address": "127.0.0.1", "class": "loopback"}]}
    assert (RecordState.WRONG, ["probe_address_not_global"]) == codes(refused)


def test_a_probe_that_could_not_complete_is_an_error() -> None:
    lookup = Lookup(QUERY, Outcome.TIMEOUT, detail="no answer")
    assert RecordState.ERROR == evaluate(EXPECT, {QUERY: lookup}).state
