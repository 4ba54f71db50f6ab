"""Raw resolver throughput: the fast transport, dnspython, and aiodns (c-ares), same server.

The issue asked us to evaluate pycares/aiodns as an alternative to our own codec. This serves the
fleet benchmark's zone from Knot (core 0) and, pinned to core 1, sends its query mix (five
queries per domain) through each client with the same concurrency, twice in a row, and prints
queries/s for each pass and whether every answer matched the fast transport's.

A second pass faster than the first means the client cached answers: c-ares 1.34 keeps a query
cache by default (bounded by the TTL) that pycares does not let us turn off, and domainwatch must
never answer a round from data seen in an earlier one.

Usage: python bench/transports.py [--domains 10000] [--concurrency 256] [--loop asyncio]   (as root; aiodns optional)
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fleet import ADDRESS, ZONE, serving_zone  # noqa: E402

from domainwatch.dns.dnspython_resolver import DnsPythonResolver  # noqa: E402
from domainwatch.dns.fast.transport import FastResolver  # noqa: E402
from domainwatch.dns.resolver import Query, Resolver, parse_nameserver  # noqa: E402
from domainwatch.runtime import aio  # noqa: E402

Answer = tuple[str, ...]


def query_mix(count: int) -> list[Query]:
    mix = []
    for n in range(count):
        d = f"d{n}.{ZONE}"
        mix += [
            Query(f"send.{d}", "TXT"),
            Query(f"send.{d}", "MX"),
            Query(f"s1._domainkey.{d}", "TXT"),
            Query(d, "MX"),
            Query(f"_dmarc.{d}", "TXT"),
        ]
    return mix


async def run_pass(
    ask: Callable[[Query], Awaitable[Answer]], queries: Sequence[Query], concurrency: int
) -> tuple[float, list[Answer]]:
    answers: list[Answer] = [()] * len(queries)
    cursor = iter(range(len(queries)))

    async def worker() -> None:
        for index in cursor:
            answers[index] = await ask(queries[index])

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return len(queries) / (time.perf_counter() - started), answers


def ours(resolver: Resolver) -> Callable[[Query], Awaitable[Answer]]:
    async def ask(query: Query) -> Answer:
        lookup = await resolver.resolve(query)
        return tuple(sorted(lookup.records))

    return ask


def c_ares() -> Callable[[Query], Awaitable[Answer]] | None:
    try:
        import aiodns  # noqa: PLC0415 (optional: only this comparison needs it)
    except ImportError:
        return None
    resolver = aiodns.DNSResolver(nameservers=[ADDRESS], timeout=2, tries=2)

    def render(rdtype: str, record: Any) -> str:
        data = record.data
        if rdtype == "MX":
            host = data.exchange.rstrip(".").lower() or "."  # the null MX target is the root
            return f"{data.priority} {host}"
        return b"".join(data.data if isinstance(data.data, list) else [data.data]).decode()

    async def ask(query: Query) -> Answer:
        try:
            result = await resolver.query_dns(query.name, query.rdtype)
        except aiodns.error.DNSError:
            return ()
        return tuple(sorted(render(query.rdtype, r) for r in result.answer))

    return ask


async def measure(name: str, make: Callable[[], Any], queries: list[Query], concurrency: int) -> Any:
    ask = make()
    if ask is None:
        print(f"{name:<28} skipped (not installed: pip install aiodns)")
        return None
    first, answers = await run_pass(ask, queries, concurrency)
    second, _ = await run_pass(ask, queries, concurrency)
    return name, first, second, answers


async def main(args: argparse.Namespace) -> None:
    queries = query_mix(args.domains)
    server = [parse_nameserver(ADDRESS)]
    fast = FastResolver(server, timeout=2, attempts=2, max_qps=0)
    slow = DnsPythonResolver(server, timeout=2, attempts=2, max_qps=0)
    clients = [
        ("fast transport", lambda: ours(fast)),
        ("dnspython", lambda: ours(slow)),
        ("aiodns (c-ares)", c_ares),
    ]
    rows = [await measure(name, make, queries, args.concurrency) for name, make in clients]
    await fast.aclose()
    reference = rows[0][3]
    loop = type(asyncio.get_running_loop()).__module__.split(".")[0]
    print(
        f"{len(queries)} queries ({args.domains} domains), concurrency {args.concurrency}, event loop: {loop}"
    )
    print(f"{'client':<28} {'pass 1 q/s':>11} {'pass 2 q/s':>11} {'2nd/1st':>8}  answers differing")
    for row in rows:
        if row is not None:
            name, first, second, answers = row
            differing = [i for i, answer in enumerate(answers) if answer != reference[i]]
            print(f"{name:<28} {first:>11.0f} {second:>11.0f} {second / first:>8.2f}  {len(differing)}")
            for i in differing[:2]:
                print(f"    {queries[i]}: {answers[i]!r:.120} vs fast {reference[i]!r:.120}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--domains", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=256)
    parser.add_argument("--loop", choices=["uvloop", "asyncio"], default="uvloop")
    arguments = parser.parse_args()
    if shutil.which("knotd") is None:
        sys.exit("needs knotd (Debian package knot) and root")
    factory = aio.loop_factory() if arguments.loop == "uvloop" else None
    with serving_zone(arguments.domains), asyncio.Runner(loop_factory=factory) as runner:
        runner.run(main(arguments))
