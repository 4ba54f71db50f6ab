"""SQLite beside PostgreSQL, in one run (make bench; docs/performance.md): a fleet's first start
on an empty store, one full round and the time its writes took, the steady round after it, a
restart on the filled store, and the daemon's RSS. PostgreSQL runs as the clustered store of
docs/ha.md (one replica holding every slot, every write fenced).

Each store is measured in a fresh interpreter of its own (RSS is per process), against Knot
serving the fleet's zone on core 0 (bench/fleet.py), the daemon pinned to core 1; PostgreSQL is
Debian's, started in a temp dir (tests/integration/postgres.py) on core 0 beside Knot.

Usage: python bench/stores.py [--domains 100000]   (as root: binds port 53, pins cores)
"""

from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import fleet  # noqa: E402
import structlog  # noqa: E402
from fleet import serving_zone  # noqa: E402

from domainwatch.config.loader import parse  # noqa: E402
from domainwatch.daemon.daemon import Daemon  # noqa: E402
from domainwatch.metrics.instruments import Metrics  # noqa: E402
from domainwatch.runtime import aio, gctune  # noqa: E402, F401 (aio: the child runs stores.aio.run)
from domainwatch.store.opening import open_store  # noqa: E402


def config_text(count: int, storage: str) -> str:
    """bench/fleet.py's config of the fleet, with this `storage:` section."""
    placeholder = Path("STORE")
    text, section = fleet.config_text(count, placeholder, "fast"), f"storage: {{path: '{placeholder}'}}"
    if section not in text:  # fleet.py's config changed shape: measure nothing rather than SQLite twice
        raise RuntimeError(f"bench/fleet.py's config has no {section!r} line to replace")
    return text.replace(section, f"storage: {storage}", 1)


def written(metrics: Metrics) -> float:
    """Seconds the store's writes took so far (the write-duration histogram's sum)."""
    for family in metrics.registry.collect():
        if family.name == "domainwatch_store_write_duration_seconds":
            return sum(s.value for s in family.samples if s.name.endswith("_sum"))
    return 0.0


def memory() -> tuple[float, float]:
    status = Path("/proc/self/status").read_text()
    peak, rss = (int(re.search(rf"{f}:\s+(\d+) kB", status).group(1)) / 1024 for f in ("VmHWM", "VmRSS"))  # type: ignore[union-attr]
    return peak, rss


async def measure(count: int, storage: str) -> dict[str, Any]:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))
    gctune.tune()  # as every `domainwatch` process does at start (runtime/process.py)
    config = parse(config_text(count, storage))
    metrics = Metrics()
    started = time.perf_counter()
    store = await open_store(config.storage.location)
    daemon = await Daemon.open(config, store, metrics=metrics, rng=random.Random(1))
    gctune.settle()
    first_start = time.perf_counter() - started
    if daemon.replica is not None:  # leases renewed while the round runs, as `run` does
        daemon.replica.start()
    round_started = time.perf_counter()
    await daemon.run_once()
    round_seconds, round_writes = time.perf_counter() - round_started, written(metrics)
    steady_started = time.perf_counter()
    await daemon.run_once(daemon.clock() + timedelta(days=1))
    steady_seconds, steady_writes = time.perf_counter() - steady_started, written(metrics) - round_writes
    peak, rss = memory()
    await daemon.shutdown()
    restarted = time.perf_counter()
    again = await Daemon.open(config, await open_store(config.storage.location), rng=random.Random(1))
    restart = time.perf_counter() - restarted
    await again.shutdown()
    return {
        "first_start": first_start,
        "round": round_seconds,
        "round_writes": round_writes,
        "steady": steady_seconds,
        "steady_writes": steady_writes,
        "restart": restart,
        "peak_rss_mb": peak,
        "rss_mb": rss,
        "checked": len(daemon.fleet.tracks),
    }


def child(count: int, storage: str) -> dict[str, Any]:
    code = (
        "import json, sys; sys.path.insert(0, 'bench'); import stores;"
        f" print(json.dumps(stores.aio.run(stores.measure({count}, {storage!r}))))"
    )
    done = subprocess.run(
        ["taskset", "-c", "1", sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--domains", type=int, default=100_000)
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))
    from tests.integration.postgres import restartable_postgres  # noqa: PLC0415 (the tests' server)

    with serving_zone(args.domains) as directory, restartable_postgres() as postgres:
        subprocess.run(["taskset", "-cp", "0", str(postgres.process.pid)], capture_output=True, check=False)  # type: ignore[union-attr]
        results = {
            "SQLite": child(args.domains, f"{{path: '{directory / 'bench.db'}'}}"),
            "PostgreSQL": child(args.domains, f"{{url: '{postgres.url}'}}"),
        }
    print(
        f"domainwatch stores benchmark: {args.domains} domains, Knot and PostgreSQL on core 0, daemon on core 1"
    )
    print(f"{'':<40} {'SQLite':>12} {'PostgreSQL':>12}")
    rows = [
        ("first start, empty store (s)", "first_start", "{:.1f}"),
        ("first round (s)", "round", "{:.1f}"),
        ("  of which writing (s)", "round_writes", "{:.1f}"),
        ("steady round (s)", "steady", "{:.1f}"),
        ("  of which writing (s)", "steady_writes", "{:.1f}"),
        ("restart on the filled store (s)", "restart", "{:.1f}"),
        ("RSS after the rounds (MB)", "rss_mb", "{:.0f}"),
        ("peak RSS (MB)", "peak_rss_mb", "{:.0f}"),
        ("domains held", "checked", "{:.0f}"),
    ]
    for label, key, form in rows:
        print(
            f"{label:<40} {form.format(results['SQLite'][key]):>12} {form.format(results['PostgreSQL'][key]):>12}"
        )


if __name__ == "__main__":
    main()
