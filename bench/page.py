"""The overview and the list at fleet scale: server renders of the status page's first and last
page, and of the API's, over N domains sorted by status_since, and filtered by one finding code
(1% of the fleet has it). Medians of --runs renders each, in one run; the baseline is the first
page of the unfiltered list by name, the cheapest ask, measured beside them.

The fleet is made in memory (a memory store, statuses and findings set directly), so this times
the page, not checks. The last page is reached the way a client does: by following cursors.

Usage: python bench/page.py [--domains 100000] [--runs 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import structlog  # noqa: E402
from aiohttp.test_utils import TestClient, TestServer  # noqa: E402

from domainwatch.config.loader import parse  # noqa: E402
from domainwatch.daemon.daemon import Daemon  # noqa: E402
from domainwatch.metrics.exposition import Exposition  # noqa: E402
from domainwatch.metrics.instruments import Metrics  # noqa: E402
from domainwatch.state.facts import DomainFacts  # noqa: E402
from domainwatch.state.rules import Status  # noqa: E402
from domainwatch.testing import FakeClock, FakeResolver  # noqa: E402
from domainwatch.testing.memory_store import MemoryStore  # noqa: E402
from domainwatch.web.app import create_app  # noqa: E402

CODE = "spf_include_invalid"


async def fleet(count: int) -> Daemon:
    document = {
        "resolver": {"nameservers": ["127.0.0.1:9"]},
        "domains": [
            {"name": f"d{n:06}.bench.example", "sending": {"spf": {"include": ["p.bench.example"]}}}
            for n in range(count)
        ],
    }
    config = parse(json.dumps(document))
    daemon = await Daemon.open(config, MemoryStore(), resolver=FakeResolver({}), clock=FakeClock())
    rng, now = random.Random(7), datetime(2026, 12, 1, tzinfo=UTC)
    statuses = [Status.VERIFIED] * 8 + [Status.PENDING, Status.TEMPORARY_FAILURE]
    for name, track in daemon.fleet.tracks.items():
        since = now - timedelta(seconds=rng.randrange(86400 * 30))
        daemon.fleet.tracks[name] = replace(track, status=rng.choice(statuses), since=since, checked_at=since)
        if rng.random() < 0.01:
            daemon.fleet.facts[name] = DomainFacts({"error": 1}, {}, (CODE,), f"{CODE}: include:x has no SPF")
    return daemon


async def median_ms(client: TestClient, path: str, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        answer = await client.get(path)
        await answer.read()
        assert answer.status == 200, (path, answer.status)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


async def last_page(client: TestClient, path: str) -> str:
    """The last page's URL, reached by following next_cursor through the API (limit 1000)."""
    api = path.replace("/?", "/api/v1/domains?").replace("limit=100", "limit=1000")
    cursor, previous = None, None
    while True:
        body = await (await client.get(api + (f"&cursor={cursor}" if cursor else ""))).json()
        if body["next_cursor"] is None:
            return api + (f"&cursor={previous}" if previous else "")
        previous, cursor = cursor, body["next_cursor"]


async def main(count: int, runs: int) -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))
    started = time.perf_counter()
    daemon = await fleet(count)
    print(f"{count:,} domains made in {time.perf_counter() - started:.1f} s; medians of {runs} renders each")
    metrics = Metrics()
    client = TestClient(TestServer(create_app(daemon, Exposition(metrics.registry, daemon.fleet))))
    await client.start_server()
    try:
        cases = {
            "baseline: API, first 100 by name": "/api/v1/domains?limit=100",
            "page, first, by status_since": "/?sort=status_since&limit=100",
            "page, first, by status_since desc": "/?sort=status_since&order=desc&limit=100",
            f"page, first, finding={CODE}": f"/?sort=status_since&finding={CODE}&limit=100",
            "API, first 1000, by status_since": "/api/v1/domains?sort=status_since&limit=1000",
            "API, last page, by status_since": await last_page(client, "/?sort=status_since&limit=100"),
            f"API, last page, finding={CODE}": await last_page(client, f"/?sort=status_since&finding={CODE}"),
        }
        baseline = None
        for label, path in cases.items():
            ms = await median_ms(client, path, runs)
            baseline = baseline or ms
            print(f"  {label:<40} {ms:8.1f} ms  ({ms / baseline:4.1f}x the baseline)")
    finally:
        await client.close()
        await daemon.shutdown()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--domains", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.domains, arguments.runs))
