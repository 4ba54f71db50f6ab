"""Memory under a resolver outage: the daemon checks N domains whose nameserver never answers,
for M minutes, and the process's RSS is sampled every minute (make soak; issue #19 item 11).

A timed-out query used to leave a reference cycle (an exception on a future, its traceback,
the frames awaiting it) that only a full collection freed: RSS rose about 1.3 MB a minute with
300 such domains. Flat RSS after the first minutes is the pass condition; the slope is printed.

Usage: python bench/soak.py [--domains 300] [--minutes 30]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import structlog  # noqa: E402

from domainwatch.config.loader import parse  # noqa: E402
from domainwatch.daemon.daemon import Daemon  # noqa: E402
from domainwatch.runtime import aio, gctune  # noqa: E402
from domainwatch.store.sqlite import SqliteStore  # noqa: E402
from domainwatch.testing import Behaviour, DnsTestServer  # noqa: E402


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def soak(domains: int, minutes: float, directory: Path) -> list[float]:
    async with DnsTestServer() as server:
        names = [f"d{n}.outage.test" for n in range(domains)]
        for name in names:
            for label in ("send", "resend._domainkey", "_dmarc"):
                server.behave(f"{label}.{name}", Behaviour.SILENT)
            server.behave(name, Behaviour.SILENT)
        entries = "".join(
            f"  - {{name: {n}, sending: {{spf: {{include: [amazonses.com]}}}}, "
            "receiving: {mx: [{host: mx.outage.test}]}}\n"
            for n in names
        )
        config = parse(
            f"resolver: {{nameservers: ['{server.address}'], timeout: 2s, attempts: 2, max_qps: 0}}\n"
            f"storage: {{path: '{directory / 'soak.db'}'}}\n"
            "defaults: {interval: 30s, pending_interval: 10s, recheck_interval: 10s}\n"
            "limits: {min_interval: 10s}\n"
            f"max_concurrent_checks: {domains}\ndomains:\n{entries}"
        )
        daemon = await Daemon.open(config, SqliteStore(config.storage.location.target), rng=random.Random(1))
        serving = asyncio.create_task(daemon.serve())
        samples = []
        started = time.monotonic()
        for minute in range(int(minutes) + 1):
            await asyncio.sleep(max(0.0, started + minute * 60 - time.monotonic()))
            samples.append(rss_mb())
            print(f"minute {minute:>3}: RSS {samples[-1]:7.1f} MB", flush=True)
        daemon.stop()
        await serving
        await daemon.shutdown()
    return samples


def slope(samples: list[float]) -> float:
    """MB per minute over the second half (the first minutes fill caches and pools)."""
    tail = samples[len(samples) // 2 :]
    if len(tail) < 2:
        return float("nan")
    return statistics.linear_regression(range(len(tail)), tail).slope


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--domains", type=int, default=300)
    parser.add_argument("--minutes", type=float, default=30)
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))
    gctune.tune()
    with tempfile.TemporaryDirectory(prefix="domainwatch-soak-") as directory:
        samples = aio.run(soak(args.domains, args.minutes, Path(directory)))
    print(
        f"soak: {args.domains} never-answering domains for {args.minutes:g} min; RSS {samples[0]:.1f} -> "
        f"{samples[-1]:.1f} MB; slope over the second half {slope(samples):+.2f} MB/min"
    )


if __name__ == "__main__":
    main()
