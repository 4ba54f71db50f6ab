"""Records published with whitespace before their version tag (checks/diagnoses/padded.py), over fakes."""

from __future__ import annotations

from domainwatch.checks.diagnoses.padded import padded_values
from domainwatch.checks.kinds.mta_sts import MtaStsExpectation
from domainwatch.checks.registry import kind_of
from domainwatch.dns.resolver import Lookup, Outcome, Query
from domainwatch.model import RecordState
from tests.helpers import run_check


async def test_a_padded_mta_sts_record_is_wrong_with_a_record_to_publish() -> None:
    """MTA-STS selects its record by `v=STSv1` first: a padded one is discarded by senders."""
    expect = MtaStsExpectation(
        "mta_sts", "_mta-sts.example.com", True, "example.com", "enforce", ("mx.example.com",)
    )
    result = await run_check(expect, {("_mta-sts.example.com", "TXT"): [" v=STSv1; id=20240101"]})
    assert RecordState.WRONG == result.state
    assert ["txt_value_whitespace"] == [f.code.value for f in result.findings]
    fix = result.findings[0].remediation
    assert fix is not None
    assert ("_mta-sts.example.com", "TXT") == (fix.name, fix.type)
    assert fix.value.startswith("v=STSv1; id=")


def test_only_whitespace_before_the_tag_makes_a_padded_record() -> None:
    """Trailing spaces leave the record selectable; a proper record beside a padded one is the
    one receivers select."""
    expect = MtaStsExpectation("mta_sts", "_mta-sts.example.com", True, "example.com", "enforce", ())

    def padded(*values: str) -> tuple[str, ...]:
        lookup = Lookup(Query.of(expect.name, "TXT"), Outcome.ANSWER, values)
        return padded_values(kind_of("mta_sts"), expect, {lookup.query: lookup})

    assert () == padded("v=STSv1; id=1 ")
    assert () == padded("v=STSv1; id=1", " v=STSv1; id=2")
    assert (" v=STSv1; id=2",) == padded(" v=STSv1; id=2", "other")
