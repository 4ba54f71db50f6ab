"""The runner's pure parts: combining per-nameserver views in authoritative mode."""

from __future__ import annotations

from domainwatch.checks.runner import combine_views
from domainwatch.model import CommonCode, Finding, RecordResult, RecordState, Severity


def result(state: RecordState, *found: str) -> RecordResult:
    return RecordResult("spf", "send.example.com", "TXT", state, True, "v=spf1 -all", found, ())


def test_present_on_every_server_is_present() -> None:
    """Every server publishing the record: present, no disagreement finding."""
    combined = combine_views(
        ["ns1", "ns2"], [result(RecordState.PRESENT, "x"), result(RecordState.PRESENT, "x")]
    )
    assert (RecordState.PRESENT, ()) == (combined.state, combined.findings)
    assert ["ns1", "ns2"] == [s.server for s in combined.servers]


def test_missing_on_one_server_is_missing_and_counted() -> None:
    """A record is found only when every answering server publishes it."""
    combined = combine_views(
        ["ns1", "ns2", "ns3"],
        [result(RecordState.PRESENT, "x"), result(RecordState.MISSING), result(RecordState.PRESENT, "x")],
    )
    assert RecordState.MISSING == combined.state
    finding = combined.findings[-1]
    assert (CommonCode.NAMESERVERS_DISAGREE, "published on 2 of 3 nameservers") == (
        finding.code,
        finding.message,
    )


def test_unanswering_server_does_not_block_the_others() -> None:
    """A server that errors is not counted against the record; the others decide (with a warning)."""
    combined = combine_views(["ns1", "ns2"], [result(RecordState.PRESENT, "x"), result(RecordState.ERROR)])
    assert RecordState.PRESENT == combined.state
    assert Severity.WARNING == combined.findings[-1].severity


def test_no_server_answering_is_error() -> None:
    """If no server answers, the record's state is error."""
    error = RecordResult(
        "spf",
        "n",
        "TXT",
        RecordState.ERROR,
        True,
        None,
        (),
        (Finding(CommonCode.LOOKUP_ERROR, Severity.ERROR, "timeout"),),
    )
    combined = combine_views(["ns1", "ns2"], [error, error])
    assert RecordState.ERROR == combined.state
