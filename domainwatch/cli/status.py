"""`domainwatch status` and `domainwatch export`: the stored state, read offline (also while the
daemon runs)."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TextIO

from domainwatch.checks.registry import facts_of
from domainwatch.cli.common import EXIT_USAGE, load_config
from domainwatch.cli.progress import Progress
from domainwatch.config.document import DocumentError, parse_document
from domainwatch.config.domains import DomainConfig
from domainwatch.config.plan import DomainPlan, Source
from domainwatch.config.schema import Config
from domainwatch.daemon.sharding import owns
from domainwatch.present.csv import DOMAIN_COLUMNS, HISTORY_COLUMNS, csv_chunks, domain_row, history_row
from domainwatch.present.views import domain_view
from domainwatch.runtime import aio
from domainwatch.service.filters import EVERY_DOMAIN, DomainFilter, Key, sort_key
from domainwatch.state.domain import DomainTrack
from domainwatch.state.rules import Status, settled
from domainwatch.store.base import Store, StoreError
from domainwatch.store.opening import open_store


def run_status(args: argparse.Namespace) -> int:
    config = load_config(args.config, args)
    if config is None:
        return EXIT_USAGE
    return aio.run(print_status(config, args.format, _filters(args)))


def run_export(args: argparse.Namespace) -> int:
    config = load_config(args.config, args)
    if config is None:
        return EXIT_USAGE
    return aio.run(export_csv(config, args.what, args.since, sys.stdout, quiet=args.quiet))


def _filters(args: argparse.Namespace) -> tuple[DomainFilter, str, str]:
    wanted = DomainFilter(
        statuses=frozenset(Status(s) for s in args.status),
        source=args.source,
        capabilities=frozenset(args.capability),
        findings=frozenset(args.finding),
    )
    return wanted, args.sort, args.order


async def status_document(
    config: Config, store: Store, shown: tuple[DomainFilter, str, str] = (EVERY_DOMAIN, "name", "asc")
) -> dict[str, Any]:
    """The stored state of every domain the filter admits, from the config and the API
    (never-seen ones as not_started), in the order asked."""
    wanted, sort, order = shown
    tracks = await store.load()
    keyed: list[tuple[Key, dict[str, Any]]] = []
    for domain, source in await watched(config, store):
        plan = DomainPlan.of(domain, config.defaults, source, config.probes.implied)
        track = tracks.get(domain.name)
        results = await store.results(domain.name) if track is not None else {}
        seen = track or DomainTrack(domain.name)
        if not wanted.admits(domain.name, seen, plan, facts_of(results)):
            continue
        view = (
            domain_view(track, plan, results)
            if track is not None
            else {"name": domain.name, "status": "not_started", "records": [], "checked_at": None}
        )
        keyed.append((sort_key(sort, domain.name, seen, plan), view))
    keyed.sort(key=lambda entry: entry[0], reverse=order == "desc")
    return {"domains": [view for _, view in keyed]}


async def watched(config: Config, store: Store) -> list[tuple[DomainConfig, Source]]:
    """This shard's domains as the daemon sees them: the config's, then the API's."""
    sharding = config.sharding
    out: list[tuple[DomainConfig, Source]] = [(d, "config") for d in config.domains]
    for name, stored in sorted((await store.documents()).items()):
        if config.domain(name) is None:
            with contextlib.suppress(DocumentError):  # the daemon logs and skips it too
                out.append((parse_document(dict(stored.body), stored=True)[1], "api"))
    return [(d, source) for d, source in out if owns(d.name, sharding.shard, sharding.total_shards)]


async def open_readonly(config: Config) -> Store | None:
    """The store for an offline command; None, with the reason on stderr, when it cannot open."""
    try:
        return await open_store(config.storage.location, readonly=True)
    except StoreError as exc:
        print(str(exc), file=sys.stderr)
        return None


async def print_status(config: Config, fmt: str, shown: tuple[DomainFilter, str, str]) -> int:
    """`domainwatch status`: 0 when every domain shown is verified (or not verified on purpose)."""
    store = await open_readonly(config)
    if store is None:
        return 2
    try:
        document = await status_document(config, store, shown)
    finally:
        await store.close()
    if fmt == "json":
        print(json.dumps(document, indent=2))
    else:
        sys.stdout.write(status_table(document))
    return 0 if all(settled(Status(d["status"])) for d in document["domains"]) else 1


def status_table(document: dict[str, Any]) -> str:
    lines = [f"{'DOMAIN':<32} {'STATUS':<19} {'SINCE':<21} {'DEADLINE':<21} CAPABILITIES"]
    for domain in document["domains"]:
        capabilities = " ".join(f"{k}={v}" for k, v in domain.get("capabilities", {}).items())
        stale = "  (stale)" if domain.get("stale") else ""
        lines.append(
            f"{domain['name']:<32} {domain['status']:<19} {domain.get('status_since') or '-':<21} "
            f"{domain.get('window_deadline') or '-':<21} {capabilities}{stale}"
        )
        for record in domain["records"]:
            role = "" if record["required"] else " (advisory)"
            lines.append(
                f"    {record['record']:<20} {record['status']:<19} {record['state'] or '-':<8}{role}"
            )
    return "\n".join(lines) + "\n"


async def export_csv(
    config: Config, what: str, since: datetime | None, out: TextIO, *, quiet: bool = True
) -> int:
    """`domainwatch export`: the same CSV as the API's exports, from the store, offline (a
    progress bar on stderr on a terminal, unless quiet)."""
    store = await open_readonly(config)
    if store is None:
        return 2
    try:
        if what == "history":
            header: Sequence[str] = HISTORY_COLUMNS
            progress = Progress(None, "event", enabled=not quiet)
            rows = []
            async for e in store.iter_history(since):
                rows.append(history_row(e))
                progress.advance()
        else:
            views = (await status_document(config, store))["domains"]
            header = DOMAIN_COLUMNS
            progress = Progress(len(views), "domain", enabled=not quiet)
            rows = []
            for v in views:
                progress.advance()
                if v.get("records"):
                    rows.append(domain_row(v, facts_of(await store.results(v["name"])).findings))
        progress.close()
        for chunk in csv_chunks(header, rows):
            out.write(chunk)
    finally:
        await store.close()
    return 0
