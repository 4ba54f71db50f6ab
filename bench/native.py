"""The compiled build against the pure-Python one, in one run (make bench).

Serves bench/fleet.py's zone from Knot (core 0) and measures, pinned to core 1, alternately in
fresh processes of each build: `domainwatch check` over the fleet (the fast transport, as
fleet.py's one-shot check) and the daemon's steady round (every domain due again, nothing
changed), with the bare loop (one socket, no checks) as the baseline of the same run. The
compiled build is a copy of the package with the modules of domainwatch/runtime/native.py
compiled by mypyc; both builds' results must be identical.

Usage: python bench/native.py [--domains 10000] [--runs 3]   (as root: binds port 53, pins cores)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def child(args: argparse.Namespace) -> None:
    """One build's measures, printed as JSON: the package comes from --tree."""
    sys.path.insert(0, str(args.tree))
    import domainwatch  # noqa: PLC0415 (first, so that every submodule comes from --tree)

    assert Path(domainwatch.__file__).is_relative_to(args.tree), domainwatch.__file__
    sys.path.insert(1, str(ROOT / "bench"))
    import fleet  # noqa: PLC0415
    import structlog  # noqa: PLC0415

    from domainwatch.runtime import aio  # noqa: PLC0415
    from domainwatch.runtime.native import compiled_modules  # noqa: PLC0415

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))
    seconds, cpu_seconds, _, digest = aio.run(fleet.one_shot(args.domains, args.directory, "fast"))
    steady = aio.run(steady_rounds(args.domains, args.directory))
    for path in args.directory.glob(f"native-{os.getpid()}.db*"):
        path.unlink()
    out = {"compiled": compiled_modules(), "check_s": seconds, "check_cpu": cpu_seconds, "digest": digest}
    print(json.dumps({**out, "steady_cpu": steady}))


async def steady_rounds(count: int, directory: Path, rounds: int = 3) -> float:
    """The median CPU seconds of a steady round, after the first round (bench/fleet.py's)."""
    import fleet  # noqa: PLC0415

    store = directory / f"native-{os.getpid()}.db"
    config = fleet.parse(fleet.config_text(count, store, "fast"))
    daemon = await fleet.Daemon.open(
        config, fleet.SqliteStore(store), metrics=fleet.Metrics(), rng=random.Random(1)
    )
    fleet.gctune.settle()
    await daemon.run_once()
    spent = []
    for day in range(1, rounds + 1):
        started = time.process_time()
        await daemon.run_once(daemon.clock() + timedelta(days=day))
        spent.append(time.process_time() - started)
    await daemon.shutdown()
    return statistics.median(spent)


def compiled_tree(work: Path) -> Path:
    """A copy of the package with its native modules compiled (hatch_build.py builds them)."""
    sys.path.insert(0, str(ROOT))
    from hatch_build import build_extensions, modules, why_not  # noqa: PLC0415

    reason = why_not()
    if reason is not None:
        sys.exit(f"native: cannot compile: {reason}")
    tree = work / "compiled"
    shutil.copytree(
        ROOT / "domainwatch", tree / "domainwatch", ignore=shutil.ignore_patterns("*.so", "__pycache__")
    )
    build_extensions(modules(), tree)
    return tree


def measure(tree: Path, directory: Path, domains: int) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", "--tree", str(tree), "--directory", str(directory)]
    shown = subprocess.run([*command, "--domains", str(domains)], capture_output=True, text=True, check=False)
    if shown.returncode:
        sys.exit(f"native: the {tree.name} build failed:\n{shown.stderr[-3000:]}")
    return dict(json.loads(shown.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--domains", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--tree", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--directory", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    sys.path.insert(0, str(ROOT / "bench"))
    import fleet  # noqa: PLC0415
    from bare_loop import measure as bare_loop  # noqa: PLC0415

    n = args.domains
    with (
        tempfile.TemporaryDirectory(prefix="domainwatch-native-") as work,
        fleet.serving_zone(n) as directory,
    ):
        builds = {"pure": ROOT, "compiled": compiled_tree(Path(work))}
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in builds}
        bare = []
        for _ in range(args.runs):  # alternately, so that both see the same machine
            bare.append(bare_loop(fleet.ADDRESS, n, fleet.ZONE))
            for name, tree in builds.items():
                runs[name].append(measure(tree, directory, n))
    report(n, args.runs, statistics.median(bare), runs)


def report(n: int, count: int, bare: float, runs: dict[str, list[dict[str, Any]]]) -> None:
    digests = {r["digest"] for rs in runs.values() for r in rs}
    print(
        f"domainwatch native benchmark: {n} domains, medians of {count} runs, alternately; bare loop {bare:.0f} domains/s"
    )
    print(
        f"{'build':<10} {'modules compiled':>17} {'check, domains/s':>17} {'of bare loop':>13} {'CPU s/1k':>9} {'steady round CPU s':>19}"
    )
    medians = {}
    for name, rs in runs.items():
        rate = n / statistics.median(r["check_s"] for r in rs)
        cpu_per_k = statistics.median(r["check_cpu"] for r in rs) / n * 1000
        steady = statistics.median(r["steady_cpu"] for r in rs)
        medians[name] = (rate, steady)
        compiled = len(rs[0]["compiled"])
        print(
            f"{name:<10} {compiled:>17} {rate:>17.0f} {rate / bare:>12.1%} {cpu_per_k:>9.2f} {steady:>19.2f}"
        )
    (pure_rate, pure_steady), (fast_rate, fast_steady) = medians["pure"], medians["compiled"]
    print(
        f"compiled / pure: check {fast_rate / pure_rate:.2f}x, steady round CPU {fast_steady / pure_steady:.2f}x;"
        f" results identical: {len(digests) == 1}"
    )
    print(json.dumps({"domains": n, "bare": bare, "runs": runs}))


if __name__ == "__main__":
    main()
