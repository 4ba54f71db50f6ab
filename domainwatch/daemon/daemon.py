"""The long-running daemon: the async shell that feeds checks into the state rules and the store.

All decisions are made by pure code (state/, daemon/schedule.py); this module only resolves,
stores, sleeps and reacts to signals. `run_once(now)` lets tests drive it without waiting. It
is also the fleet's owner: readers (metrics, pages) read it as a FleetView and are told of each
change (FleetListener).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import structlog

from domainwatch.checks.registry import facts_of
from domainwatch.checks.running.runner import Observed, recheck_domain
from domainwatch.config.domains import DomainConfig
from domainwatch.config.plan import DomainPlan, inspect_plan
from domainwatch.config.schema import Config
from domainwatch.daemon.membership import Membership
from domainwatch.daemon.schedule import Schedule, jittered
from domainwatch.dns.factory import close, resolver_from
from domainwatch.dns.resolver import Resolver
from domainwatch.metrics.instruments import Metrics
from domainwatch.model import DomainReport
from domainwatch.present.views import domain_view
from domainwatch.probes.routing import ProbingResolver
from domainwatch.runtime.clock import Clock, utcnow
from domainwatch.runtime.entropy import RandomPool
from domainwatch.runtime.gctune import gc_paused
from domainwatch.state.domain import (
    Change,
    DomainTrack,
    apply_report,
)
from domainwatch.state.events import Event, number
from domainwatch.state.facts import DomainFacts
from domainwatch.state.fleet import FleetListener
from domainwatch.state.intervals import interval_for
from domainwatch.state.rules import Status
from domainwatch.store.base import DocumentWrite, Results, Save, Store, StoredDocument
from domainwatch.store.batched import BatchedWrites
from domainwatch.store.rows import EPOCH, MILLISECOND
from domainwatch.webhooks.payloads import event_payload, sends_webhook

log = structlog.get_logger("domainwatch")
SHUTDOWN_GRACE = 10.0  # seconds in-flight checks may finish after SIGTERM
PURGE_EVERY = timedelta(hours=1)
KEEP_ANSWERS = timedelta(hours=24)  # how long a create's answer is kept for Idempotency-Key retries


class Daemon(Membership):
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
        self.store, self.clock, self.config_path = store, clock, config_path
        self.metrics = metrics
        self.rng = rng or random.Random()  # noqa: S311 (jitter, not security)
        self._fixed_resolver = resolver
        self.schedule = Schedule()
        # Start-up builds the fleet's state, plans and schedule: large and acyclic, so the
        # collector would only scan it again and again (seconds at 100,000 domains).
        with gc_paused():
            self.tracks: dict[str, DomainTrack] = store.load()
            self.facts: dict[str, DomainFacts] = store.facts(facts_of)
        self._ids = RandomPool()
        # Each domain's last check since start-up: a check whose answers are all the same again
        # reuses its results (no evaluation, no result rows rewritten; runner.observe_records).
        self.observed: dict[str, Observed] = {}
        self.observed_probes: dict[str, Observed] = {}  # the same, of a domain's probed records
        self.last_reload_ok, self.last_reload_success_at = True, clock()
        self.plans: dict[str, DomainPlan] = {}
        self._inflight: dict[str, asyncio.Task[None]] = {}
        # Hooks for the webhook worker: told of new events, and of every config swap; and the
        # fleet's readers, told which domains changed.
        self.on_events: list[Callable[[list[Event]], None]] = []
        self.on_config: list[Callable[[Config], None]] = []
        self.listeners: list[FleetListener] = []
        self._requeue: set[str] = set()
        self._tally: Counter[tuple[str, str, str]] | None = None
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self.config = config
        self.writes = BatchedWrites(store, self._announce, self._restore)
        self.resolver: Resolver = resolver or self._new_resolver(config)
        self.documents: dict[str, StoredDocument] = {}
        self.api_domains: dict[str, DomainConfig] = {}  # the documents, validated
        with gc_paused():
            self.load_documents()
            self.apply_config(config)
        # Ready (for /readyz) once every domain has a status backed by an observation: checked
        # since start-up, or before it (the store keeps when). A restart on a large store is
        # ready as soon as it is loaded, not a whole round later.
        self.first_round: set[str] = {
            name for name in self.plans if name in self.schedule and self.tracks[name].checked_at is None
        }

    @property
    def ready(self) -> bool:
        return not self.first_round

    @property
    def shard(self) -> tuple[int, int]:
        return self.config.sharding.shard, self.config.sharding.total_shards

    def _new_resolver(self, config: Config) -> Resolver:
        return resolver_from(config.resolver, self.metrics.observe_dns if self.metrics else None)

    # -- checking -----------------------------------------------------------------------------
    async def run_once(self, now: datetime | None = None) -> int:
        """Check every domain due at `now` (default: the clock) and wait for them; for tests."""
        names = self.schedule.pop_due(now or self.clock())
        pending = iter(names)

        async def worker() -> None:  # as serve() does: only as many checks in flight as may run
            for name in pending:
                await self._check(name)

        await asyncio.gather(*(worker() for _ in range(min(len(names), self.config.max_concurrent_checks))))
        self.writes.flush()
        return len(names)

    async def diagnose(self, name: str, selectors: Sequence[str] = ()) -> DomainReport:
        """A one-shot check of any domain now, stored nowhere (the MCP `diagnose` tool): a
        watched domain's planned records, else whatever is published, as `inspect` looks."""
        domain_plan = self.plans.get(name)
        expectations = list(domain_plan.expectations) if domain_plan else inspect_plan(name, ())
        known = {e.record for e in expectations}
        expectations += [e for e in inspect_plan(name, selectors) if e.record not in known]
        async with self._limit:  # a share of the checking capacity, as any check
            report, _ = await recheck_domain(
                name, expectations, self._resolver_for(name, probing=True), self.config.resolver
            )
        return report

    def forget_observed(self, name: str) -> None:
        self.observed.pop(name, None)
        self.observed_probes.pop(name, None)

    def _resolver_for(self, name: str, *, probing: bool) -> Resolver:
        """What one check of `name` asks: DNS (answers shared between domains as configured),
        and the probes when its records ask any. A domain with a record not verified takes no
        kept probe answer older than its recheck interval: a TLS problem fixed is seen as soon
        as a DNS one is."""
        resolver = self.shared.for_domain(name)
        if not probing:
            return resolver
        track, domain_plan = self.tracks.get(name), self.plans.get(name)
        troubled = track is None or any(r.status is not Status.VERIFIED for r in track.records.values())
        max_age = domain_plan.settings.recheck_interval.total_seconds() if troubled and domain_plan else None
        return ProbingResolver(resolver, self.prober, max_age)

    async def _check(self, name: str) -> None:
        domain_plan = self.plans.get(name)
        if domain_plan is None:
            return
        started = self.clock()
        # The DNS records first, stored at once; then the probed ones (DomainPlan.dns_part).
        report = await self._check_part(name, domain_plan, probing=False)
        if report is not None and domain_plan.probe_part:
            probed = await self._check_part(name, domain_plan, probing=True)
            report = None if probed is None else DomainReport(name, report.records + probed.records)
        if report is None:
            return  # the config changed while we were checking; the new plan is already scheduled
        now = self.clock()
        self.first_round.discard(name)
        if self.metrics is not None:
            self.metrics.observe_check(report, (now - started).total_seconds())
        log.debug(
            "checked",
            domain=name,
            status=self.tracks[name].status.value,
            seconds=round((now - started).total_seconds(), 3),
            states={r.record: r.state.value for r in report.records},
        )
        self._schedule(name, now)

    async def _check_part(self, name: str, domain_plan: DomainPlan, *, probing: bool) -> DomainReport | None:
        """Check the domain's DNS records (or its probed ones) and queue what they change; None
        when the plan changed meanwhile."""
        expectations = domain_plan.probe_part if probing else domain_plan.dns_part
        kept = self.observed_probes if probing else self.observed
        async with self._limit:
            previous = kept.get(name)
            report, observed = await recheck_domain(
                name, expectations, self._resolver_for(name, probing=probing), self.config.resolver, previous
            )
        if self.plans.get(name) is not domain_plan:
            return None
        now = self.clock()
        track, changes = apply_report(self.tracks[name], domain_plan.specs, report, domain_plan.rules, now)
        if observed is not None:
            kept[name] = observed
        if observed is not None and observed is previous:
            self._queue(track, changes)  # the same results as last time: stored already
        else:
            results = {r.record: r.as_dict() for r in report.records}  # what is stored; facts' source
            facts = facts_of({**self._stored_results(name, domain_plan, probing), **results})
            if facts != self.facts.get(name):
                self.facts[name] = facts
            self._queue(track, changes, results, facts)
        self.writes.flush_soon()
        return report

    def _stored_results(self, name: str, domain_plan: DomainPlan, probing: bool) -> Results:
        """The results of the domain's other part, for its facts (which cover every record):
        from its last check since start-up, else from the store."""
        if not domain_plan.probing:
            return {}
        other = (self.observed if probing else self.observed_probes).get(name)
        if other is not None:
            return {r.record: r.as_dict() for r in other.results}
        part = domain_plan.dns_part if probing else domain_plan.probe_part
        records = {e.record for e in part}
        return {k: v for k, v in self.store.results(name).items() if k in records}

    def _commit(
        self,
        track: DomainTrack,
        changes: list[Change],
        *,
        write: DocumentWrite | None = None,
        plan: DomainPlan | None = None,
    ) -> list[Event]:
        """Write one domain's new state now (after anything queued before it): its events."""
        self.writes.flush()
        if not self._queue(track, changes, write=write, plan=plan):
            return []
        return self.writes.flush()[-1]

    def _queue(
        self,
        track: DomainTrack,
        changes: list[Change],
        results: Results | None = None,
        facts: DomainFacts | None = None,
        *,
        write: DocumentWrite | None = None,
        plan: DomainPlan | None = None,
    ) -> bool:
        """Make `track` the domain's state and queue its write; False if nothing changed.
        `plan`: the domain's plan when it is not (yet) the daemon's (an API create)."""
        before = self.tracks.get(track.name)  # what is stored once the queued writes are done
        if before == track and not changes and results is None and write is None:
            if before is not None and before is not track:
                self.tracks[track.name] = track  # the same state, in the plan's order and strings
            return False
        track, events = number(track, changes, self._event_id)
        payloads = None
        if events and self.config.webhooks:
            payloads = self._payloads(track, events, results, plan or self.plans.get(track.name))
        self.writes.add(Save(track, events, results, payloads, facts, before, write))
        self._replace(track)
        return True

    def _event_id(self, at: datetime) -> str:
        return self._ids.uuid7_hex((at - EPOCH) // MILLISECOND)

    def _replace(self, track: DomainTrack) -> None:
        self.tracks[track.name] = track
        for reader in self.listeners:
            reader.domains_changed((track.name,))

    def _restore(self, failed: list[Save]) -> None:
        """A batch was not written: go back to the stored tracks, so the next check re-derives
        the same changes (and their events) instead of losing them."""
        for save in reversed(failed):
            # Results that were not stored must be evaluated (and written) again, not reused.
            self.forget_observed(save.track.name)
            if self.tracks.get(save.track.name) is save.track and save.stored is not None:
                self._replace(save.stored)

    def _announce(self, events: list[Event]) -> None:
        for listener in self.on_events:
            listener(events)
        for event in events:
            if event.kind == "domain" and self.metrics is not None:
                self.metrics.observe_domain_change(event.status)
            if self._tally is not None:  # a config applied to the whole fleet: counted, not listed
                self._tally[(event.kind, event.previous, event.status)] += 1
                continue
            # A domain's own changes at info; its records' and capabilities' (up to a dozen
            # each time) at debug: every one is in the store, the history and the webhooks.
            (log.info if event.kind in ("domain", "lifecycle") else log.debug)(
                "status_changed",
                domain=event.domain,
                kind=event.kind,
                subject=event.subject,
                previous=event.previous,
                status=event.status,
                reason=event.reason,
                sequence=event.sequence,
            )

    def _payloads(
        self, track: DomainTrack, events: list[Event], results: Results | None, plan: DomainPlan | None
    ) -> dict[str, Mapping[str, Any]]:
        """Webhook bodies: each snapshots the domain as it is right after the change."""
        sent = [event for event in events if sends_webhook(event)]
        if not sent or plan is None:
            return {}
        stored = results or self.writes.latest_results(track.name) or self.store.results(track.name)
        view = domain_view(track, plan, stored)
        bodies = {event.id: event_payload(event, view) for event in sent}
        return {event_id: body for event_id, body in bodies.items() if body is not None}

    def _schedule(self, name: str, now: datetime, *, immediately: bool = False) -> None:
        domain_plan = self.plans[name]
        interval = interval_for(self.tracks[name], domain_plan.specs, domain_plan.settings)
        if interval is None:
            self.schedule.discard(name)
            return
        self.schedule.put(name, now if immediately else now + jittered(interval, self.rng))

    def _resume(self, name: str, checked_at: datetime, now: datetime) -> None:
        """Schedule a domain loaded from the store as if the daemon had not stopped: due an
        interval after its last check (now, if that has passed). A restart of a large fleet then
        spreads its checks as before instead of re-checking every domain at once."""
        domain_plan = self.plans[name]
        interval = interval_for(self.tracks[name], domain_plan.specs, domain_plan.settings)
        if interval is None:
            self.schedule.discard(name)
            return
        due = min(checked_at + jittered(interval, self.rng), now + interval)  # a clock set back
        self.schedule.put(name, max(due, now))

    # -- the loop -----------------------------------------------------------------------------
    async def serve(self) -> None:
        """Check domains as they fall due until stop() is called."""
        purged = self.clock()
        while not self._stopping.is_set():
            if self.clock() - purged > PURGE_EVERY:  # retention: nothing grows without bound
                purged = self.clock()
                self.store.purge_history(purged - self.config.storage.history_retention)
                self.store.purge_removed(purged - self.config.storage.retention)
                self.store.purge_answers(purged - KEEP_ANSWERS)
            # A task only for what can run now: at start-up every domain is due at once, and a
            # task each (100,000 of them) would cost memory and keep the loop from its requests.
            room = self.config.max_concurrent_checks - len(self._inflight)
            for name in self.schedule.pop_due(self.clock(), limit=max(room, 0)):
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
            self._schedule(name, self.clock())
        finally:
            self._inflight.pop(name, None)
            if name in self._requeue and name in self.plans:
                self._requeue.discard(name)
                self._schedule(name, self.clock(), immediately=True)
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
            self.writes.flush()
        except Exception:
            log.exception("state_write_failed")
        await close(self.resolver)
        self.store.close()
