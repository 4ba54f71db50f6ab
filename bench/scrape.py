"""The /metrics scrape at fleet scale, in one run: what a scrape costs when nothing changed, after
a fifth of the fleet changed (a minute of a first round at 100,000 domains), and after a reload
(every domain laid out anew). The baseline is the synchronous render that formats everything
left before it answers (what every scrape did before issue #35); the scrape serves the last
complete text when more than SCRAPE_SLICE domains are left, and formats the rest between the
loop's other work. Both answer gzipped; medians of --runs.

Usage: python bench/scrape.py [--domains 100000] [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import structlog  # noqa: E402

from bench.page import fleet  # noqa: E402
from domainwatch.daemon.daemon import Daemon  # noqa: E402
from domainwatch.metrics.exposition import Exposition  # noqa: E402
from domainwatch.metrics.instruments import Metrics  # noqa: E402


def change(daemon: Daemon, exposition: Exposition, share: float) -> None:
    """A share of the fleet checked again: a new check time each (its text to format again)."""
    names = list(daemon.fleet.tracks)[: int(len(daemon.fleet.tracks) * share)]
    for name in names:
        track = daemon.fleet.tracks[name]
        assert track.checked_at is not None
        daemon.fleet.tracks[name] = replace(track, checked_at=track.checked_at.replace(microsecond=1))
    exposition.domains_changed(names)


async def timed(
    daemon: Daemon,
    exposition: Exposition,
    prepare: Callable[[], None],
    scrape: Callable[[], Awaitable[bytes]],
    runs: int,
) -> tuple[float, int]:
    """Median seconds of a scrape after `prepare`, and the series it returned (the last run's)."""
    seconds, body = [], b""
    for _ in range(runs):
        prepare()
        started = time.perf_counter()
        body = await scrape()
        seconds.append(time.perf_counter() - started)
        if exposition._settling is not None:  # the rest formatted before the next run
            await exposition._settling
    series = sum(1 for line in gzip.decompress(body).splitlines() if line and not line.startswith(b"#"))
    return statistics.median(seconds), series


async def run(count: int, runs: int) -> None:
    daemon = await fleet(count)
    exposition = Exposition(Metrics().registry, daemon.fleet, progress=daemon)
    warm = await exposition.warm_up()
    print(f"{count} domains, warmed up in {warm:.1f}s")

    async def render() -> bytes:
        return exposition.render("gzip")[0]

    async def scrape() -> bytes:
        return (await exposition.scrape("gzip"))[0]

    cases: list[tuple[str, Callable[[], None]]] = [
        ("nothing changed", lambda: None),
        ("a fifth of the fleet changed", lambda: change(daemon, exposition, 0.2)),
        ("a reload (laid out anew)", exposition.fleet_changed),
    ]
    for label, prepare in cases:
        base, base_series = await timed(daemon, exposition, prepare, render, runs)
        new, new_series = await timed(daemon, exposition, prepare, scrape, runs)
        print(
            f"{label:<30} render (baseline) {base * 1000:8.0f} ms, {base_series} series; "
            f"scrape {new * 1000:6.0f} ms, {new_series} series; {base / new:5.1f}x faster"
        )
    await daemon.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--domains", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))
    asyncio.run(run(args.domains, args.runs))


if __name__ == "__main__":
    main()
