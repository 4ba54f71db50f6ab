"""Which domains the daemon checks, and how they come and go: the config file (applied whole,
on start-up and reload) and the API (one domain at a time: create, update, delete, verify).

Both sources meet here, under one rule: the config wins. A name the config holds is read-only
over the API; a reload that adds a name managed over the API takes it over, state and history
kept, and says so in the domain's history. Each API write is one transaction: the document,
the domain's new state, its events (a `lifecycle` event first) and, for a create with an
Idempotency-Key, the answer a retry gets.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import structlog

from domainwatch.checks.running.runner import Observed
from domainwatch.config.document import DocumentError, parse_document
from domainwatch.config.domains import DomainConfig
from domainwatch.config.loader import ConfigError, load
from domainwatch.config.plan import DomainPlan, Source, adopt_legacy_fingerprints
from domainwatch.config.schema import Config
from domainwatch.daemon.schedule import Schedule, shared_cache_age
from domainwatch.daemon.sharding import owns
from domainwatch.dns.cache import SharedLookups
from domainwatch.dns.resolver import Resolver
from domainwatch.present.views import domain_view
from domainwatch.probes.prober import Prober
from domainwatch.runtime.clock import Clock
from domainwatch.runtime.gctune import gc_paused
from domainwatch.state.domain import Change, DomainTrack, reconcile, request_verification
from domainwatch.state.events import Event
from domainwatch.state.facts import DomainFacts
from domainwatch.state.fleet import FleetListener
from domainwatch.store.base import DocumentWrite, Results, Store, StoredAnswer, StoredDocument
from domainwatch.store.batched import BatchedWrites
from domainwatch.values import refused_name

log = structlog.get_logger("domainwatch")
LIFECYCLE = "lifecycle"  # the Event.kind of created, updated, deleted and managed_by_config


@dataclass(frozen=True, slots=True)
class Action:
    """Who writes an API domain, and what else the write carries."""

    by: str  # the token's name ("anonymous" when no tokens are configured)
    verify_now: bool = False  # the verify action: not_started and failed records restart
    # The answer a retry with the same Idempotency-Key gets, made from the domain's new view.
    answer: Callable[[Mapping[str, Any]], StoredAnswer | None] | None = None


class Membership:
    """The daemon's domain set: Daemon's base, which sets this state and supplies the hooks."""

    clock: Clock
    config: Config
    config_path: str | Path | None
    store: Store
    resolver: Resolver
    _fixed_resolver: Resolver | None
    _limit: asyncio.Semaphore
    shared: SharedLookups
    prober: Prober
    _prober_settings: tuple[Any, ...] | None = None  # what `prober` was made for
    _tally: Counter[tuple[str, str, str]] | None  # while a config is applied: changes by kind
    plans: dict[str, DomainPlan]
    tracks: dict[str, DomainTrack]
    facts: dict[str, DomainFacts]
    observed: dict[str, Observed]
    observed_probes: dict[str, Observed]
    documents: dict[str, StoredDocument]
    api_domains: dict[str, DomainConfig]  # the documents, validated
    schedule: Schedule
    _inflight: dict[str, asyncio.Task[None]]
    writes: BatchedWrites
    on_config: list[Callable[[Config], None]]
    listeners: list[FleetListener]
    _wake: asyncio.Event
    last_reload_ok: bool
    last_reload_success_at: datetime

    # -- hooks (Daemon) -----------------------------------------------------------------------
    def _new_resolver(self, config: Config) -> Resolver:
        raise NotImplementedError

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
        raise NotImplementedError

    def _commit(
        self,
        track: DomainTrack,
        changes: list[Change],
        *,
        write: DocumentWrite | None = None,
        plan: DomainPlan | None = None,
    ) -> list[Event]:
        raise NotImplementedError

    def _schedule(self, name: str, now: datetime, *, immediately: bool = False) -> None:
        raise NotImplementedError

    def forget_observed(self, name: str) -> None:
        raise NotImplementedError

    def _resume(self, name: str, checked_at: datetime, now: datetime) -> None:
        raise NotImplementedError

    # -- the config file ----------------------------------------------------------------------
    def apply_config(self, config: Config) -> None:
        """Swap in a (validated) config and apply the domain diff to the stored state."""
        now = self.clock()
        self.config = config
        if self._fixed_resolver is None:
            self.resolver = self._new_resolver(config)
        self._limit = asyncio.Semaphore(config.max_concurrent_checks)
        self._take_over(config, now)
        old_plans = self.plans
        new_plans = {
            name: DomainPlan.of(d, config.defaults, source, config.probes.implied)
            for name, (d, source) in self._wanted(config).items()
        }
        # Keep the very same plan object where nothing changed: an in-flight check compares by
        # identity to know whether its result still applies.
        self.plans = {n: old_plans[n] if old_plans.get(n) == p else p for n, p in new_plans.items()}
        share = shared_cache_age(config, [p.settings for p in self.plans.values()])
        self.shared = SharedLookups(self.resolver, lambda: self.clock().timestamp(), share)
        self._new_prober(config)
        gone = [name for name in self.tracks if name not in self.plans]
        self.store.mark_removed(gone, now)
        for name in gone:
            self._forget(name)
        returning = self.store.load(include_removed=True) if set(self.plans) - set(self.tracks) else {}
        self._tally = Counter()
        try:
            for name, domain_plan in self.plans.items():
                self._adopt(name, domain_plan, old_plans.get(name), returning.get(name), now)
            self.writes.flush()
        finally:
            self._log_tally()
        self.store.purge_removed(now - config.storage.retention)
        self.store.purge_history(now - config.storage.history_retention)
        for listener in self.on_config:
            listener(config)
        for reader in self.listeners:
            reader.fleet_changed()
        self._wake.set()

    def _new_prober(self, config: Config) -> None:
        """A prober for these settings; the one before (and the answers it keeps) when only
        other settings changed."""
        settings = (config.probes, config.defaults.recheck_interval, self.resolver)
        if self._prober_settings == settings:
            return
        self._prober_settings = settings
        recheck = config.defaults.recheck_interval.total_seconds()
        self.prober = Prober(self.resolver, config.probes, lambda: self.clock().timestamp(), recheck)

    def _log_tally(self) -> None:
        """The changes a config brought to the whole fleet, as counts: a new fleet's first start
        is `not_started -> pending` for every record of every domain."""
        tally, self._tally = self._tally, None
        for (kind, previous, status), count in sorted((tally or {}).items()):
            log.info("status_changes", kind=kind, previous=previous, status=status, count=count)

    def _wanted(self, config: Config) -> dict[str, tuple[DomainConfig, Source]]:
        """This shard's domains: the config's, then the API's (whose names the config lacks)."""
        shard, total = config.sharding.shard, config.sharding.total_shards
        wanted: dict[str, tuple[DomainConfig, Source]] = {
            d.name: (d, "config") for d in config.domains if owns(d.name, shard, total)
        }
        for name, domain in self.api_domains.items():
            if name not in wanted and owns(name, shard, total):
                wanted[name] = (domain, "api")
        return wanted

    def _take_over(self, config: Config, now: datetime) -> None:
        """API domains whose names the config now holds: the config manages them from here on.
        Their documents go; their state and history stay; their history says what happened."""
        for name in [n for n in self.documents if config.domain(n) is not None]:
            track = self.tracks.get(name) or self.store.track(name) or DomainTrack(name)
            change = _lifecycle(track, "managed_by_config", now, "the config file now manages this domain")
            self._queue(track, [change], write=DocumentWrite(None))
            self.writes.flush()
            self.api_domains.pop(name, None)
            self.documents.pop(name)
            log.warning("domain_taken_over_by_config", domain=name)

    def _adopt(
        self,
        name: str,
        domain_plan: DomainPlan,
        old_plan: DomainPlan | None,
        returning: DomainTrack | None,
        now: datetime,
    ) -> None:
        """Bring one domain's state in line with its plan, and schedule it."""
        previous = self.tracks.get(name) or returning
        if previous is not None:
            previous = adopt_legacy_fingerprints(previous, domain_plan)
        track, changes = reconcile(previous, name, domain_plan.config.verify, domain_plan.specs, now)
        self._queue(track, changes)
        if old_plan is None and not changes and track.checked_at is not None:
            self._resume(name, track.checked_at, now)  # a restart: carry on where it stopped
        elif old_plan is not domain_plan or (name not in self.schedule and name not in self._inflight):
            self._schedule(name, now, immediately=True)

    def _forget(self, name: str) -> None:
        self.tracks.pop(name, None)
        self.facts.pop(name, None)
        self.forget_observed(name)
        self.schedule.discard(name)

    def reload(self) -> list[str]:
        """Re-read the config file: swap it in whole, or keep the running one.

        Returns the problems ([] on success) so callers (SIGHUP, POST /-/reload) can say why.
        """
        if self.config_path is None:
            return ["no config file to reload"]
        try:
            with gc_paused():  # a large acyclic structure: collections would only slow it
                config = load(self.config_path)
        except ConfigError as exc:
            self.last_reload_ok = False
            # No traceback: the errors say what and where, and the running config stays.
            log.error("config_reload_failed", path=str(self.config_path), errors=exc.problems)  # noqa: TRY400
            return exc.problems
        with gc_paused():  # the fleet's plans, made again: as large and as acyclic
            self.apply_config(config)
        self.last_reload_ok, self.last_reload_success_at = True, self.clock()
        log.info("config_reloaded", path=str(self.config_path), domains=len(config.domains))
        return []

    # -- the API ------------------------------------------------------------------------------
    def load_documents(self) -> None:
        """The stored API domains, validated again (a document the models now refuse is logged
        and left stored, unchecked, rather than stopping the daemon)."""
        self.documents = self.store.documents()
        self.api_domains = {}
        for name, stored in self.documents.items():
            why = refused_name(name)
            if why is not None:  # kept, checked, editable and deletable: never dropped
                log.warning("domain_name_refused_now", domain=name, reason=why)
            try:
                self.api_domains[name] = parse_document(dict(stored.body), stored=True)[1]
            except DocumentError as exc:
                log.error("stored_document_invalid", domain=name, problems=str(exc))  # noqa: TRY400

    def put_domain(self, document: StoredDocument, domain: DomainConfig, action: Action) -> list[Event]:
        """Create or replace an API domain and check it at once; its events."""
        now, name = self.clock(), domain.name
        domain_plan = DomainPlan.of(domain, self.config.defaults, "api", self.config.probes.implied)
        previous = self.tracks.get(name) or self.store.track(name)  # a name created again
        track, changes = reconcile(previous, name, domain.verify, domain_plan.specs, now)
        if action.verify_now:
            track, more = request_verification(track, domain_plan.specs, now)
            changes += more
        created = name not in self.documents
        if not action.verify_now:
            what = "created" if created else "updated"
            changes.insert(0, _lifecycle(previous or track, what, now, f"{what} over the API by {action.by}"))
        answer = None
        if action.answer is not None:
            answer = action.answer(domain_view(track, domain_plan, self.store.results(name)))
        write = DocumentWrite(document, answer=answer)
        try:
            events = self._commit(track, changes, write=write, plan=domain_plan)
        except BaseException:
            if name not in self.plans:
                self.tracks.pop(name, None)  # not written: as if never created
            raise
        self.plans[name], self.documents[name], self.api_domains[name] = domain_plan, document, domain
        self.forget_observed(name)
        self._schedule(name, now, immediately=True)
        self._wake.set()
        return events

    def delete_domain(self, name: str, by: str) -> list[Event]:
        """Stop checking an API domain now; its state stays for storage.retention."""
        now = self.clock()
        track = self.tracks.get(name) or self.store.track(name) or DomainTrack(name)
        change = _lifecycle(track, "deleted", now, f"deleted over the API by {by}")
        events = self._commit(track, [change], write=DocumentWrite(None, removed_at=now))
        self.plans.pop(name, None)
        self.documents.pop(name, None)
        self.api_domains.pop(name, None)
        self._forget(name)
        for reader in self.listeners:
            reader.domains_changed((name,))
        return events

    def verify(self, name: str, by: str = "api") -> list[Event]:
        """Start (or restart) verification now: not_started or failed -> pending, check at once."""
        domain_plan = self.plans[name]
        if domain_plan.source == "api" and not domain_plan.config.verify:
            # An API domain remembers the request: its document says verify: true from now on.
            stored = self.documents[name]
            body = {**stored.body, "verify": True}
            document = replace(stored, body=body, updated_at=self.clock())
            return self.put_domain(document, parse_document(body)[1], Action(by, verify_now=True))
        track, changes = request_verification(self.tracks[name], domain_plan.specs, self.clock())
        events = self._commit(track, changes)
        self._schedule(name, self.clock(), immediately=True)
        self._wake.set()
        return events


def _lifecycle(track: DomainTrack, action: str, now: datetime, reason: str) -> Change:
    """A lifecycle event: the domain's status is the same before and after it."""
    return Change(track.name, LIFECYCLE, action, track.status, track.status, now, reason, {})
