"""The runner: combining per-nameserver views in authoritative mode, and what a check that
raises or returns too much becomes."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from domainwatch.checks import registry
from domainwatch.checks.kinds.dkim.kind import DkimExpectation
from domainwatch.checks.kinds.dmarc.kind import DmarcExpectation
from domainwatch.checks.kinds.spf.kind import SpfExpectation
from domainwatch.checks.running import runner
from domainwatch.checks.running.guard import MAX_FINDINGS, MAX_FOUND, bounded
from domainwatch.checks.running.views import combine_views
from domainwatch.metrics.instruments import Metrics
from domainwatch.model import CommonCode, Finding, RecordResult, RecordState, Severity
from domainwatch.testing import FakeResolver
from tests.keys import rsa_key


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
    named = "published on 2 of 3 nameservers (has: ns1, ns3; lacks: ns2)"
    assert (CommonCode.NAMESERVERS_DISAGREE, named) == (
        finding.code,
        finding.message,
    )


def test_unanswering_server_does_not_block_the_others() -> None:
    """A server that errors is not counted against the record; the others decide (with a warning)."""
    combined = combine_views(["ns1", "ns2"], [result(RecordState.PRESENT, "x"), result(RecordState.ERROR)])
    assert RecordState.PRESENT == combined.state
    assert Severity.WARNING == combined.findings[-1].severity
    assert combined.findings[-1].message.endswith("(has: ns1; no answer: ns2)")


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


def _raising(where: str) -> Any:
    def boom(*args: object) -> Any:
        raise ZeroDivisionError(where)

    return boom


def _replace_kind(monkeypatch: pytest.MonkeyPatch, record_id: str, **changes: Any) -> None:
    """The runner sees `record_id`'s kind with `changes` (its functions replaced)."""
    changed = dataclasses.replace(registry.kind_of(record_id), **changes)
    real = registry.kind_of
    monkeypatch.setattr(runner, "kind_of", lambda record: changed if record == record_id else real(record))


@pytest.mark.parametrize("where", ["queries", "evaluate"])
async def test_a_kind_that_raises_is_an_error_for_its_record_only(
    monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """A defect in one kind's code: that record is `error` with check_failed; the domain's other
    records are checked as usual, and the metric counts it."""
    _replace_kind(monkeypatch, "dmarc", **{where: _raising(where)})
    expectations = [
        SpfExpectation("spf", "send.example.com", True, ("p.example.net",)),
        DmarcExpectation("dmarc", "_dmarc.example.com", True, "example.com"),
    ]
    zone = FakeResolver(
        {
            ("send.example.com", "TXT"): ["v=spf1 include:p.example.net -all"],
            ("p.example.net", "TXT"): ["v=spf1 -all"],
        }
    )
    report = await runner.check_domain("example.com", expectations, zone)
    spf, dmarc = report.records
    assert (RecordState.PRESENT, RecordState.ERROR) == (spf.state, dmarc.state)
    assert [CommonCode.CHECK_FAILED] == [f.code for f in dmarc.findings]
    metrics = Metrics()
    metrics.observe_check(report, 0.1)
    assert 1.0 == metrics.registry.get_sample_value(
        "domainwatch_record_check_failures_total", {"kind": "dmarc"}
    )


async def test_a_settled_record_is_not_asked_again_while_another_follows_a_chain(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """DKIM has its answer after one round while SPF follows includes for three more: DKIM's
    queries are asked twice (to ask, then to see it is settled), not once a round; the results
    are those of asking everyone every round."""
    dkim = registry.kind_of("dkim:s1")
    asked: list[int] = []

    def counting(expect: Any, answers: Any) -> Any:
        asked.append(len(answers))
        return dkim.queries(expect, answers)

    _replace_kind(monkeypatch, "dkim:s1", queries=counting)
    expectations = [
        SpfExpectation("spf", "send.example.com", True, ("a.example.net",)),
        DkimExpectation("dkim:s1", "s1._domainkey.example.com", True, "s1"),
    ]
    zone = FakeResolver(
        {
            ("send.example.com", "TXT"): ["v=spf1 include:a.example.net -all"],
            ("a.example.net", "TXT"): ["v=spf1 include:b.example.net -all"],
            ("b.example.net", "TXT"): ["v=spf1 include:c.example.net -all"],
            ("c.example.net", "TXT"): ["v=spf1 ip4:192.0.2.1 -all"],
            ("s1._domainkey.example.com", "TXT"): [f"v=DKIM1; k=rsa; p={rsa_key(2048)}"],
        }
    )
    report = await runner.check_domain("example.com", expectations, zone)
    assert 2 == len(asked)
    assert 5 == len(zone.asked)  # SPF's chain took four rounds
    monkeypatch.undo()
    assert report.records == (await runner.check_domain("example.com", expectations, zone)).records
    assert [RecordState.PRESENT, RecordState.PRESENT] == [r.state for r in report.records]


def test_an_oversized_result_is_cut_to_its_bounds() -> None:
    big = RecordResult(
        "dmarc",
        "_dmarc.example.com",
        "TXT",
        RecordState.PRESENT,
        True,
        None,
        tuple("x" * 10_000 for _ in range(50)),
        tuple(Finding(CommonCode.LOOKUP_ERROR, Severity.WARNING, "m" * 9_000) for _ in range(100)),
    )
    cut = bounded(big)
    assert (MAX_FOUND, MAX_FINDINGS + 1) == (len(cut.found), len(cut.findings))
    assert CommonCode.RESULT_TRUNCATED is cut.findings[-1].code
    assert all(len(v) < 4200 for v in cut.found)
    small = result(RecordState.PRESENT, "x")
    assert small is bounded(small)
