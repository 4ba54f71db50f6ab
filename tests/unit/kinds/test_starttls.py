"""STARTTLS records (checks/kinds/starttls.py) from a probe's facts: evaluated directly."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from domainwatch.checks.kinds.starttls import StartTlsExpectation, evaluate
from domainwatch.dns.resolver import Lookup, Outcome, Query
from domainwatch.model import RecordState
from domainwatch.probes.answers import STARTTLS
from tests.unit.kinds.answers import answers

HOST = "mx.example.com"
EXPECT = StartTlsExpectation(f"starttls:{HOST}", HOST, True, "1.2")
QUERY = Query.of(HOST, STARTTLS)
NOW = 1_800_000_000
GOOD = {"starttls": True, "trusted": True, "tls_version": "1.3", "cipher": "TLS_AES_128_GCM_SHA256",
        "names": [HOST], "issuer": "Example CA", "not_after": NOW + 90 * 86400, "probed_at": NOW}  # fmt: skip


def codes(facts: Mapping[str, object]) -> tuple[RecordState, list[str]]:
    result = evaluate(EXPECT, answers({}, {QUERY: facts}))
    return result.state, [f.code.value for f in result.findings]


def test_a_good_server_is_present() -> None:
    assert (RecordState.PRESENT, []) == codes(GOOD)


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
        (
            {"refused": [{"address": "10.0.0.1", "class": "private"}], "address": "192.0.2.1"},
            "probe_address_not_global",
        ),
    ],
)
def test_each_problem_gives_its_code(change: dict[str, object], code: str) -> None:
    assert code in codes({**GOOD, **change})[1]


def test_only_refused_addresses_are_wrong_and_nothing_else() -> None:
    refused = {"refused": [{"address": "127.0.0.1", "class": "loopback"}]}
    assert (RecordState.WRONG, ["probe_address_not_global"]) == codes(refused)


def test_a_probe_that_could_not_complete_is_an_error() -> None:
    lookup = Lookup(QUERY, Outcome.TIMEOUT, detail="no answer")
    assert RecordState.ERROR == evaluate(EXPECT, {QUERY: lookup}).state
