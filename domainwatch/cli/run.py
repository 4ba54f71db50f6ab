"""Process-level entry points: `domainwatch run` (signals, lifecycle) and `domainwatch status`."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from datetime import datetime
from typing import Any, TextIO

import structlog
from aiohttp import web

from domainwatch.config import Config
from domainwatch.daemon.daemon import Daemon, DomainPlan
from domainwatch.daemon.sharding import owns
from domainwatch.dns.resolver import Resolver
from domainwatch.metrics.instruments import Metrics
from domainwatch.present.csv import DOMAIN_COLUMNS, HISTORY_COLUMNS, csv_chunks, domain_row, history_row
from domainwatch.present.views import domain_view, settled
from domainwatch.runtime import gctune
from domainwatch.state.facts import facts_of
from domainwatch.state.rules import Status
from domainwatch.store.sqlite import Store, StoreError
from domainwatch.web.app import create_app
from domainwatch.webhooks.worker import WebhookWorker

log = structlog.get_logger("domainwatch")


async def run_daemon(config: Config, config_path: str | None, *, resolver: Resolver | None = None) -> int:
    """Run until SIGTERM or SIGINT; SIGHUP reloads the config. Returns the exit code."""
    try:
        store = Store(config.storage.path)
    except StoreError as exc:
        log.error("store_unusable", error=str(exc))  # noqa: TRY400 (the message says it all)
        return 2
    metrics = Metrics()
    daemon = Daemon(config, store, config_path=config_path, metrics=metrics, resolver=resolver)
    worker = WebhookWorker(config, store, clock=daemon.clock, metrics=metrics)
    daemon.on_events.append(lambda _: worker.wake())
    daemon.on_config.append(worker.apply_config)
    metrics.attach(daemon, worker)
    gctune.settle()
    runner = web.AppRunner(create_app(daemon, metrics, worker), access_log=None)
    await runner.setup()
    host, port = split_listen(config.server.listen)
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        log.error("listen_failed", listen=config.server.listen, error=str(exc))  # noqa: TRY400
        await runner.cleanup()
        store.close()
        return 2
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGHUP, daemon.reload)
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, daemon.stop)
    log.info("started", domains=len(config.domains), store=config.storage.path, listen=config.server.listen)
    delivering = asyncio.create_task(worker.serve())
    try:
        await daemon.serve()
    finally:
        worker.stop()
        await delivering  # in-flight deliveries settle (or are re-sent after a restart)
        await runner.cleanup()
        await daemon.shutdown()
        log.info("stopped")
    return 0


def split_listen(listen: str) -> tuple[str, int]:
    host, _, port = listen.rpartition(":")
    return host.strip("[]"), int(port)


def status_document(config: Config, store: Store) -> dict[str, Any]:
    """The stored state of every configured domain (never-seen ones as not_started)."""
    tracks = store.load()
    domains: list[dict[str, Any]] = []
    sharding = config.sharding
    for domain in (d for d in config.domains if owns(d.name, sharding.shard, sharding.total_shards)):
        plan = DomainPlan.of(domain, config.defaults)
        track = tracks.get(domain.name)
        if track is None:
            domains.append({"name": domain.name, "status": "not_started", "records": [], "checked_at": None})
            continue
        domains.append(domain_view(track, plan.specs, plan.rules, store.results(domain.name)))
    return {"domains": domains}


def open_readonly(config: Config) -> Store | None:
    """The store for an offline command; None, with the reason on stderr, when it cannot open."""
    try:
        return Store(config.storage.path, readonly=True)
    except StoreError as exc:
        print(str(exc), file=sys.stderr)
        return None


def print_status(config: Config, fmt: str) -> int:
    """`domainwatch status`: 0 when every domain is verified (or not verified on purpose)."""
    store = open_readonly(config)
    if store is None:
        return 2
    try:
        document = status_document(config, store)
    finally:
        store.close()
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


def export_csv(config: Config, what: str, since: datetime | None, out: TextIO) -> int:
    """`domainwatch export`: the same CSV as the API's exports, from the store, offline."""
    store = open_readonly(config)
    if store is None:
        return 2
    try:
        if what == "history":
            chunks = csv_chunks(HISTORY_COLUMNS, (history_row(e) for e in store.iter_history(since)))
        else:
            views = status_document(config, store)["domains"]
            rows = (
                domain_row(v, facts_of(store.results(v["name"])).findings) for v in views if v.get("records")
            )
            chunks = csv_chunks(DOMAIN_COLUMNS, rows)
        for chunk in chunks:
            out.write(chunk)
    finally:
        store.close()
    return 0
