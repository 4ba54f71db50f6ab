"""`domainwatch run`: wire the daemon, the webhook worker, metrics and the web app together, and
handle signals and the lifecycle."""

from __future__ import annotations

import argparse
import asyncio
import signal

import structlog
from aiohttp import web

from domainwatch import __version__, revision
from domainwatch.cli.common import EXIT_USAGE, load_config, resolver_settings
from domainwatch.config.schema import Config
from domainwatch.daemon.daemon import Daemon
from domainwatch.daemon.startup import report_start
from domainwatch.daemon.watch import ConfigWatch
from domainwatch.dns.resolver import Resolver
from domainwatch.fleet.owned import OwnedView
from domainwatch.metrics.exposition import Exposition
from domainwatch.metrics.instruments import Metrics
from domainwatch.runtime import aio, gctune
from domainwatch.runtime.native import compiled, compiled_modules
from domainwatch.store.base import Store, StoreError
from domainwatch.store.opening import holding_store
from domainwatch.web.app import create_app
from domainwatch.web.server import GuardedSite, Limits
from domainwatch.webhooks.worker import WebhookWorker

log = structlog.get_logger("domainwatch")


def run(args: argparse.Namespace) -> int:
    with gctune.gc_paused():  # until run_daemon settles what start-up loads
        config = load_config(args.config, args)
        if config is None:
            return EXIT_USAGE
        settings = resolver_settings(config.resolver, args)
        return aio.run(run_daemon(config.model_copy(update={"resolver": settings}), args.config))


async def run_daemon(config: Config, config_path: str | None, *, resolver: Resolver | None = None) -> int:
    """Run until SIGTERM or SIGINT; SIGHUP reloads the config. Returns the exit code. The store
    is held for the daemon's life (store/holder.py): a second daemon on it refuses to start."""
    # Which build runs: the modules mypyc compiled, or the pure-Python fallback of each.
    log.info(
        "build", version=__version__, revision=revision(), compiled=compiled(), native=compiled_modules()
    )
    try:
        async with holding_store(config.storage.location) as store:
            return await _serve(config, store, config_path, resolver)
    except StoreError as exc:
        log.error("store_unusable", error=str(exc))  # noqa: TRY400 (the message says it all)
        return 2


async def _serve(config: Config, store: Store, config_path: str | None, resolver: Resolver | None) -> int:
    metrics = Metrics()
    daemon = await Daemon.open(config, store, config_path=config_path, metrics=metrics, resolver=resolver)
    worker = WebhookWorker(config, store, clock=daemon.clock, metrics=metrics)
    if daemon.replica is not None:  # its slots' events only, each attempt under the slot's lease
        leases = daemon.replica.leases
        worker.slots, worker.fence = lambda: list(leases.held), leases.fence
        daemon.on_slots.append(worker.take_over)
    await worker.start()
    daemon.on_events.append(lambda _: worker.wake())
    daemon.on_config.append(worker.apply_config)
    exposition = Exposition(metrics.registry, OwnedView(daemon.fleet), worker, daemon)
    exposition.apply_config(config)
    daemon.on_config.append(exposition.apply_config)
    daemon.fleet.listeners.append(exposition)
    gctune.settle()
    server = config.server
    runner = web.AppRunner(
        create_app(daemon, exposition, worker),
        access_log=None,
        keepalive_timeout=server.idle_timeout.total_seconds(),
    )
    await runner.setup()
    host, port = split_listen(server.listen)
    limits = Limits(server.max_connections, server.max_connections_per_client)
    try:
        await GuardedSite(runner, host, port, limits).start()
    except OSError as exc:
        log.error("listen_failed", listen=config.server.listen, error=str(exc))  # noqa: TRY400
        await runner.cleanup()
        return 2
    loop = asyncio.get_running_loop()
    reloading: set[asyncio.Task[list[str]]] = set()

    def reload() -> None:  # one task per SIGHUP; the daemon applies configs one at a time
        task = loop.create_task(daemon.reload())
        reloading.add(task)
        task.add_done_callback(reloading.discard)

    loop.add_signal_handler(signal.SIGHUP, reload)
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, daemon.stop)
    log.info(
        "started",
        domains=len(config.domains),
        store=config.storage.location.shown,
        listen=config.server.listen,
    )
    delivering = asyncio.create_task(worker.serve())
    aside = _aside(daemon, exposition, config_path)
    try:
        await daemon.serve()
    finally:
        for task in aside:
            task.cancel()
        worker.stop()
        await delivering  # in-flight deliveries settle (or are re-sent after a restart)
        await runner.cleanup()
        await daemon.shutdown()
        log.info("stopped")
    return 0


def _aside(daemon: Daemon, exposition: Exposition, config_path: str | None) -> list[asyncio.Task[None]]:
    """The tasks beside checking: watching the config file, warming the metrics' text and
    telling how start-up goes. Cancelled at shutdown."""
    tasks = [
        asyncio.create_task(_warm_metrics(exposition)),
        asyncio.create_task(report_start(lambda: daemon.first_round, daemon.started)),
    ]
    if config_path is not None:

        def watch_interval() -> float:  # read each time: a reload may change it
            return daemon.config.reload.watch_interval.total_seconds()

        tasks.append(asyncio.create_task(ConfigWatch(config_path, watch_interval, daemon.reload).run()))
    return tasks


async def _warm_metrics(exposition: Exposition) -> None:
    seconds = await exposition.warm_up()
    log.info("metrics_warm", domains=len(exposition.fleet.tracks), seconds=round(seconds, 2))


def split_listen(listen: str) -> tuple[str, int]:
    host, _, port = listen.rpartition(":")
    return host.strip("[]"), int(port)
