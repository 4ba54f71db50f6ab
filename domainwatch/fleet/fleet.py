"""The fleet: the in-memory state of the domains this replica owns, and how a change becomes a
write (pure: no I/O; the daemon does the reading, writing and scheduling around it).

`commit` turns a domain's new state and the changes that led to it into the Save the store
writes: the changes numbered as events, and webhook bodies snapshotting the domain right after
them. `record_check` is the same for a check's report. Readers (metrics, pages, the API) see
the fleet through state.fleet.FleetView and are told of each change (FleetListener).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from domainwatch.checks.base import Observed
from domainwatch.checks.registry import facts_of
from domainwatch.config.domains import DomainConfig
from domainwatch.config.plan import DomainPlan
from domainwatch.model import DomainReport
from domainwatch.present.views import domain_view
from domainwatch.state.domain import Change, DomainTrack, apply_report, stale_change
from domainwatch.state.events import number
from domainwatch.state.facts import DomainFacts
from domainwatch.state.fleet import FleetListener
from domainwatch.store.base import DocumentWrite, Results, Save, StoredDocument
from domainwatch.webhooks.payloads import event_payload, sends_webhook


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

    # -- reading ------------------------------------------------------------------------------
    def known_results(self, name: str) -> Results | None:
        """The domain's latest results as this replica saw them since start-up (None: it has
        not checked the domain yet; the store has them)."""
        parts = [kept[name] for kept in (self.observed, self.observed_probes) if name in kept]
        if not parts:
            return None
        return {r.record: r.as_dict() for part in parts for r in part.results}

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
    ) -> Save | None:
        """One check's report (of the DNS part or the probed part) as the domain's new state.
        `observed`: (this check, the one before it); `other`: the other part's results."""
        current, previous = observed
        before = self.tracks[name]
        track, changes = apply_report(before, plan.specs, report, plan.rules, now)
        stale = stale_change(before, track, plan.specs, now)
        if stale is not None:
            changes = [*changes, stale]
        if current is not None:
            (self.observed_probes if probing else self.observed)[name] = current
        if current is not None and current is previous:
            return self.commit(track, changes)  # the same results as last time: stored already
        results = {r.record: r.as_dict() for r in report.records}  # what is stored; facts' source
        facts = facts_of({**other, **results})
        if facts != self.facts.get(name):
            self.facts[name] = facts
        return self.commit(track, changes, results=results, facts=facts)

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
    ) -> Save | None:
        """Make `track` the domain's state: the Save to write, or None when nothing changed.
        `plan`: the domain's plan when it is not (yet) the fleet's (an API create); `stored`:
        its stored results, for webhook bodies, when this replica has not seen them."""
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
            bodies = {e.id: event_payload(e, view) for e in events} if view is not None else {}
            payloads = {event_id: body for event_id, body in bodies.items() if body is not None}
        self.replace(track)
        return Save(track, events, results, payloads, facts, before, write)

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
