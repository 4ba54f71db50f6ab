"""How fast the daemon runs simulated time: 72 hours of 1-minute checks of one domain.

Prints medians of several runs for the full daemon path (fake resolver, real engine, real SQLite
store in memory) and for a baseline of the pure engine alone on the same reports, and the ratio.
Usage: python bench/engine_scenario.py [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import structlog

from domainwatch.config.loader import parse
from domainwatch.config.plan import DomainPlan
from domainwatch.daemon.daemon import Daemon
from domainwatch.model import DomainReport, RecordResult, RecordState
from domainwatch.state.domain import apply_report, reconcile
from domainwatch.state.rules import Status
from domainwatch.store.sqlite import SqliteStore
from domainwatch.testing import FakeClock, FakeResolver

CONFIG = """
defaults: {{window: 72h}}
storage: {{path: "{path}"}}
domains:
  - name: shop.example.com
    sending: {{spf: {{include: [amazonses.com]}}}}
    receiving: {{mx: [{{host: mx.example.net, priority: 10}}]}}
"""
HORIZON = timedelta(hours=72, minutes=5)


async def daemon_run() -> tuple[int, float]:
    config = parse(CONFIG.format(path=Path(tempfile.mkdtemp()) / "unused.db"))
    clock = FakeClock()
    daemon = await Daemon.open(
        config, SqliteStore(":memory:"), resolver=FakeResolver({}), clock=clock, rng=random.Random(1)
    )
    end = clock.now + HORIZON
    checks = 0
    started = time.perf_counter()
    while (due := daemon.schedule.next_due()) is not None and due <= end:
        clock.now = due
        checks += await daemon.run_once(due)
    elapsed = time.perf_counter() - started
    assert daemon.fleet.tracks["shop.example.com"].status is Status.FAILED
    return checks, elapsed


def engine_run(checks: int) -> float:
    config = parse(CONFIG.format(path="unused.db"))
    plan = DomainPlan.of(config.domains[0], config.defaults)
    clock = FakeClock()
    track, _ = reconcile(None, plan.config.name, True, plan.specs, clock.now)
    report = DomainReport(
        plan.config.name,
        tuple(
            RecordResult(e.record, e.name, "TXT", RecordState.MISSING, e.required, None, (), ())
            for e in plan.expectations
        ),
    )
    step = HORIZON / checks
    started = time.perf_counter()
    for _ in range(checks):
        clock.advance(step)
        track, _ = apply_report(track, plan.specs, report, plan.rules, clock.now)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    full, pure, count = [], [], 0
    for _ in range(args.runs):
        count, seconds = asyncio.run(daemon_run())
        full.append(seconds)
        pure.append(engine_run(count))
    full_median, pure_median = statistics.median(full), statistics.median(pure)
    print(f"72h scenario, {count} checks of one domain, median of {args.runs} runs")
    print(f"{'path':<44} {'seconds':>8} {'us/check':>9}")
    label = "daemon (resolver + engine + SQLite store)"
    print(f"{label:<44} {full_median:>8.3f} {full_median / count * 1e6:>9.1f}")
    print(
        f"{'baseline: engine only (apply_report)':<44} {pure_median:>8.3f} {pure_median / count * 1e6:>9.1f}"
    )
    print(f"ratio daemon / engine-only: {full_median / pure_median:.1f}x")


if __name__ == "__main__":
    main()
