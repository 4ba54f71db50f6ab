"""What the CLI says about a long pass (cli/progress.py), from plain values."""

from __future__ import annotations

from domainwatch.checks.kinds.spf.kind import SpfExpectation
from domainwatch.cli.progress import planned_queries, qps_notice, summary
from domainwatch.model import DomainReport, RecordResult, RecordState


def test_a_slow_pass_at_max_qps_is_announced_as_the_issue_asked() -> None:
    """3,003 domains of 6 queries each at the default 200 a second: at least 90 s."""
    expected = "3,003 domains need at least 90 s at max_qps 200; raise it when you use your own resolver"
    assert expected == qps_notice(3003, 3003 * 6, 200)
    assert qps_notice(100, 600, 200) is None  # 3 s: nothing to say
    assert qps_notice(3003, 3003 * 6, 0) is None  # no limit


def test_planned_queries_are_each_records_first_round() -> None:
    spf = SpfExpectation("spf", "send.example.com", True, ("provider.example",))
    assert 2 == planned_queries([("a.example.com", [spf]), ("b.example.com", [spf])])


def record(state: RecordState) -> RecordResult:
    return RecordResult("spf", "send.example.com", "TXT", state, True, None, (), ())


def test_the_summary_counts_domains_by_verdict_and_records_by_state() -> None:
    reports = [
        DomainReport("a.example.com", (record(RecordState.PRESENT),)),
        DomainReport("b.example.com", (record(RecordState.MISSING),)),
        DomainReport("c.example.com", (record(RecordState.ERROR),)),
    ]
    expected = (
        "3 domains in 1.5 s: 1 ok, 1 needs attention, 1 lookup failed; "
        "records: 1 present, 1 missing, 0 wrong, 1 error"
    )
    assert expected == summary(reports, 1.5)
    assert summary(reports[:1], 0.1).startswith("1 domain in 0.1 s: 1 ok")
