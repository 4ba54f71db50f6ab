"""The fleet benchmark: domainwatch against the physical ceiling, in one run (make bench).

Serves a synthetic zone of N domains (about 10% broken in varied ways, shared SPF includes) from
Knot DNS on 127.0.0.2:53 pinned to core 0, then measures, pinned to core 1, medians of --runs:

  * the server's ceiling with dnsperf on the same query mix;
  * a one-shot check of all N domains (fast transport), and the dnspython transport on the same
    fleet (its results must be identical);
  * one full daemon round (engine + SQLite store) and the daemon's RSS;
  * checkdmarc (the sequential peer, own venv) on 200 of the domains;
  * /metrics render time and size for the fleet, and start-up time with its store.

Usage: python bench/fleet.py [--domains 10000] [--runs 3]   (as root: binds port 53, pins cores)
"""

from __future__ import annotations

import argparse
import base64
import gzip
import hashlib
import json
import os
import random
import re
import resource
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import dns.exception  # noqa: E402
import dns.message  # noqa: E402
import dns.query  # noqa: E402
import structlog  # noqa: E402
from bare_loop import measure as bare_loop  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402

from domainwatch.checks.running.runner import check_many  # noqa: E402
from domainwatch.config.loader import parse, read_mapping  # noqa: E402
from domainwatch.config.plan import plan  # noqa: E402
from domainwatch.config.schema import MetricsConfig  # noqa: E402
from domainwatch.daemon.daemon import Daemon  # noqa: E402
from domainwatch.dns.batch import resolve_all  # noqa: E402
from domainwatch.dns.factory import close, resolver_from  # noqa: E402
from domainwatch.metrics.exposition import Exposition  # noqa: E402
from domainwatch.metrics.instruments import Metrics  # noqa: E402
from domainwatch.metrics.selection import LARGE_FLEET_DENY  # noqa: E402
from domainwatch.runtime import aio, gctune  # noqa: E402
from domainwatch.store.sqlite import SqliteStore  # noqa: E402

ADDRESS, ZONE, PROVIDERS = "127.0.0.2", "bench.test", 5
LARGE_FLEET = MetricsConfig(deny=list(LARGE_FLEET_DENY))


def public_key() -> str:
    """A real 2048-bit RSA public key (base64 DER), as an ESP would publish for DKIM."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode()


KEY = public_key()


def zone_text(count: int) -> str:
    lines = [
        f"$ORIGIN {ZONE}.",
        "$TTL 300",
        f"@ IN SOA ns.{ZONE}. host.{ZONE}. 1 3600 600 86400 300",
        f"@ IN NS ns.{ZONE}.",
        f"ns IN A {ADDRESS}",
        "mx.prov IN A 192.0.2.25",
        "in.prov IN A 192.0.2.26",
        '_dmarc IN TXT "v=DMARC1; p=none; rua=mailto:d@bench.test"',
    ]
    lines += [
        f'spf{k}.prov IN TXT "v=spf1 ip4:192.0.{k}.0/24 include:common.prov.{ZONE} -all"'
        for k in range(PROVIDERS)
    ]
    lines.append('common.prov IN TXT "v=spf1 ip4:198.51.100.0/24 ~all"')
    for n in range(count):
        d, k, broken = f"d{n}", n % PROVIDERS, n % 10 == 0
        kind = (n // 10) % 5
        spf = f"v=spf1 include:spf{k}.prov.{ZONE} ~all"
        if broken and kind == 0:
            spf = "v=spf1 include:elsewhere.example +all"
        lines.append(f'send.{d} IN TXT "{spf}"')
        lines.append(f"send.{d} IN MX 10 mx.prov.{ZONE}.")
        if not (broken and kind == 1):
            lines.append(f's1._domainkey.{d} IN TXT "v=DKIM1; k=rsa; p={KEY[:200]}" "{KEY[200:]}"')
        lines.append(f"{d} IN MX {'0 .' if broken and kind == 2 else f'10 in.prov.{ZONE}.'}")
        if not (broken and kind == 3):
            policy = "none; pct=50" if broken and kind == 4 else "reject"
            lines.append(f'_dmarc.{d} IN TXT "v=DMARC1; p={policy}; rua=mailto:r@{d}.{ZONE}"')
    return "\n".join(lines) + "\n"


def config_text(count: int, store: Path, transport: str) -> str:
    domains = "".join(
        f"  - {{name: d{n}.{ZONE}, sending: {{spf: {{include: [spf{n % PROVIDERS}.prov.{ZONE}]}}, "
        f"mx: {{host: mx.prov.{ZONE}}}, dkim: [{{selector: s1}}]}}, receiving: {{mx: [{{host: in.prov.{ZONE}}}]}}}}\n"
        for n in range(count)
    )
    return (
        f"resolver: {{nameservers: ['{ADDRESS}:53'], timeout: 2s, attempts: 2, max_qps: 0, transport: {transport}}}\n"
        f"storage: {{path: '{store}'}}\nmax_concurrent_checks: 512\ndomains:\n{domains}"
    )


def start_knot(directory: Path, count: int) -> subprocess.Popen[bytes]:
    (directory / f"{ZONE}.zone").write_text(zone_text(count))
    (directory / "knot.conf").write_text(f"""server:
    rundir: "{directory}"
    listen: {ADDRESS}@53
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
database:
    storage: "{directory}/db"
control:
    listen: "{directory}/knot.sock"
log:
  - target: stderr
    any: error
template:
  - id: default
    storage: "{directory}"
zone:
  - domain: {ZONE}
    file: "{ZONE}.zone"
""")
    process = subprocess.Popen(
        ["taskset", "-c", "0", "knotd", "-c", str(directory / "knot.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(200):
        if process.poll() is not None:
            # A stale knotd from an interrupted run holding the port would answer
            # with the wrong zone size, so refuse to measure against it.
            raise RuntimeError(f"knotd exited with {process.returncode}; is {ADDRESS}:53 in use?")
        try:
            answer = dns.query.udp(dns.message.make_query(f"ns.{ZONE}", "A"), ADDRESS, timeout=0.2)
            if answer.answer:
                return process
        except (dns.exception.Timeout, OSError):
            pass
        time.sleep(0.1)
    raise RuntimeError("knotd did not start")


def dnsperf(directory: Path, count: int, seconds: int = 8) -> float:
    queries = directory / "queries.txt"
    with queries.open("w") as out:
        for n in range(count):
            d = f"d{n}.{ZONE}"
            out.write(f"send.{d} TXT\nsend.{d} MX\ns1._domainkey.{d} TXT\n{d} MX\n_dmarc.{d} TXT\n")
    result = subprocess.run(
        [
            "taskset",
            "-c",
            "1",
            "dnsperf",
            "-s",
            ADDRESS,
            "-d",
            str(queries),
            "-l",
            str(seconds),
            "-c",
            "8",
            "-T",
            "1",
            "-q",
            "500",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    match = re.search(r"Queries per second:\s+([0-9.]+)", result.stdout)
    if not match:
        raise RuntimeError(result.stdout + result.stderr)
    return float(match.group(1))


class Counting:
    def __init__(self, inner: Any) -> None:
        self.inner, self.count = inner, 0

    async def resolve(self, query: Any) -> Any:
        self.count += 1
        return await self.inner.resolve(query)

    async def resolve_many(self, queries: Any) -> Any:
        self.count += len(queries)
        return await resolve_all(self.inner, queries)


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def one_shot(count: int, directory: Path, transport: str) -> tuple[float, float, int, str]:
    config = parse(config_text(count, directory / "unused.db", transport))
    work = [(d.name, plan(d)) for d in config.domains]
    gctune.settle()  # as `domainwatch check` does before checking
    resolver = resolver_from(config.resolver)
    counting = Counting(resolver)
    started, cpu0 = time.perf_counter(), cpu()
    reports = await check_many(work, counting, config.resolver, concurrency=512)
    elapsed, spent = time.perf_counter() - started, cpu() - cpu0
    await close(resolver)
    # A digest, not the reports: a fleet's worth of result dicts kept alive would burden the
    # collector in the daemon round measured next.
    digest = hashlib.sha256(json.dumps([r.as_dict() for r in reports], sort_keys=True).encode()).hexdigest()
    return elapsed, spent, counting.count, digest


async def daemon_round(count: int, directory: Path) -> dict[str, Any]:
    store_path = directory / f"daemon-{time.monotonic_ns()}.db"
    config = parse(config_text(count, store_path, "fast"))
    metrics = Metrics()
    started = time.perf_counter()
    daemon = await Daemon.open(config, SqliteStore(store_path), metrics=metrics, rng=random.Random(1))
    exposition = Exposition(metrics.registry, daemon.fleet)
    daemon.fleet.listeners.append(exposition)
    gctune.settle()  # as `domainwatch run` does once the store is loaded
    setup = time.perf_counter() - started
    cpu0, round_started = cpu(), time.perf_counter()
    await daemon.run_once()
    round_seconds, round_cpu = time.perf_counter() - round_started, cpu() - cpu0
    # The steady state: every domain due again, its records as they were in the first round.
    cpu1, steady_started = cpu(), time.perf_counter()
    await daemon.run_once(daemon.clock() + timedelta(days=1))
    steady_seconds, steady_cpu = time.perf_counter() - steady_started, cpu() - cpu1
    render_started = time.perf_counter()
    body, _ = exposition.render()
    render = time.perf_counter() - render_started
    # A second scrape with nothing changed in between: every domain's text is reused.
    again_started = time.perf_counter()
    exposition.render()
    render_again = time.perf_counter() - again_started
    gzip_started = time.perf_counter()
    exposition.render("gzip")
    render_gzip_again = time.perf_counter() - gzip_started
    gzipped = len(gzip.compress(body, 1))
    # The set docs/metrics.md recommends for large fleets: its first render, and its size.
    exposition.apply_config(config.model_copy(update={"metrics": LARGE_FLEET}))
    small_started = time.perf_counter()
    small, _ = exposition.render()
    render_small = time.perf_counter() - small_started
    await daemon.shutdown()
    restart = time.perf_counter()
    again = await Daemon.open(config, SqliteStore(store_path), rng=random.Random(1))
    startup = time.perf_counter() - restart
    await again.shutdown()
    tables = store_tables(store_path)
    return {
        "store_bytes": sum(tables.values()),
        "store_tables": tables,
        "store": str(store_path),
        "setup": setup,
        "round": round_seconds,
        "round_cpu": round_cpu,
        "steady": steady_seconds,
        "steady_cpu": steady_cpu,
        "render": render,
        "render_again": render_again,
        "render_gzip_again": render_gzip_again,
        "render_small": render_small,
        "metrics_bytes_small": len(small),
        "metrics_bytes": len(body),
        "metrics_gzip": gzipped,
        "startup": startup,
    }


def store_tables(path: Path) -> dict[str, int]:
    """Bytes on disk per table and index of a SQLite store (its pages, from dbstat), after a
    checkpoint; the file's size as one entry where dbstat is not compiled in."""
    db = sqlite3.connect(path)
    try:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return dict(db.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC"))
    except sqlite3.OperationalError:
        return {"(file)": path.stat().st_size}
    finally:
        db.close()


def daemon_process(count: int, directory: Path, store_path: Path, *, small: bool = False) -> dict[str, float]:
    """`domainwatch run` as its own process on a store from an earlier round: seconds from launch
    to /readyz 200, a gzipped /metrics scrape, and the process's own peak RSS (`small`: as
    docs/performance.md advises for large fleets, the large-fleet metrics set and the config
    written as JSON)."""
    listen = "127.0.0.1:18427"
    config = directory / "daemon.yaml"
    text = config_text(count, store_path, "fast") + f"server: {{listen: '{listen}'}}\n"
    if small:
        document = read_mapping(text, "bench")
        document["metrics"] = {"deny": list(LARGE_FLEET_DENY)}
        text = json.dumps(document)
    config.write_text(text)
    code = "import sys; from domainwatch.cli.main import main; sys.exit(main(sys.argv[1:]))"
    started = time.perf_counter()
    process = subprocess.Popen(
        ["taskset", "-c", "1", sys.executable, "-c", code, "run", "-c", str(config), "--log-level", "error"],
        cwd=ROOT,
    )
    try:
        ready = _wait_ready(f"http://{listen}/readyz", process) - started
        warm = _wait_warm(f"http://{listen}/readyz") - started
        scrape, size = _scrape_gzipped(f"http://{listen}/metrics")
        scrape_again, _ = _scrape_gzipped(f"http://{listen}/metrics")  # the texts are formatted now
        status = Path(f"/proc/{process.pid}/status").read_text()
        peak, rss = (
            int(re.search(rf"{field}:\s+(\d+) kB", status).group(1)) / 1024  # type: ignore[union-attr]
            for field in ("VmHWM", "VmRSS")
        )
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(60)
    return {
        "ready": ready,
        "warm": warm,
        "scrape": scrape,
        "scrape_again": scrape_again,
        "scrape_gzip_bytes": size,
        "daemon_peak_rss_mb": peak,
        "daemon_rss_mb": rss,
    }


def _scrape_gzipped(url: str) -> tuple[float, int]:
    started = time.perf_counter()
    request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(request, timeout=120) as response:
        size = len(response.read())
    return time.perf_counter() - started, size


def _wait_ready(url: str, process: subprocess.Popen[bytes]) -> float:
    while process.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return time.perf_counter()
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.05)
    raise RuntimeError(f"domainwatch run exited with {process.returncode}")


def _wait_warm(url: str) -> float:
    """When /readyz says the per-domain metrics text is formatted (the start-up warm-up)."""
    while True:
        with urllib.request.urlopen(url, timeout=30) as response:
            if json.load(response).get("metrics_warm"):
                return time.perf_counter()
        time.sleep(0.05)


def checkdmarc(count: int) -> float:
    venv = ROOT / "bench" / ".venv-checkdmarc"
    if not (venv / "bin" / "checkdmarc").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "checkdmarc"], check=True)
    domains = [f"d{n}.{ZONE}" for n in range(min(200, count))]
    started = time.perf_counter()
    subprocess.run(
        [
            "taskset",
            "-c",
            "1",
            str(venv / "bin" / "checkdmarc"),
            "-n",
            ADDRESS,
            "--skip-tls",
            "-t",
            "2",
            "-f",
            "json",
            *domains,
        ],
        capture_output=True,
        check=False,
    )
    return len(domains) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--domains", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-peer", action="store_true", help="do not run checkdmarc")
    parser.add_argument("--skip-dnspython", action="store_true", help="do not run the dnspython baseline")
    parser.add_argument("--keep-store", type=Path, help="copy the first run's SQLite store here, to study it")
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))
    gctune.tune()  # as every `domainwatch` process does at start (runtime/process.py)
    if shutil.which("knotd") is None or shutil.which("dnsperf") is None:
        sys.exit("needs knotd and dnsperf (Debian packages knot and dnsperf) and root")
    with serving_zone(args.domains) as directory:
        run_benchmark(args, directory)


@contextmanager
def serving_zone(count: int) -> Iterator[Path]:
    """Knot serving a zone of `count` domains on core 0, this process pinned to core 1."""
    os.sched_setaffinity(0, {1})
    # Turn SIGTERM into SystemExit so the finally below still stops knotd.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    directory = Path(tempfile.mkdtemp(prefix="domainwatch-bench-"))
    knot = start_knot(directory, count)
    try:
        yield directory
    finally:
        knot.send_signal(signal.SIGTERM)
        knot.wait(10)
        shutil.rmtree(directory, ignore_errors=True)


def run_benchmark(args: argparse.Namespace, directory: Path) -> None:
    n = args.domains
    ceiling = statistics.median(dnsperf(directory, n) for _ in range(args.runs))
    bare = statistics.median(bare_loop(ADDRESS, n, ZONE) for _ in range(args.runs))
    fast = [aio.run(one_shot(n, directory, "fast")) for _ in range(args.runs)]
    slow = (
        []
        if args.skip_dnspython
        else [aio.run(one_shot(n, directory, "dnspython")) for _ in range(args.runs)]
    )
    identical = all(run[3] == (slow or fast)[0][3] for run in fast + slow)
    rounds = [aio.run(daemon_round(n, directory)) for _ in range(args.runs)]
    processes = [daemon_process(n, directory, Path(r["store"])) for r in rounds]
    small = daemon_process(n, directory, Path(rounds[0]["store"]), small=True)
    if args.keep_store:
        shutil.copyfile(rounds[0]["store"], args.keep_store)
    peer = statistics.median(checkdmarc(n) for _ in range(args.runs)) if not args.skip_peer else float("nan")
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def row(label: str, runs: list[tuple[float, float, int, Any]]) -> tuple[float, float]:
        seconds = statistics.median(r[0] for r in runs)
        cpu_seconds = statistics.median(r[1] for r in runs)
        queries = statistics.median(r[2] for r in runs)
        print(f"{label:<38} {n / seconds:>10.0f} {queries / seconds:>10.0f} {cpu_seconds / n * 1000:>10.2f}")
        return n / seconds, queries / seconds

    print(
        f"domainwatch fleet benchmark: {n} domains, median of {args.runs} runs, Knot on core 0, client on core 1"
    )
    print(f"{'':<38} {'domains/s':>10} {'queries/s':>10} {'CPU s/1k':>10}")
    print(f"{'dnsperf ceiling (same query mix)':<38} {'':>10} {ceiling:>10.0f}")
    print(f"{'bare loop (one socket, no checks)':<38} {bare:>10.0f} {bare * 5:>10.0f}")
    fast_dps, fast_qps = row("domainwatch check (fast transport)", fast)
    slow_dps, _ = row("domainwatch check (dnspython transport)", slow) if slow else (float("nan"), 0.0)
    print(f"{'checkdmarc, 200 domains':<38} {peer:>10.1f}")
    print(f"results identical across transports: {identical}")
    print(
        f"ratios: fast/bare loop domains {fast_dps / bare:.0%}; "
        f"fast/dnsperf queries {fast_qps / ceiling:.1%}; fast/checkdmarc domains {fast_dps / peer:.0f}x; "
        f"fast/dnspython domains {fast_dps / slow_dps:.1f}x"
    )
    keys = [
        "setup",
        "round",
        "round_cpu",
        "steady",
        "steady_cpu",
        "render",
        "render_again",
        "render_gzip_again",
        "metrics_bytes",
        "metrics_gzip",
        "startup",
        "render_small",
        "metrics_bytes_small",
        "store_bytes",
    ]
    med = {k: statistics.median(r[k] for r in rounds) for k in keys}
    med |= {k: statistics.median(p[k] for p in processes) for k in processes[0]}
    print(
        f"daemon: one round {med['round']:.2f}s ({n / med['round']:.0f} domains/s, {med['round_cpu']:.2f} CPU s); "
        f"start-up with the store {med['startup']:.2f}s; /metrics {med['render'] * 1000:.0f} ms (again, nothing changed: "
        f"{med['render_again'] * 1000:.0f} ms, gzipped {med['render_gzip_again'] * 1000:.0f} ms), "
        f"{med['metrics_bytes'] / 1e6:.1f} MB ({med['metrics_gzip'] / 1e6:.2f} MB gzip); peak RSS {rss_mb:.0f} MB"
    )
    biggest = sorted(rounds[0]["store_tables"].items(), key=lambda kv: -kv[1])[:5]
    print(
        f"store after the rounds (SQLite): {med['store_bytes'] / n:.0f} bytes a domain; largest: "
        + ", ".join(f"{name} {size / n:.0f}" for name, size in biggest)
    )
    print(
        f"daemon steady state: a round with nothing changed {med['steady']:.2f}s, {med['steady_cpu']:.2f} CPU s "
        f"= {med['steady_cpu'] / 300:.0%} of a core on a 5-minute interval"
    )
    print(
        f"`domainwatch run` on that store: ready {med['ready']:.2f}s after launch, metrics warm "
        f"{med['warm']:.2f}s; gzipped /metrics scrape "
        f"{med['scrape']:.2f}s, again {med['scrape_again']:.2f}s ({med['scrape_gzip_bytes'] / 1e6:.1f} MB); daemon RSS {med['daemon_rss_mb']:.0f} MB "
        f"(peak {med['daemon_peak_rss_mb']:.0f} MB)"
    )
    print(
        f"with the large-fleet metrics set (and the config as JSON): /metrics {med['metrics_bytes_small'] / 1e6:.1f} MB, first render "
        f"{med['render_small'] * 1000:.0f} ms; `domainwatch run` ready {small['ready']:.2f}s, first scrape "
        f"{small['scrape']:.2f}s, RSS {small['daemon_rss_mb']:.0f} MB (peak {small['daemon_peak_rss_mb']:.0f} MB)"
    )
    targets(n, bare, fast_dps, fast_qps, ceiling=ceiling, peer=peer, med=med, small=small)
    print(
        json.dumps(
            {
                "domains": n,
                "dnsperf_qps": ceiling,
                "bare_loop_domains_per_s": bare,
                "fast_domains_per_s": fast_dps,
                "fast_qps": fast_qps,
                "dnspython_domains_per_s": slow_dps,
                "checkdmarc_domains_per_s": peer,
                **med,
                "peak_rss_mb": rss_mb,
                "identical": identical,
                "small_process": small,
            }
        )
    )


def targets(
    n: int,
    bare: float,
    dps: float,
    qps: float,
    *,
    ceiling: float,
    peer: float,
    med: dict[str, Any],
    small: dict[str, float],
) -> None:
    """The table of issue 18: each figure beside its goal (ratios measured in this run)."""
    rows = [
        ("`check` as a share of the bare loop", f"{dps / bare:.0%}", ">= 50%"),
        ("`check` vs checkdmarc, domains/s", f"{dps / peer:.0f}x", ">= 50x"),
        (f"`check`, {n} domains, domains/s", f"{dps:.0f}", ">= 5,000 (quiet machine)"),
        ("share of the dnsperf ceiling (queries/s)", f"{qps / ceiling:.1%}", "reported"),
        (
            "replica RSS after a round (`run` on the store)",
            f"{med['daemon_peak_rss_mb']:.0f} MB",
            "< 400 MB at 100k",
        ),
        ("`domainwatch run` ready after launch", f"{med['ready']:.1f} s", "< 10 s at 100k"),
        ("  the same, config as JSON, large-fleet metrics set", f"{small['ready']:.1f} s", "< 10 s at 100k"),
        ("first `/metrics` scrape after ready (= warm)", f"{med['scrape']:.2f} s", "< 1 s at 100k"),
        ("steady round, share of a core at 5 min", f"{med['steady_cpu'] / 300:.1%}", "< 10% at 100k"),
    ]
    print(f"{'target':<50} {'now':>12}  goal")
    for label, now, goal in rows:
        print(f"{label:<50} {now:>12}  {goal}")


if __name__ == "__main__":
    main()
