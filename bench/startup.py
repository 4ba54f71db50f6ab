"""Start-up on a large SQLite store: `domainwatch run` from launch to /readyz 200, its RSS then,
and the share of a core it uses over the --after seconds that follow (every domain's check
fell due while it was stopped: the first minute after a restart), medians of --runs, for each
source tree given (this one by default), the trees taking turns in one run.

The store is made once, by this tree: N domains (an SPF and a DMARC record each), checked once
against a resolver that knows nothing, so every record has a stored state and result. Each
tree's daemon then starts on a copy of it, its config written as JSON (as docs/performance.md
advises for large fleets), pinned to core 1 where `taskset` exists.

Usage: python bench/startup.py [--domains 100000] [--runs 3] [--tree /path/to/other/checkout ...]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import structlog  # noqa: E402

from domainwatch.config.loader import parse  # noqa: E402
from domainwatch.daemon.daemon import Daemon  # noqa: E402
from domainwatch.store.sqlite import SqliteStore  # noqa: E402
from domainwatch.testing import FakeClock, FakeResolver  # noqa: E402

LISTEN = "127.0.0.1:18431"


def config_text(count: int, store: Path) -> str:
    document = {
        "resolver": {"nameservers": ["127.0.0.1:9"], "timeout": "200ms", "attempts": 1},
        "storage": {"path": str(store)},
        "server": {"listen": LISTEN},
        "max_concurrent_checks": 512,
        "domains": [
            {"name": f"d{n}.bench.example", "sending": {"spf": {"include": ["p.bench.example"]}}}
            for n in range(count)
        ],
    }
    return json.dumps(document)


async def make_store(count: int, store: Path) -> float:
    """Every domain planned and checked once; seconds it took."""
    started = time.perf_counter()
    config = parse(config_text(count, store), source="bench.json")
    daemon = await Daemon.open(
        config, SqliteStore(store), resolver=FakeResolver(), clock=FakeClock(), rng=random.Random(1)
    )
    await daemon.run_once()
    await daemon.shutdown()
    return time.perf_counter() - started


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def after_ready(tree: Path, config: Path, after: float) -> tuple[float, float, float]:
    """(seconds to ready, RSS at ready in MB, CPU share over the `after` seconds following)."""
    code = "import sys; from domainwatch.cli.main import main; sys.exit(main(sys.argv[1:]))"
    pin = ["taskset", "-c", "1"] if shutil.which("taskset") else []
    command = [*pin, sys.executable, "-c", code, "run", "-c", str(config), "--log-level", "error"]
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=tree)  # the tree's own domainwatch, first on sys.path
    try:
        while process.poll() is None:
            try:
                with urllib.request.urlopen(f"http://{LISTEN}/readyz", timeout=5) as response:
                    if response.status == 200:
                        ready, rss = time.perf_counter() - started, _rss_mb(process.pid)
                        cpu = _cpu_seconds(process.pid)
                        time.sleep(after)
                        return ready, rss, (_cpu_seconds(process.pid) - cpu) / after
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.05)
        raise RuntimeError(f"{tree}: domainwatch run exited with {process.returncode}")
    finally:
        process.terminate()
        process.wait(60)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--domains", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tree", action="append", type=Path, default=[], help="another checkout to compare")
    parser.add_argument("--after", type=float, default=60.0, help="seconds of CPU measured after ready")
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))  # errors only
    trees = [ROOT, *args.tree]
    with tempfile.TemporaryDirectory(prefix="domainwatch-startup-") as work:
        directory = Path(work)
        made = asyncio.run(make_store(args.domains, directory / "made.db"))
        print(f"store of {args.domains} domains made in {made:.1f}s")
        seen: dict[Path, list[tuple[float, float, float]]] = {tree: [] for tree in trees}
        for _ in range(args.runs):
            for tree in trees:  # taking turns: a noisy minute hits every tree alike
                store = directory / "run.db"
                store.unlink(missing_ok=True)
                shutil.copy(directory / "made.db", store)
                config = directory / "config.json"
                config.write_text(config_text(args.domains, store))
                seen[tree].append(after_ready(tree, config, args.after))
        base = statistics.median(r[0] for r in seen[ROOT])
        for tree, runs in seen.items():
            ready, rss, cpu = (statistics.median(r[i] for r in runs) for i in range(3))
            print(
                f"{tree!s:<40} ready after launch: median {ready:.2f}s "
                f"({', '.join(f'{r[0]:.2f}' for r in runs)}); {ready / base:.2f}x this tree; "
                f"RSS at ready {rss:.0f} MB; CPU share over the {args.after:.0f}s after ready "
                f"{cpu:.0%} ({', '.join(f'{r[2]:.0%}' for r in runs)})"
            )


if __name__ == "__main__":
    main()
