"""What the daemon says about written events (daemon/announce.py): domains leaving `verified`
counted by the first problem their check saw, which a page about many of them names."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry

from domainwatch.daemon.announce import announce, first_problem
from domainwatch.metrics.instruments import Metrics
from domainwatch.state.events import Event

AT = datetime(2026, 1, 1, tzinfo=UTC)


def event(previous: str, status: str, observations: dict[str, Any], kind: str = "domain") -> Event:
    return Event(
        "id", "shop.example.com", 7, kind, "shop.example.com", previous, status, AT, "r", observations
    )


def test_the_first_problem_is_the_first_finding_of_the_first_record_not_present() -> None:
    seen = {
        "spf": {"state": "present", "findings": ["spf_softfail_all"]},
        "dkim:s1": {"state": "missing", "findings": ["dkim_missing", "dkim_key_short"]},
        "dmarc": {"state": "wrong", "findings": ["dmarc_invalid"]},
    }
    assert "dkim_missing" == first_problem(event("verified", "temporary_failure", seen))
    assert "unknown" == first_problem(event("verified", "temporary_failure", {"spf": {"state": "error"}}))
    assert "unknown" == first_problem(event("verified", "temporary_failure", {"x": "not a mapping"}))


def test_only_domains_leaving_verified_are_counted() -> None:
    metrics = Metrics(CollectorRegistry())
    missing = {"spf": {"state": "missing", "findings": ["spf_include_missing"]}}
    announce(
        [
            event("verified", "temporary_failure", missing),
            event("pending", "failed", missing),  # never verified: the customer's, not a loss
            event("verified", "verified", missing, kind="record"),
        ],
        metrics,
        None,
    )
    value = metrics.registry.get_sample_value(
        "domainwatch_verified_lost_total", {"code": "spf_include_missing"}
    )
    assert 1.0 == value
