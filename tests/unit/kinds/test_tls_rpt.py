"""TLS-RPT records (checks/kinds/tls_rpt.py), evaluated directly."""

from __future__ import annotations

import pytest

from domainwatch.checks.kinds.tls_rpt import TlsRptExpectation, evaluate
from domainwatch.dns.resolver import Outcome
from domainwatch.model import RecordState
from tests.unit.kinds.answers import answers

NAME = "_smtp._tls.example.com"
EXPECT = TlsRptExpectation("tls_rpt", NAME, True, ("mailto:tls@example.com",))


@pytest.mark.parametrize(
    ("published", "state", "codes"),
    [
        (["v=TLSRPTv1; rua=mailto:tls@example.com"], RecordState.PRESENT, []),
        (["v=TLSRPTv1; rua=https://reports.example.net/tls"], RecordState.PRESENT, []),
        ([], RecordState.MISSING, ["tls_rpt_missing"]),
        (["v=TLSRPTv1"], RecordState.WRONG, ["tls_rpt_invalid"]),
        (["v=TLSRPTv1; rua=ftp://x"], RecordState.WRONG, ["tls_rpt_invalid"]),
        (
            ["v=TLSRPTv1; rua=mailto:a@b.test", "v=TLSRPTv1; rua=mailto:c@d.test"],
            RecordState.WRONG,
            ["tls_rpt_invalid"],
        ),
    ],
)
def test_records(published: list[str], state: RecordState, codes: list[str]) -> None:
    result = evaluate(EXPECT, answers({(NAME, "TXT"): published}))
    assert (state, codes) == (result.state, [f.code.value for f in result.findings])


def test_a_lookup_error_is_an_error_never_missing() -> None:
    assert RecordState.ERROR == evaluate(EXPECT, answers({(NAME, "TXT"): Outcome.SERVFAIL})).state


def test_the_fix_is_the_expected_record() -> None:
    result = evaluate(EXPECT, answers({(NAME, "TXT"): []}))
    fix = result.findings[0].remediation
    assert fix is not None
    assert (NAME, "TXT", "v=TLSRPTv1; rua=mailto:tls@example.com") == (fix.name, fix.type, fix.value)
