"""Start-up and reload as the log tells them: the first round's progress and ETA, and what a
reload changed (pure parts; the daemon's lines are in tests/integration/test_daemon_process.py)."""

from __future__ import annotations

import asyncio
import itertools

from structlog.testing import capture_logs

from domainwatch.config.changes import config_changes
from domainwatch.config.loader import parse
from domainwatch.daemon.startup import FirstRound, report_start


def test_progress_counts_checked_domains_and_estimates_the_rest() -> None:
    first = FirstRound.of(["a", "b", "c", "d"])
    assert {"checked": 0, "total": 4, "eta_seconds": None} == first.progress(5.0)
    first.discard("a")
    assert {"checked": 1, "total": 4, "eta_seconds": 30.0} == first.progress(10.0)
    for name in "bcd":
        first.discard(name)
    assert first.done


async def test_progress_lines_until_ready() -> None:
    first = FirstRound.of(["a", "b"])
    ticks = itertools.count(0.0, 10.0)

    async def check_later() -> None:
        await asyncio.sleep(0.015)
        first.discard("a")
        await asyncio.sleep(0.01)
        first.discard("b")

    with capture_logs() as logs:
        await asyncio.gather(
            report_start(lambda: first, 0.0, every=0.01, clock=lambda: next(ticks)), check_later()
        )
    events = [entry["event"] for entry in logs]
    assert "ready" == events[-1]
    assert set(events[:-1]) <= {"first_round_progress"}
    assert events[:-1]


def test_reload_changes_are_counted() -> None:
    old = parse(
        """
defaults: {interval: 5m}
domains:
  - {name: a.example.com, preset: resend, region: us-east-1}
  - {name: b.example.com, preset: resend, region: us-east-1}
"""
    )
    new = parse(
        """
defaults: {interval: 10m}
domains:
  - {name: a.example.com, preset: resend, region: us-east-1, labels: {team: billing}}
  - {name: c.example.com, preset: resend, region: us-east-1}
  - {name: d.example.com, preset: resend, region: us-east-1}
"""
    )
    assert {"added": 2, "removed": 1, "changed": 1, "settings": ["defaults"]} == config_changes(old, new)
