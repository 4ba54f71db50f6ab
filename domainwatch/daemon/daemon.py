"""The long-running daemon: the async shell that feeds checks into the fleet and the store.

All decisions are made by pure code (state/, fleet/, daemon/schedule.py); this module only
resolves, stores, sleeps and reacts to signals. `run_once(now)` lets tests drive it without
waiting. The fleet (fleet/fleet.py) is the state; membership (daemon/membership.py) decides
which domains it holds; readers (metrics, pages, the API) read the fleet and are told of each
change (FleetListener).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Collection, Iterator, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, cast

import structlog

from domainwatch.checks.registry import facts_of
from domainwatch.checks.running.runner import recheck_domain
from domainwatch.config.changes import config_changes
from domainwatch.config.loader import ConfigError, load
from domainwatch.config.plan import DomainPlan, inspect_plan
from domainwatch.config.schema import Config
from domainwatch.daemon.announce import announce
from domainwatch.daemon.api_reads import ApiReads
from domainwatch.daemon.api_writes import ApiWrites
from domainwatch.daemon.cluster import NOT_HELD
from domainwatch.daemon.drift_desk import DriftDesk
from domainwatch.daemon.housekeeping import Housekeeping
from domainwatch.daemon.membership import Membership
from domainwatch.daemon.replica import ClusterStore, Load, Replica
from domainwatch.daemon.schedule import Schedule, shared_cache_age
from domainwatch.daemon.scheduling import Scheduler
from domainwatch.daemon.startup import FirstRound
from domainwatch.dns.cache import SharedLookups
from domainwatch.dns.factory import close, resolver_from
from domainwatch.dns.resolver import Resolver
from domainwatch.fleet.fleet import Fleet
from domainwatch.metrics.cluster import ClusterMetrics
from domainwatch.metrics.instruments import Metrics
from domainwatch.model import DomainReport
from domainwatch.probes.prober import Prober
from domainwatch.probes.routing import ProbingResolver
from domainwatch.runtime.clock import Clock, utcnow
from domainwatch.runtime.entropy import RandomPool
from domainwatch.runtime.gctune import gc_paused
from domainwatch.state.events import Event
from domainwatch.state.rules import Status
from domainwatch.store.base import Results, Store
from domainwatch.store.batched import BatchedWrites
from domainwatch.store.rows import EPOCH, MILLISECOND

log = structlog.get_logger("domainwatch")
SHUTDOWN_GRACE = 10.0  # seconds in-flight checks may finish after SIGTERM


class Daemon(ApiReads, ApiWrites):
    def __init__(
        self,
        config: Config,
        store: Store,
        *,
        resolver: Resolver | None = None,
        clock: Clock = utcnow,
        rng: random.Random | None = None,
        config_path: str | Path | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        """A daemon with nothing loaded yet: `await Daemon.open(...)` makes a working one."""
        self.store, self.clock, self.config_path, self.config = store, clock, config_path, config
        self.metrics = metrics
        self._fixed_resolver = resolver
        self.resolver: Resolver = resolver or self._new_resolver(config)
        self._prober_settings: tuple[Any, ...] | None = None  # what `prober` was made for
        self.schedule = Schedule()
        self._ids = RandomPool()
        self.fleet = Fleet({}, {}, self._event_id, clock())
        self.writes = BatchedWrites(
            store, self._announce, self.fleet.restore, metrics.observe_store_write if metrics else None
        )
        self._inflight: dict[str, asyncio.Task[None]] = {}
        self._wake = asyncio.Event()
        jitter = rng or random.Random()  # noqa: S311 (jitter, not security)
        self.scheduler = Scheduler(self.fleet, self.schedule, jitter, self._inflight, self._wake.set)
        self.members = Membership(self.fleet, store, self.writes, self.scheduler, clock)
        self.drift = DriftDesk(store, self.fleet)  # maintenance windows, history's value lists
        # Hooks for the webhook worker: told of new events, and of every config swap.
        self.on_events: list[Callable[[list[Event]], None]] = []
        self.on_config: list[Callable[[Config], None]] = []
        self._requeue: set[str] = set()
        self._tally: Counter[tuple[str, str, str]] | None = None
        self._stopping = asyncio.Event()
        self.first_round = FirstRound()
        self.started = time.monotonic()  # when start-up began (the `ready` event's seconds)
        # Clustered (a PostgreSQL store): the replica's leases, followers and handoff.
        self.replica: Replica | None = None
        self.on_slots: list[Callable[[Collection[int]], Awaitable[None]]] = []  # slots taken over

    @classmethod
    async def open(cls, config: Config, store: Store, **options: Any) -> Daemon:
        """Load the stored fleet and apply the config to it."""
        daemon = cls(config, store, **options)
        started = daemon.started
        log.info("startup_loading", domains=len(config.domains), store=config.storage.location.shown)
        # Start-up builds the fleet's state, plans and schedule: large and acyclic, so the
        # collector would only scan it again and again (seconds at 100,000 domains).
        if config.clustered:
            cluster = ClusterMetrics(daemon.metrics.registry) if daemon.metrics else None
            daemon.replica = Replica(daemon, cast("ClusterStore", store), cluster)
            await daemon.replica.mark()
        with gc_paused():
            daemon.fleet.tracks.update(await store.load())
            daemon.fleet.facts.update(await store.facts(facts_of))
            await daemon.members.load_documents()
            await daemon.drift.load()
            stored = len(daemon.fleet.tracks)
            log.info("store_loaded", domains=stored, seconds=round(time.monotonic() - started, 2))
            await daemon.apply_config(config)
            if daemon.replica is not None:  # its share of the slots, taken over as any later
                await daemon.replica.join()
        # Ready (for /readyz) once every domain has a status backed by an observation: checked
        # since start-up, or before it (the store keeps when). A restart on a large store is
        # ready as soon as it is loaded, not a whole round later.
        fleet = daemon.fleet
        daemon.first_round = FirstRound.of(
            n for n in fleet.plans if n in daemon.schedule and fleet.tracks[n].checked_at is None
        )
        return daemon

    @property
    def ready(self) -> bool:
        return self.first_round.done

    @property
    def store_reachable(self) -> bool:
        """Clustered: the last lease renewal reached the store and its leases still run."""
        return self.replica is None or self.replica.leases.reachable

    def wake(self) -> None:
        self._wake.set()

    def _new_resolver(self, config: Config) -> Resolver:
        return resolver_from(config.resolver, self.metrics.observe_dns if self.metrics else None)

    def _event_id(self, at: datetime) -> str:
        return self._ids.uuid7_hex((at - EPOCH) // MILLISECOND)

    # -- the config ---------------------------------------------------------------------------
    async def apply_config(self, config: Config) -> None:
        """Swap in a (validated) config and apply the domain diff to the stored state."""
        async with self.members.lock:
            now = self.clock()
            self.config = config
            if self._fixed_resolver is None:
                self.resolver = self._new_resolver(config)
            self._limit = asyncio.Semaphore(config.max_concurrent_checks)
            old_plans = await self.members.apply(config, now)
            share = shared_cache_age(config, [p.settings for p in self.fleet.plans.values()])
            self.shared = SharedLookups(self.resolver, lambda: self.clock().timestamp(), share)
            self._new_prober(config)
            with self._tallying():
                await self.members.settle(config, old_plans, now)
        for listener in self.on_config:
            listener(config)
        self.fleet.reshaped()
        self._wake.set()

    def _new_prober(self, config: Config) -> None:
        """A prober for these settings; the one before (and the answers it keeps) when only
        other settings changed."""
        settings = (config.probes, config.defaults.recheck_interval, self.resolver)
        if self._prober_settings == settings:
            return
        self._prober_settings = settings
        recheck = config.defaults.recheck_interval.total_seconds()
        observe = self.metrics.observe_probe if self.metrics else None
        self.prober = Prober(self.resolver, config.probes, lambda: self.clock().timestamp(), recheck, observe)

    async def take_over(self, names: Collection[str], load: Load) -> None:
        """Domains of slots this replica now holds (clustered): as stored (read with `load`),
        brought in line with their plans, scheduled; their changes logged as counts, as a
        config's are."""
        async with self.members.lock:
            stored = await load(list(names)) if names else {}
            with self._tallying():
                await self.members.gain(names, stored)

    @contextlib.contextmanager
    def _tallying(self) -> Iterator[None]:
        self._tally = Counter()
        try:
            yield
        finally:
            self._log_tally()

    def _log_tally(self) -> None:
        """The changes a config brought to the whole fleet, as counts: a new fleet's first start
        is `not_started -> pending` for every record of every domain."""
        tally, self._tally = self._tally, None
        for (kind, previous, status), count in sorted((tally or {}).items()):
            log.info("status_changes", kind=kind, previous=previous, status=status, count=count)

    async def reload(self) -> list[str]:
        """Re-read the config file: swap it in whole, or keep the running one.

        Returns the problems ([] on success) so callers (SIGHUP, POST /-/reload) can say why.
        """
        if self.config_path is None:
            return ["no config file to reload"]
        fleet = self.fleet
        try:
            with gc_paused():  # a large acyclic structure: collections would only slow it
                config = load(self.config_path)
        except ConfigError as exc:
            fleet.last_reload_ok = False
            # No traceback: the errors say what and where, and the running config stays.
            log.error("config_reload_failed", path=str(self.config_path), errors=exc.problems)  # noqa: TRY400
            return exc.problems
        changes = config_changes(self.config, config)
        with gc_paused():  # the fleet's plans, made again: as large and as acyclic
            await self.apply_config(config)
        fleet.last_reload_ok, fleet.last_reload_success_at = True, self.clock()
        log.info("config_reloaded", path=str(self.config_path), domains=len(config.domains), **changes)
        return []

    # -- checking -----------------------------------------------------------------------------
    async def run_once(self, now: datetime | None = None) -> int:
        """Check every domain due at `now` (default: the clock) and wait for them; for tests."""
        names = self.schedule.pop_due(now or self.clock())
        pending = iter(names)

        async def worker() -> None:  # as serve() does: only as many checks in flight as may run
            for name in pending:
                await self._check(name)

        await asyncio.gather(*(worker() for _ in range(min(len(names), self.config.max_concurrent_checks))))
        await self.writes.flush()
        return len(names)

    async def diagnose(self, name: str, selectors: Sequence[str] = ()) -> DomainReport:
        """A one-shot check of any domain now, stored nowhere (the MCP `diagnose` tool): a
        watched domain's planned records, else whatever is published, as `inspect` looks."""
        domain_plan = self.fleet.plans.get(name)
        expectations = list(domain_plan.expectations) if domain_plan else inspect_plan(name, ())
        known = {e.record for e in expectations}
        expectations += [e for e in inspect_plan(name, selectors) if e.record not in known]
        async with self._limit:  # a share of the checking capacity, as any check
            report, _ = await recheck_domain(
                name, expectations, self._resolver_for(name, probing=True), self.config.resolver
            )
        return report

    def _resolver_for(self, name: str, *, probing: bool) -> Resolver:
        """What one check of `name` asks: DNS (answers shared between domains as configured),
        and the probes when its records ask any. A domain with a record not verified takes no
        kept probe answer older than its recheck interval: a TLS problem fixed is seen as soon
        as a DNS one is."""
        resolver = self.shared.for_domain(name)
        if not probing:
            return resolver
        track, domain_plan = self.fleet.tracks.get(name), self.fleet.plans.get(name)
        troubled = track is None or any(r.status is not Status.VERIFIED for r in track.records.values())
        max_age = domain_plan.settings.recheck_interval.total_seconds() if troubled and domain_plan else None
        return ProbingResolver(resolver, self.prober, max_age)

    async def _check(self, name: str) -> None:
        domain_plan = self.fleet.plans.get(name)
        if domain_plan is None:
            return
        fence = None
        if self.replica is not None:  # the lease this check's writes are made under
            fence = self.replica.leases.fence(name)
            if fence == NOT_HELD:  # its lease may have run out: another replica may hold it
                self.scheduler.schedule_check(name, self.clock())  # (dropped if the slot moves)
                return
        started = self.clock()
        last = self.fleet.tracks[name].checked_at if name in self.fleet.tracks else None
        # The DNS records first, stored at once; then the probed ones (DomainPlan.dns_part).
        report = await self._check_part(name, domain_plan, probing=False, fence=fence)
        if report is not None and domain_plan.probe_part:
            probed = await self._check_part(name, domain_plan, probing=True, fence=fence)
            report = None if probed is None else DomainReport(name, report.records + probed.records)
        if report is None:
            return  # the config changed while we were checking; the new plan is already scheduled
        now = self.clock()
        self.first_round.discard(name)
        if self.metrics is not None:
            self.metrics.observe_check(report, (now - started).total_seconds())
            if last is not None:
                self.metrics.round_duration.observe((started - last).total_seconds())
        log.debug(
            "checked",
            domain=name,
            status=self.fleet.tracks[name].status.value,
            seconds=round((now - started).total_seconds(), 3),
            states={r.record: r.state.value for r in report.records},
        )
        self.scheduler.schedule_check(name, now)

    async def _check_part(
        self, name: str, domain_plan: DomainPlan, *, probing: bool, fence: int | None = None
    ) -> DomainReport | None:
        """Check the domain's DNS records (or its probed ones) and queue what they change; None
        when the plan changed meanwhile."""
        expectations = domain_plan.probe_part if probing else domain_plan.dns_part
        kept = self.fleet.observed_probes if probing else self.fleet.observed
        async with self._limit:
            previous = kept.get(name)
            report, observed = await recheck_domain(
                name, expectations, self._resolver_for(name, probing=probing), self.config.resolver, previous
            )
        other = await self._other_results(name, domain_plan, probing)
        # A change's `before`, after a restart (none when the results are the last check's own).
        wanted = self.fleet.sets_wanted(name, report) if observed is not previous else []
        stored_sets = await self.store.value_sets(wanted) if wanted else None
        if self.fleet.plans.get(name) is not domain_plan:
            return None
        save = self.fleet.record_check(
            name,
            domain_plan,
            report,
            self.clock(),
            (observed, previous),
            probing=probing,
            other=other,
            stored_sets=stored_sets,
        )
        if save is not None:
            self.writes.add(save if fence is None else replace(save, fence=fence))
        self.writes.flush_soon()
        return report

    async def _other_results(self, name: str, domain_plan: DomainPlan, probing: bool) -> Results:
        """The results of the domain's other part, for its facts (which cover every record):
        from its last check since start-up, else from the store."""
        if not domain_plan.probing:
            return {}
        other = (self.fleet.observed if probing else self.fleet.observed_probes).get(name)
        if other is not None:
            return {r.record: r.as_dict() for r in other.results}
        part = domain_plan.dns_part if probing else domain_plan.probe_part
        records = {e.record for e in part}
        stored = self.writes.latest_results(name) or await self.store.results(name)
        return {k: v for k, v in stored.items() if k in records}

    def _announce(self, events: list[Event]) -> None:
        """Written events: to the listeners, the metrics and the log (counted while a config is
        applied to the whole fleet)."""
        for listener in self.on_events:
            listener(events)
        announce(events, self.metrics, self._tally)

    def backlog(self) -> tuple[int, float]:
        """Checks due but not started, and how late the oldest is (metrics' Progress)."""
        return self.schedule.backlog(self.clock())

    # -- the loop -----------------------------------------------------------------------------
    async def serve(self) -> None:
        """Check domains as they fall due until stop() is called."""
        if self.replica is not None:
            self.replica.start()
        chores = Housekeeping(self.store, self.fleet, lambda: self.config, self.metrics, self.clock())
        while not self._stopping.is_set():
            await chores.tick(self.clock())  # retention, and the day's counts
            # A task only for what can run now: at start-up every domain is due at once, and a
            # task each (100,000 of them) would cost memory and keep the loop from its requests.
            room = self.config.max_concurrent_checks - len(self._inflight)
            now = self.clock()
            for name, due in self.schedule.pop_due_times(now, limit=max(room, 0)):
                if self.metrics is not None:
                    self.metrics.check_start_delay.observe(max(0.0, (now - due).total_seconds()))
                if name in self._inflight:
                    self._requeue.add(name)  # due again (a reload or verify): check once this one ends
                else:
                    self._inflight[name] = asyncio.create_task(self._check_logged(name))
            await self._sleep_until_due()

    async def _check_logged(self, name: str) -> None:
        try:
            await self._check(name)
        except Exception:
            log.exception("check_failed", domain=name)
            self.scheduler.schedule_check(name, self.clock())
        finally:
            self._inflight.pop(name, None)
            if name in self._requeue and name in self.fleet.plans:
                self._requeue.discard(name)
                self.scheduler.schedule_check(name, self.clock(), immediately=True)
            self._wake.set()

    async def _sleep_until_due(self) -> None:
        next_due = self.schedule.next_due()
        full = len(self._inflight) >= self.config.max_concurrent_checks  # a finished check wakes us
        timeout = 60.0 if next_due is None or full else max(0.0, (next_due - self.clock()).total_seconds())
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=min(timeout, 60.0))

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    async def shutdown(self) -> None:
        """Stop scheduling, give in-flight checks SHUTDOWN_GRACE seconds, close the store."""
        self.stop()
        tasks = list(self._inflight.values())
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=SHUTDOWN_GRACE)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        try:
            await self.writes.flush()
        except Exception:
            log.exception("state_write_failed")
        if self.replica is not None:  # after the last writes: then the slots go to the others
            await self.replica.stop()
        await close(self.resolver)
        await self.store.close()
