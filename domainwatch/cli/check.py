"""`domainwatch check`, `inspect` and `config validate`: one-shot diagnoses, and the config check."""

from __future__ import annotations

import argparse
import sys
import time

from domainwatch.checks.kinds.mx import MAX_RECEIVING_HOSTS, parse_mx
from domainwatch.checks.running.runner import check_with
from domainwatch.cli.common import EXIT_ATTENTION, EXIT_OK, EXIT_USAGE, load_config, resolver_settings
from domainwatch.cli.progress import Progress, planned_queries, qps_notice, summary
from domainwatch.config.plan import inspect_plan, plan, tls_inspect_plan
from domainwatch.config.schema import ProbesConfig, ResolverConfig
from domainwatch.daemon.sharding import owns
from domainwatch.dns.factory import close, resolver_from
from domainwatch.dns.resolver import Query
from domainwatch.model import DomainReport
from domainwatch.present.report import render_json, render_table
from domainwatch.runtime import aio, gctune


def run_validate(args: argparse.Namespace) -> int:
    config = load_config(args.file)
    if config is None:
        return EXIT_USAGE
    print(f"{args.file}: ok ({len(config.domains)} domains)")
    return EXIT_OK


def run_check(args: argparse.Namespace) -> int:
    with gctune.gc_paused():  # until the plans are made and settled
        return _check(args)


def _check(args: argparse.Namespace) -> int:
    config = load_config(args.config, args)
    if config is None:
        return EXIT_USAGE
    unknown = [name for name in args.domain if config.domain(name) is None]
    if unknown:
        print(f"not in {args.config}: {', '.join(unknown)}", file=sys.stderr)
        return EXIT_USAGE
    sharding = config.sharding
    selected = [
        d
        for d in config.domains
        if (not args.domain or d.name in args.domain) and owns(d.name, sharding.shard, sharding.total_shards)
    ]
    settings = resolver_settings(config.resolver, args)
    work = [(d.name, plan(d, config.probes.implied)) for d in selected if d.verify]
    gctune.settle()
    notice = qps_notice(len(work), planned_queries(work), settings.max_qps)
    if notice is not None and not args.quiet:
        print(f"check: {notice}", file=sys.stderr)
    started = time.monotonic()
    progress = Progress(len(work), "domain", enabled=not args.quiet)
    try:
        reports = aio.run(check_with(work, settings, config.probes, on_done=lambda _: progress.advance()))
    finally:
        progress.close()
    skipped = [d.name for d in selected if not d.verify]
    _print(reports, skipped, args.format)
    if not args.quiet:
        print(f"check: {summary(reports, time.monotonic() - started)}", file=sys.stderr)
    return EXIT_OK if all(r.ok for r in reports) else EXIT_ATTENTION


def run_inspect(args: argparse.Namespace) -> int:
    settings = resolver_settings(ResolverConfig(), args)
    expectations = inspect_plan(args.domain, args.dkim_selector)
    probes = None
    if args.tls:
        probes = ProbesConfig(
            smtp_port=args.smtp_port,
            https_port=args.https_port,
            ca_file=args.ca_file,
            allow_private_addresses=args.allow_private_addresses,
        )
        hosts = aio.run(published_mx(args.domain, settings))
        if len(hosts) > MAX_RECEIVING_HOSTS:
            skipped = len(hosts) - MAX_RECEIVING_HOSTS
            shown = f"the first {MAX_RECEIVING_HOSTS} of {len(hosts)} MX hosts ({skipped} skipped)"
            print(f"inspect: probing {shown}", file=sys.stderr)
        expectations += tls_inspect_plan(args.domain, hosts[:MAX_RECEIVING_HOSTS])
    reports = aio.run(check_with([(args.domain, expectations)], settings, probes))
    _print(reports, [], args.format)
    return EXIT_OK if all(r.ok for r in reports) else EXIT_ATTENTION


async def published_mx(name: str, settings: ResolverConfig) -> list[str]:
    """The MX hosts a domain publishes (none on an error: the MX record reports it)."""
    resolver = resolver_from(settings)
    try:
        lookup = await resolver.resolve(Query.of(name, "MX"))
    finally:
        await close(resolver)
    hosts = (parse_mx(value)[1] for value in lookup.records)
    return [h for h in dict.fromkeys(hosts) if h and h != "."]


def _print(reports: list[DomainReport], skipped: list[str], fmt: str) -> None:
    sys.stdout.write(
        render_json(reports, skipped) + "\n" if fmt == "json" else render_table(reports, skipped)
    )
