"""The fleet: the in-memory state of the domains this replica owns, and how a change becomes a
write (pure: no I/O; the daemon does the reading, writing and scheduling around it).

`commit` turns a domain's new state and the changes that led to it into the Save the store
writes: the changes numbered as events, and webhook bodies snapshotting the domain right after
them. `record_check` is the same for a check's report. Readers (metrics, pages, the API) see
the fleet through state.fleet.FleetView and are told of each change (FleetListener).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from domainwatch.checks.base import Observed
from domainwatch.checks.registry import facts_of
from domainwatch.config.domains import DomainConfig
from domainwatch.config.plan import DomainPlan
from domainwatch.fleet import drift, history
from domainwatch.fleet.drift import DriftSettings
from domainwatch.model import DomainReport
from domainwatch.present.views import domain_view
from domainwatch.state.domain import Change, DomainTrack, apply_report, stale_change
from domainwatch.state.drift import ACTIVE, remembers_more
from domainwatch.state.events import number
from domainwatch.state.facts import DomainFacts
from domainwatch.state.fleet import FleetListener
from domainwatch.state.windows import MaintenanceWindow, covering
from domainwatch.store.base import DocumentWrite, Results, Save, StoredDocument
from domainwatch.webhooks.payloads import event_payload, sends_webhook

RECENT_SETS = 10_000  # value sets kept for changes' `before` until the store has them


class Fleet:
    def __init__(
        self,
        tracks: dict[str, DomainTrack],
        facts: dict[str, DomainFacts],
        event_id: Callable[[datetime], str],
        now: datetime,
    ) -> None:
        self.tracks, self.facts, self._event_id = tracks, facts, event_id
        self.plans: dict[str, DomainPlan] = {}
        self.documents: dict[str, StoredDocument] = {}  # API-managed domains, as stored
        self.api_domains: dict[str, DomainConfig] = {}  # the documents, validated
        # Each domain's last check since start-up, of its DNS records and of its probed ones: a
        # check whose answers are all the same again reuses its results (runner.observe_records).
        self.observed: dict[str, Observed] = {}
        self.observed_probes: dict[str, Observed] = {}
        self.listeners: list[FleetListener] = []
        self.webhooks = False  # whether events get webhook bodies (any endpoint configured)
        self.shard = (0, 1)
        self.last_reload_ok, self.last_reload_success_at = True, now
        self.windows: list[MaintenanceWindow] = []  # maintenance windows, as stored
        # Value sets this replica made lately (digest -> body): a change's `before` until the
        # store has it, and without asking it. Bounded: the store keeps them all.
        self.recent_sets: dict[str, str] = {}
        # Clustered: whether this replica holds a domain's slot (it holds every domain's state,
        # for the pages and the API, but checks and exports only its own). None: all its own.
        self.owns: Callable[[str], bool] | None = None

    # -- reading ------------------------------------------------------------------------------
    def known_results(self, name: str) -> Results | None:
        """The domain's latest results as this replica saw them since start-up (None: it has
        not checked the domain yet; the store has them)."""
        parts = [kept[name] for kept in (self.observed, self.observed_probes) if name in kept]
        if not parts:
            return None
        return {r.record: r.as_dict() for part in parts for r in part.results}

    def drift_settings(self, plan: DomainPlan, now: datetime) -> DriftSettings:
        settings = plan.settings
        roles = {e.record: role for e in plan.expectations if (role := getattr(e, "role", ACTIVE)) != ACTIVE}
        windows = covering(self.windows, plan.config.name, now) if self.windows else ()
        overlap, max_age = settings.dkim_retire_overlap, settings.dkim_max_key_age
        return DriftSettings(frozenset(plan.config.pins), roles, overlap, max_age, windows)

    def sets_wanted(self, name: str, report: DomainReport) -> list[str]:
        """The stored value sets a check's changes need as their `before` and this replica does
        not hold: ask the store for them before record_check (rare: only changed records)."""
        track = self.tracks.get(name)
        if track is None or not track.drift:
            return []
        wanted = []
        for record, seen in drift.digests(report).items():
            known = track.drift.get(record)
            if (
                known is not None
                and known.published not in (None, seen)
                and known.published not in self.recent_sets
            ):
                wanted.append(known.published)
        return wanted

    def needs_stored_results(self, name: str) -> bool:
        """Whether a commit of this domain may need its stored results for a webhook body."""
        return self.webhooks and name in self.tracks and self.known_results(name) is None

    # -- changing -----------------------------------------------------------------------------
    def record_check(
        self,
        name: str,
        plan: DomainPlan,
        report: DomainReport,
        now: datetime,
        observed: tuple[Observed | None, Observed | None],
        *,
        probing: bool,
        other: Results,
        stored_sets: Mapping[str, str] | None = None,
    ) -> Save | None:
        """One check's report (of the DNS part or the probed part) as the domain's new state.
        `observed`: (this check, the one before it); `other`: the other part's results;
        `stored_sets`: the value sets sets_wanted named, from the store."""
        current, previous = observed
        before = self.tracks[name]
        stored_sets = stored_sets or {}

        def body_of(digest: str) -> str | None:
            return stored_sets.get(digest) or self.recent_sets.get(digest)

        settings = self.drift_settings(plan, now)
        if (
            current is not None
            and current is previous
            and not (settings.asks_more or remembers_more(before.drift))
        ):
            # The very results of the last check, which drift saw, and nothing in them depends on
            # the time or the config (a pin, a role, a window): nothing can have changed.
            seen = drift.DriftOutcome(report, before.drift, [], {})
        else:
            seen = drift.observe(before, report, sets=body_of, settings=settings, now=now)
        report = seen.report
        track, changes = apply_report(before, plan.specs, report, plan.rules, now)
        changes = [*seen.changes, *changes]
        if seen.drift != before.drift:
            track = replace(track, drift=seen.drift)
        stale = stale_change(before, track, plan.specs, now)
        if stale is not None:
            changes = [*changes, stale]
        self._remember(seen.value_sets)
        values = drift.change_values(seen.changes, body_of) if seen.changes else None
        if current is not None and report.records != current.results:
            current = dataclasses.replace(current, results=report.records)  # with drift's findings
        if current is not None:
            (self.observed_probes if probing else self.observed)[name] = current
        if current is not None and current is previous:  # the same results as last time: stored already
            return self.commit(track, changes, value_sets=seen.value_sets, values=values)
        results = {r.record: r.as_dict() for r in report.records}  # what is stored; facts' source
        facts = facts_of({**other, **results})
        if facts != self.facts.get(name):
            self.facts[name] = facts
        return self.commit(
            track, changes, results=results, facts=facts, value_sets=seen.value_sets, values=values
        )

    def _remember(self, value_sets: Mapping[str, str]) -> None:
        if len(self.recent_sets) + len(value_sets) > RECENT_SETS:
            self.recent_sets.clear()
        self.recent_sets.update(value_sets)

    def commit(
        self,
        track: DomainTrack,
        changes: Sequence[Change],
        *,
        results: Results | None = None,
        facts: DomainFacts | None = None,
        write: DocumentWrite | None = None,
        plan: DomainPlan | None = None,
        stored: Results | None = None,
        value_sets: Mapping[str, str] | None = None,
        values: Mapping[str, Sequence[str]] | None = None,
    ) -> Save | None:
        """Make `track` the domain's state: the Save to write, or None when nothing changed.
        `plan`: the domain's plan when it is not (yet) the fleet's (an API create); `stored`:
        its stored results, for webhook bodies, when this replica has not seen them;
        `value_sets`: sets first seen (stored with the save); `values`: the value lists change
        events name, by digest, for their webhook bodies."""
        before = self.tracks.get(track.name)  # what is stored once the queued writes are done
        if before == track and not changes and results is None and write is None:
            if before is not None and before is not track:
                self.tracks[track.name] = track  # the same state, in the plan's order and strings
            return None
        track, events = number(track, changes, self._event_id)
        payloads = None
        if self.webhooks and any(sends_webhook(e) for e in events):
            plan = plan or self.plans.get(track.name)
            known = {**(stored or {}), **(self.known_results(track.name) or {}), **(results or {})}
            view = domain_view(track, plan, known) if plan is not None else None
            bodies = {e.id: event_payload(e, view, values or {}) for e in events} if view is not None else {}
            payloads = {event_id: body for event_id, body in bodies.items() if body is not None}
        self.replace(track)
        events, found = history.compact(events)  # after the bodies: those show the values
        sets = {**(value_sets or {}), **found}
        return Save(track, events, results, payloads, facts, before, write, sets or None)

    def replace(self, track: DomainTrack) -> None:
        self.tracks[track.name] = track
        self.changed(track.name)

    def restore(self, failed: Sequence[Save]) -> None:
        """A batch was not written: back to the stored tracks, so the next check re-derives the
        same changes (and their events) instead of losing them."""
        for save in reversed(failed):
            # Results that were not stored must be evaluated (and written) again, not reused.
            self.forget_observed(save.track.name)
            if self.tracks.get(save.track.name) is save.track and save.stored is not None:
                self.replace(save.stored)

    def forget_observed(self, name: str) -> None:
        self.observed.pop(name, None)
        self.observed_probes.pop(name, None)

    def forget(self, name: str) -> None:
        """A domain this replica no longer checks (its stored state stays)."""
        self.tracks.pop(name, None)
        self.facts.pop(name, None)
        self.forget_observed(name)

    def changed(self, *names: str) -> None:
        for reader in self.listeners:
            reader.domains_changed(names)

    def reshaped(self) -> None:
        for reader in self.listeners:
            reader.fleet_changed()
