"""Domain-level verification: apply a check report, a config change or the verify action to a
domain's stored state.

Pure: (previous DomainTrack, what happened, now) -> (new DomainTrack, changes). Every change says
what caused it, so each status in the history is explainable from stored observations.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from domainwatch.model import DomainReport, RecordResult
from domainwatch.state.drift import RecordDrift
from domainwatch.state.rules import (
    Observation,
    RecordTrack,
    Rules,
    Status,
    capability_status,
    deadline,
    domain_status,
    next_record,
    observe,
    start,
    stop,
)


@dataclass(frozen=True, slots=True)
class RecordSpec:
    """What the engine needs to know about one planned record."""

    record: str
    capability: str | None  # "sending", "receiving", or None (advisory)
    fingerprint: str  # changes when the record's expectation changes


@dataclass(frozen=True, slots=True)
class DomainTrack:
    name: str
    verify: bool = True
    status: Status = Status.NOT_STARTED
    since: datetime | None = None
    records: Mapping[str, RecordTrack] = field(default_factory=dict)
    fingerprints: Mapping[str, str] = field(default_factory=dict)
    capabilities: Mapping[str, Status] = field(default_factory=dict)
    checked_at: datetime | None = None
    sequence: int = 0  # the number of the domain's last event (events.number)
    verified_at: datetime | None = None  # the last moment its status was verified; None: never
    # What drift remembers of each record (fleet/drift.py); a record not in it: nothing yet.
    drift: Mapping[str, RecordDrift] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Change:
    """One status change: a record's, a capability's or the domain's."""

    domain: str
    kind: str  # "record" | "capability" | "domain"
    subject: str  # the record id, the capability, or the domain name
    previous: Status
    status: Status
    at: datetime
    reason: str
    observations: Mapping[str, Any]


def reconcile(
    prev: DomainTrack | None, name: str, verify: bool, specs: Sequence[RecordSpec], now: datetime
) -> tuple[DomainTrack, list[Change]]:
    """Bring a domain's state in line with its (new) configuration."""
    if prev is not None and _in_line(prev, verify, specs):
        # A restart or a reload that changed nothing for this domain (the usual case, 100,000
        # times at start-up): the stored state stands, its records put in the plan's order, and
        # its fingerprints the plan's own strings (equal to the stored ones: kept once, not
        # twice; 31 MB at 100,000 domains).
        if list(prev.records) == [s.record for s in specs] and all(
            prev.fingerprints[s.record] is s.fingerprint for s in specs
        ):
            return prev, []
        records = {s.record: prev.records[s.record] for s in specs}
        return replace(prev, records=records, fingerprints={s.record: s.fingerprint for s in specs}), []
    return reconcile_anew(prev, name, verify, specs, now)


def reconcile_anew(
    prev: DomainTrack | None, name: str, verify: bool, specs: Sequence[RecordSpec], now: datetime
) -> tuple[DomainTrack, list[Change]]:
    """reconcile, working everything out again (what its shortcut must agree with)."""
    track = prev or DomainTrack(name, verify=verify)
    records: dict[str, RecordTrack] = {}
    changes: list[Change] = []
    for spec in specs:
        old = track.records.get(spec.record, RecordTrack())
        new, reason = _reconciled(old, spec, track.fingerprints.get(spec.record), verify, now)
        records[spec.record] = new
        if new.status is not old.status:
            changes.append(Change(name, "record", spec.record, old.status, new.status, now, reason, {}))
    fingerprints = {s.record: s.fingerprint for s in specs}
    updated = replace(track, verify=verify, records=records, fingerprints=fingerprints)
    return _aggregate(track, updated, specs, now, reason="configuration", changes=changes)


def _in_line(track: DomainTrack, verify: bool, specs: Sequence[RecordSpec]) -> bool:
    """Whether reconciling would change nothing: the same records and fingerprints, each record
    already started (or, unverified, not started) and the aggregates already made from them."""
    if track.verify != verify or track.since is None or len(track.fingerprints) != len(specs):
        return False
    if len(track.records) != len(specs):
        return False
    for spec in specs:
        record = track.records.get(spec.record)
        if record is None or track.fingerprints.get(spec.record) != spec.fingerprint:
            return False
        if (record.status is Status.NOT_STARTED) is verify:
            return False
    return True


def _reconciled(
    old: RecordTrack, spec: RecordSpec, fingerprint: str | None, verify: bool, now: datetime
) -> tuple[RecordTrack, str]:
    if not verify:
        return stop(old, now), "verification disabled"
    if fingerprint is not None and fingerprint != spec.fingerprint:
        return start(old, now), "expectation changed"
    if old.status is Status.NOT_STARTED:
        return start(old, now), "verification requested"
    return old, ""


def request_verification(
    prev: DomainTrack, specs: Sequence[RecordSpec], now: datetime
) -> tuple[DomainTrack, list[Change]]:
    """The API's verify action: not_started or failed records restart at pending."""
    records = dict(prev.records)
    changes: list[Change] = []
    for spec in specs:
        old = records.get(spec.record, RecordTrack())
        if old.status in (Status.NOT_STARTED, Status.FAILED):
            records[spec.record] = start(old, now)
            changes.append(
                Change(
                    prev.name,
                    "record",
                    spec.record,
                    old.status,
                    Status.PENDING,
                    now,
                    "verification requested",
                    {},
                )
            )
    updated = replace(prev, verify=True, records=records)
    return _aggregate(prev, updated, specs, now, reason="verification requested", changes=changes)


def apply_report(
    prev: DomainTrack, specs: Sequence[RecordSpec], report: DomainReport, rules: Rules, now: datetime
) -> tuple[DomainTrack, list[Change]]:
    """Apply one check of the domain: each record's observation, then the aggregates."""
    results = {r.record: r for r in report.records}
    summaries: list[dict[str, Any]] = []  # made once, and only when something changed

    def observations() -> dict[str, Any]:
        if not summaries:
            summaries.append({rid: observation_summary(result) for rid, result in results.items()})
        return summaries[0]

    records = dict(prev.records)
    changes: list[Change] = []
    for spec in specs:
        result = results.get(spec.record)
        old = records.get(spec.record, RecordTrack())
        if result is None:
            continue
        new = next_record(old, observe(result.state), now, rules)
        records[spec.record] = new
        if new.status is not old.status:
            changes.append(
                Change(
                    prev.name,
                    "record",
                    spec.record,
                    old.status,
                    new.status,
                    now,
                    _why(old, new),
                    {spec.record: observations()[spec.record]},
                )
            )
    updated = replace(prev, records=records, checked_at=now)
    track, changes = _aggregate(
        prev, updated, specs, now, reason="observation", observations=observations, changes=changes
    )
    if track.status is Status.VERIFIED:  # seen verified by this check (a reload sets nothing)
        track = replace(track, verified_at=now)
    return track, changes


def _why(old: RecordTrack, new: RecordTrack) -> str:
    if new.status is Status.FAILED:
        return "window expired"
    if new.status is Status.TEMPORARY_FAILURE:
        return f"missing {new.misses} consecutive checks"
    return "found" if new.last_observation is Observation.FOUND else "observation"


def _aggregate(
    before: DomainTrack,
    track: DomainTrack,
    specs: Sequence[RecordSpec],
    now: datetime,
    *,
    reason: str,
    observations: Callable[[], Mapping[str, Any]] = dict,
    changes: list[Change],
) -> tuple[DomainTrack, list[Change]]:
    """Recompute capability and domain statuses after record changes; add their changes."""
    capabilities: Mapping[str, Status] = {
        capability: capability_status(
            track.records[s.record].status for s in specs if s.capability == capability
        )
        if track.verify
        else Status.NOT_STARTED
        for capability in sorted({s.capability for s in specs if s.capability})
    }
    for capability, status in capabilities.items():
        previous = before.capabilities.get(capability, Status.NOT_STARTED)
        if status is not previous:
            # A capability's status follows from its own records only: their observations
            # explain it (the domain's event keeps them all).
            own = {s.record for s in specs if s.capability == capability}
            seen = {record: value for record, value in observations().items() if record in own}
            changes.append(Change(track.name, "capability", capability, previous, status, now, reason, seen))
    if capabilities == before.capabilities:
        capabilities = before.capabilities  # the one mapping domains loaded alike share (rows.py)
    status = domain_status(track.verify, capabilities)
    since = track.since
    if status is not before.status or track.since is None:
        since = now
        if status is not before.status:
            changes.append(
                Change(track.name, "domain", track.name, before.status, status, now, reason, observations())
            )
    return replace(track, capabilities=capabilities, status=status, since=since), changes


def observation_summary(result: RecordResult) -> dict[str, Any]:
    """What a change stores about the observation that caused it."""
    return {
        "observation": observe(result.state).value,
        "state": result.state.value,
        "found": list(result.found),
        "findings": [f.code.value for f in result.findings],
    }


def window_deadline(track: DomainTrack, specs: Sequence[RecordSpec], rules: Rules) -> datetime | None:
    """The earliest moment a required record would fail if nothing changes."""
    deadlines = [
        deadline(track.records[s.record], rules) for s in specs if s.capability and s.record in track.records
    ]
    present = [d for d in deadlines if d is not None]
    return min(present) if present else None


def is_stale(track: DomainTrack, specs: Sequence[RecordSpec]) -> bool:
    """The last observation of some required record was a lookup error."""
    return any(track.records[s.record].stale for s in specs if s.capability and s.record in track.records)


STALE = "stale"  # the Event.kind of a stale period's start (`entered`) and end (`left`)


def stale_change(
    before: DomainTrack, after: DomainTrack, specs: Sequence[RecordSpec], now: datetime
) -> Change | None:
    """A stale period starting or ending with this check, as history (never a webhook): the
    statuses stand, so only this says when lookups failed. None when nothing flipped."""
    was, now_stale = is_stale(before, specs), is_stale(after, specs)
    if was == now_stale:
        return None
    failing = [
        s.record
        for s in specs
        if s.capability and s.record in after.records and after.records[s.record].stale
    ]
    if now_stale:
        reason = f"lookups of {', '.join(failing)} failed: statuses hold until a conclusive answer"
        return Change(
            after.name, STALE, "entered", after.status, after.status, now, reason, {"records": failing}
        )
    reason = "conclusive answers again"
    return Change(after.name, STALE, "left", after.status, after.status, now, reason, {})
