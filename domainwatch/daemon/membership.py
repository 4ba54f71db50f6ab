"""Which domains the daemon checks, and how they come and go: the config file (applied whole,
on start-up and reload) and the API (one domain at a time: create, update, delete, verify).

Both sources meet here, under one rule: the config wins. A name the config holds is read-only
over the API; a reload that adds a name managed over the API takes it over, state and history
kept, and says so in the domain's history. Each API write is one transaction: the document,
the domain's new state, its events (a `lifecycle` event first) and, for a create with an
Idempotency-Key, the answer a retry gets.

Membership changes the Fleet (the state), writes through the store and asks the daemon's
schedule (the Scheduling it is given) to check, resume or drop a domain.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

import structlog

from domainwatch.config.document import DocumentError, parse_document
from domainwatch.config.domains import DomainConfig
from domainwatch.config.plan import DomainPlan, Source, adopt_legacy_fingerprints
from domainwatch.config.schema import Config
from domainwatch.daemon.sharding import owns
from domainwatch.fleet.drift import acknowledged
from domainwatch.fleet.fleet import Fleet
from domainwatch.present.views import domain_view
from domainwatch.runtime.clock import Clock
from domainwatch.state.domain import Change, DomainTrack, reconcile, request_verification
from domainwatch.state.events import Event
from domainwatch.store.base import Changed, DocumentWrite, Save, Store, StoredAnswer, StoredDocument
from domainwatch.store.batched import BatchedWrites
from domainwatch.values import refused_name
from domainwatch.webhooks.payloads import sends_webhook_change

log = structlog.get_logger("domainwatch")
LIFECYCLE = "lifecycle"  # the Event.kind of created, updated, deleted and managed_by_config


@dataclass(frozen=True, slots=True)
class Action:
    """Who writes an API domain, and what else the write carries."""

    by: str  # the token's name ("anonymous" when no tokens are configured)
    verify_now: bool = False  # the verify action: not_started and failed records restart
    # The answer a retry with the same Idempotency-Key gets, made from the domain's new view.
    answer: Callable[[Mapping[str, Any]], StoredAnswer | None] | None = None
    # That key (scoped to the caller) and its request's digest, for a write handed to another
    # replica (daemon/handoff.py), which makes and keeps the answer there.
    idempotency: tuple[str, str] | None = None


class Scheduling(Protocol):
    """What membership asks of the daemon's schedule."""

    def schedule_check(self, name: str, now: datetime, *, immediately: bool = False) -> None: ...
    def resume_check(
        self, name: str, checked_at: datetime, now: datetime, *, takeover: bool = False
    ) -> None: ...
    def unschedule(self, name: str) -> None: ...
    def is_pending(self, name: str) -> bool: ...  # scheduled, or being checked


class Membership:
    def __init__(
        self, fleet: Fleet, store: Store, writes: BatchedWrites, scheduling: Scheduling, clock: Clock
    ) -> None:
        self.fleet, self.store, self.writes, self.scheduling, self.clock = (
            fleet,
            store,
            writes,
            scheduling,
            clock,
        )
        self.config: Config | None = None
        # Clustered (daemon/cluster.py): which domains this replica holds, and the lease epoch
        # each write of one carries. None: it holds every domain, unfenced.
        self.owns: Callable[[str], bool] | None = None
        self.fence: Callable[[str], int] | None = None
        # API writes, and the config's application, one at a time: each reads a domain's state
        # (and may wait on the store) before it writes the next one.
        self.lock = asyncio.Lock()

    # -- the config file ----------------------------------------------------------------------
    async def apply(self, config: Config, now: datetime) -> dict[str, DomainPlan]:
        """Take over API names the config now holds, and plan the wanted domains; the plans
        before (settle() then brings the stored state in line)."""
        self.config = config
        fleet = self.fleet
        fleet.webhooks, fleet.shard = (
            bool(config.webhooks),
            (config.sharding.shard, config.sharding.total_shards),
        )
        await self._take_over(config, now)
        old_plans = fleet.plans
        new_plans = {
            name: DomainPlan.of(d, config.defaults, source, config.probes.implied)
            for name, (d, source) in self._wanted(config).items()
        }
        # Keep the very same plan object where nothing changed: an in-flight check compares by
        # identity to know whether its result still applies.
        fleet.plans = {n: old_plans[n] if old_plans.get(n) == p else p for n, p in new_plans.items()}
        return old_plans

    async def settle(self, config: Config, old_plans: Mapping[str, DomainPlan], now: datetime) -> None:
        """Stop checking what left, bring each planned domain's state in line, purge."""
        fleet = self.fleet
        gone = [name for name in fleet.tracks if name not in fleet.plans]
        await self.store.mark_removed(gone, now)
        for name in gone:
            fleet.forget(name)
            self.scheduling.unschedule(name)
        returning = (
            await self.store.load(include_removed=True) if set(fleet.plans) - set(fleet.tracks) else {}
        )
        for name, domain_plan in list(fleet.plans.items()):
            if self.owns is None or self.owns(name):
                await self._adopt(name, domain_plan, old_plans.get(name), returning.get(name), now)
            elif name not in fleet.tracks:  # another replica's, not written by it yet: shown as new
                previous = returning.get(name)
                fleet.tracks[name] = reconcile(
                    previous, name, domain_plan.config.verify, domain_plan.specs, now
                )[0]
        await self.writes.flush()
        await self.store.purge_removed(now - config.storage.retention)
        await self.store.purge_history(now - config.storage.history_retention)

    def _wanted(self, config: Config) -> dict[str, tuple[DomainConfig, Source]]:
        """This shard's domains: the config's, then the API's (whose names the config lacks)."""
        shard, total = config.sharding.shard, config.sharding.total_shards
        wanted: dict[str, tuple[DomainConfig, Source]] = {
            d.name: (d, "config") for d in config.domains if owns(d.name, shard, total)
        }
        for name, domain in self.fleet.api_domains.items():
            if name not in wanted and owns(name, shard, total):
                wanted[name] = (domain, "api")
        return wanted

    async def _take_over(self, config: Config, now: datetime) -> None:
        """API domains whose names the config now holds: the config manages them from here on.
        Their documents go; their state and history stay; their history says what happened."""
        fleet = self.fleet
        for name in [n for n in fleet.documents if config.domain(n) is not None]:
            track = fleet.tracks.get(name) or await self.store.track(name) or DomainTrack(name)
            change = _lifecycle(track, "managed_by_config", now, "the config file now manages this domain")
            await self._commit(track, [change], write=DocumentWrite(None))
            fleet.api_domains.pop(name, None)
            fleet.documents.pop(name)
            log.warning("domain_taken_over_by_config", domain=name)

    async def _adopt(
        self,
        name: str,
        domain_plan: DomainPlan,
        old_plan: DomainPlan | None,
        returning: DomainTrack | None,
        now: datetime,
        *,
        takeover: bool = False,
    ) -> None:
        """Bring one domain's state in line with its plan, and schedule it (from when it was
        last checked, after a restart or a slot's `takeover`)."""

        def reconciled() -> tuple[DomainTrack | None, DomainTrack, list[Change]]:
            previous = self.fleet.tracks.get(name) or returning
            if previous is not None:
                previous = adopt_legacy_fingerprints(previous, domain_plan)
            return previous, *reconcile(previous, name, domain_plan.config.verify, domain_plan.specs, now)

        previous, track, changes = reconciled()
        stored = None
        sends = previous is not None and self.fleet.webhooks and any(map(sends_webhook_change, changes))
        if sends and self.fleet.known_results(name) is None:  # a webhook body shows stored results
            stored = await self.store.results(name)
            previous, track, changes = reconciled()  # again: a check may have landed meanwhile
        self._queue(self.fleet.commit(track, changes, stored=stored))
        if old_plan is None and not changes and track.checked_at is not None:
            # a restart, or a slot taken over: carry on where it stopped
            self.scheduling.resume_check(name, track.checked_at, now, takeover=takeover)
        elif old_plan is not domain_plan or not self.scheduling.is_pending(name):
            self.scheduling.schedule_check(name, now, immediately=True)

    # -- the API ------------------------------------------------------------------------------
    async def load_documents(self) -> None:
        """The stored API domains, validated again (a document the models now refuse is logged
        and left stored, unchecked, rather than stopping the daemon)."""
        fleet = self.fleet
        fleet.documents = await self.store.documents()
        fleet.api_domains = {}
        for name, stored in fleet.documents.items():
            why = refused_name(name)
            if why is not None:  # kept, checked, editable and deletable: never dropped
                log.warning("domain_name_refused_now", domain=name, reason=why)
            try:
                fleet.api_domains[name] = parse_document(dict(stored.body), stored=True)[1]
            except DocumentError as exc:
                log.error("stored_document_invalid", domain=name, problems=str(exc))  # noqa: TRY400

    async def put_domain(self, document: StoredDocument, domain: DomainConfig, action: Action) -> list[Event]:
        """Create or replace an API domain and check it at once; its events."""
        async with self.lock:
            return await self._put_domain(document, domain, action)

    async def _put_domain(
        self, document: StoredDocument, domain: DomainConfig, action: Action
    ) -> list[Event]:
        assert self.config is not None
        fleet, now, name = self.fleet, self.clock(), domain.name
        domain_plan = DomainPlan.of(domain, self.config.defaults, "api", self.config.probes.implied)
        previous = fleet.tracks.get(name) or await self.store.track(name)  # a name created again
        stored = None if fleet.known_results(name) is not None else await self.store.results(name)
        previous = fleet.tracks.get(name) or previous  # (a check may have landed meanwhile)
        track, changes = reconcile(previous, name, domain.verify, domain_plan.specs, now)
        if action.verify_now:
            track, more = request_verification(track, domain_plan.specs, now)
            changes += more
        if not action.verify_now:
            what = "created" if name not in fleet.documents else "updated"
            changes.insert(0, _lifecycle(previous or track, what, now, f"{what} over the API by {action.by}"))
        answer = None
        if action.answer is not None:
            answer = action.answer(
                domain_view(track, domain_plan, {**(stored or {}), **(fleet.known_results(name) or {})})
            )
        write = DocumentWrite(document, answer=answer)
        try:
            events = await self._commit(track, changes, write=write, plan=domain_plan, stored=stored)
        except BaseException:
            if name not in fleet.plans:
                fleet.tracks.pop(name, None)  # not written: as if never created
            raise
        fleet.plans[name], fleet.documents[name], fleet.api_domains[name] = domain_plan, document, domain
        fleet.forget_observed(name)
        self.scheduling.schedule_check(name, now, immediately=True)
        return events

    async def delete_domain(self, name: str, by: str) -> list[Event]:
        """Stop checking an API domain now; its state stays for storage.retention."""
        async with self.lock:
            fleet, now = self.fleet, self.clock()
            track = fleet.tracks.get(name) or await self.store.track(name) or DomainTrack(name)
            stored = None if fleet.known_results(name) is not None else await self.store.results(name)
            track = fleet.tracks.get(name) or track
            change = _lifecycle(track, "deleted", now, f"deleted over the API by {by}")
            events = await self._commit(
                track, [change], write=DocumentWrite(None, removed_at=now), stored=stored
            )
            fleet.plans.pop(name, None)
            fleet.documents.pop(name, None)
            fleet.api_domains.pop(name, None)
            fleet.forget(name)
            self.scheduling.unschedule(name)
            fleet.changed(name)
            return events

    async def verify(self, name: str, by: str = "api") -> list[Event]:
        """Start (or restart) verification now: not_started or failed -> pending, check at once."""
        async with self.lock:
            fleet = self.fleet
            domain_plan = fleet.plans[name]
            if domain_plan.source == "api" and not domain_plan.config.verify:
                # An API domain remembers the request: its document says verify: true from now on.
                stored = fleet.documents[name]
                body = {**stored.body, "verify": True}
                document = replace(stored, body=body, updated_at=self.clock())
                return await self._put_domain(document, parse_document(body)[1], Action(by, verify_now=True))
            results = None if fleet.known_results(name) is not None else await self.store.results(name)
            track, changes = request_verification(fleet.tracks[name], domain_plan.specs, self.clock())
            events = await self._commit(track, changes, stored=results)
            self.scheduling.schedule_check(name, self.clock(), immediately=True)
            return events

    async def acknowledge(self, name: str, record: str, by: str) -> list[Event]:
        """A pinned record's change accepted: what it publishes now is its pin's new baseline;
        checked at once, so the finding clears."""
        async with self.lock:
            track = self.fleet.tracks[name]
            track, change = acknowledged(track, record, by, self.clock())
            events = await self._commit(track, [change])
            self.scheduling.schedule_check(name, self.clock(), immediately=True)
            return events

    # -- slots coming and going (clustered) ---------------------------------------------------
    async def gain(self, names: Collection[str], stored: Mapping[str, DomainTrack]) -> None:
        """Domains whose slot this replica now holds: their state as `stored` (the last holder's
        writes ended with its lease), brought in line with their plans and scheduled from when
        they were last checked. Called with `lock` held, the state read under it."""
        fleet, now = self.fleet, self.clock()
        for name in names:
            fleet.forget_observed(name)
            if name in stored:
                fleet.tracks[name] = stored[name]
            else:
                fleet.tracks.pop(name, None)
        for name in names:
            domain_plan = fleet.plans.get(name)
            if domain_plan is not None:
                await self._adopt(name, domain_plan, None, None, now, takeover=True)
        await self.writes.flush()

    def follow(self, changed: Changed) -> None:
        """Other replicas' writes (clustered): the state, facts and documents of the domains
        this replica does not hold, as they stored them, so its pages and API show the fleet."""
        fleet, owns = self.fleet, self.owns
        names = [n for n in {*changed.tracks, *changed.removed} if owns is None or not owns(n)]
        for name in names:
            if name in changed.documents:
                self._follow_document(name, changed.documents[name])
            if name in changed.removed:
                if name not in fleet.plans:
                    fleet.forget(name)
                continue
            fleet.tracks[name] = changed.tracks[name]
            if name in changed.facts:
                fleet.facts[name] = changed.facts[name]
        if names:
            fleet.changed(*names)

    def _follow_document(self, name: str, document: StoredDocument | None) -> None:
        fleet, config = self.fleet, self.config
        if config is None or config.domain(name) is not None or fleet.documents.get(name) == document:
            return
        if document is None:  # deleted by its owner
            fleet.documents.pop(name, None)
            fleet.api_domains.pop(name, None)
            fleet.plans.pop(name, None)
            return
        try:
            domain = parse_document(dict(document.body), stored=True)[1]
        except DocumentError as exc:
            log.error("stored_document_invalid", domain=name, problems=str(exc))  # noqa: TRY400
            return
        fleet.documents[name], fleet.api_domains[name] = document, domain
        fleet.plans[name] = DomainPlan.of(domain, config.defaults, "api", config.probes.implied)

    def lose(self, names: Collection[str]) -> None:
        """Domains whose slot another replica holds now: no new check (those in flight finish,
        and the store refuses their writes); their state is read from the store from now on."""
        for name in names:
            self.scheduling.unschedule(name)
            self.fleet.forget_observed(name)

    # -- writing ------------------------------------------------------------------------------
    def _fenced(self, save: Save) -> Save:
        return save if self.fence is None else replace(save, fence=self.fence(save.track.name))

    def _queue(self, save: Save | None) -> None:
        if save is not None:
            self.writes.add(self._fenced(save))

    async def _commit(
        self,
        track: DomainTrack,
        changes: list[Change],
        *,
        write: DocumentWrite | None = None,
        plan: DomainPlan | None = None,
        stored: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> list[Event]:
        """Write one domain's new state now (after anything queued before it): its events."""
        save = self.fleet.commit(track, changes, write=write, plan=plan, stored=stored)
        if save is None:
            await self.writes.flush()
            return []
        self.writes.add(self._fenced(save))
        written = await self.writes.flush()
        return written[-1] if written else []


def _lifecycle(track: DomainTrack, action: str, now: datetime, reason: str) -> Change:
    """A lifecycle event: the domain's status is the same before and after it."""
    return Change(track.name, LIFECYCLE, action, track.status, track.status, now, reason, {})
