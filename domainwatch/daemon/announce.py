"""What the daemon says about written events: the metrics of domain changes, and the log (a
domain's own changes at info, its records' and capabilities' at debug; counted instead while a
config is applied to the whole fleet)."""

from __future__ import annotations

from collections import Counter

import structlog

from domainwatch.metrics.instruments import Metrics
from domainwatch.state.drift import CHANGE
from domainwatch.state.events import Event

log = structlog.get_logger("domainwatch")


def announce(
    events: list[Event], metrics: Metrics | None, tally: Counter[tuple[str, str, str]] | None
) -> None:
    for event in events:
        if event.kind == CHANGE and metrics is not None:
            metrics.observe_record_change(event.subject, str(event.observations.get("direction")))
        if event.kind == "domain" and metrics is not None:
            metrics.observe_domain_change(event.status)
            if event.previous == "verified" and event.status != "verified":
                metrics.observe_verified_lost(first_problem(event))
        if tally is not None:  # a config applied to the whole fleet: counted, not listed
            tally[(event.kind, event.previous, event.status)] += 1
            continue
        # Every change is in the store, the history and the webhooks: a record's (up to a dozen
        # each check) need not crowd the log.
        (log.info if event.kind in ("domain", "lifecycle") else log.debug)(
            "status_changed",
            domain=event.domain,
            kind=event.kind,
            subject=event.subject,
            previous=event.previous,
            status=event.status,
            reason=event.reason,
            sequence=event.sequence,
        )


def first_problem(event: Event) -> str:
    """The code of the first finding of the first record the event's check did not find as
    required (what a page about many domains leaving `verified` names); `unknown` if none."""
    for summary in event.observations.values():
        if not isinstance(summary, dict) or summary.get("state") == "present":
            continue
        findings = summary.get("findings")
        if isinstance(findings, list) and findings and isinstance(findings[0], str):
            return findings[0][:64]
    return "unknown"
