"""Drift and DKIM rotation for one check of one domain (pure: no I/O, the time is a parameter).

Each record's conclusive snapshot (checks/drift.py) is compared with the last conclusive one the
record's RecordDrift names. A difference is one `change` event with its reasons and direction;
a lookup error changes nothing, and a record's first snapshot is a baseline, not a change. Pins
hold a record to a snapshot: a difference outside a maintenance window is the error finding
`record_pinned_changed`. Rotation findings follow from a DKIM key's role and since when it has
been published. Findings drift adds are stripped and made again on every check, so results kept
from an earlier check (the runner reuses them when nothing changed) are amended alike.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from domainwatch.checks.base import Published, Reason
from domainwatch.checks.drift import body, digest, direction, from_body, published, reasons
from domainwatch.checks.kinds.dkim.key import Code as Dkim
from domainwatch.model import CommonCode, DomainReport, Finding, RecordResult, RecordState, Severity
from domainwatch.state.domain import Change, DomainTrack
from domainwatch.state.drift import ACKNOWLEDGED, ACTIVE, CHANGE, NO_DRIFT, RecordDrift, packed
from domainwatch.state.rules import Status, state_of
from domainwatch.state.windows import MaintenanceWindow

_ADDED = frozenset(
    {
        CommonCode.RECORD_PINNED_CHANGED.value,
        Dkim.DKIM_NEXT_NOT_READY.value,
        Dkim.DKIM_NEXT_READY.value,
        Dkim.DKIM_RETIRING_SAFE_TO_REMOVE.value,
        Dkim.DKIM_RETIRING_REMOVED_EARLY.value,
        Dkim.DKIM_KEY_TOO_OLD.value,
    }
)


@dataclass(frozen=True, slots=True)
class DriftSettings:
    """What the domain's config says about drift: pins, DKIM roles, the rotation durations and
    the maintenance windows open for it."""

    pins: frozenset[str] = frozenset()
    roles: Mapping[str, str] = field(default_factory=dict)  # dkim:<selector> -> role
    retire_overlap: timedelta = timedelta(days=7)
    max_key_age: timedelta = timedelta(days=365)
    windows: Sequence[MaintenanceWindow] = ()

    @property
    def asks_more(self) -> bool:
        """Whether results seen before may be judged anew (pins, roles and windows depend on
        the time and the config, not only on the answers)."""
        return bool(self.pins or self.roles or self.windows)


@dataclass(frozen=True, slots=True)
class DriftOutcome:
    report: DomainReport  # with the findings drift adds
    drift: Mapping[str, RecordDrift]  # every record's, the unchecked ones as they were
    changes: list[Change]
    value_sets: dict[str, str]  # digest -> body: the sets this check saw first


def digests(report: DomainReport) -> dict[str, str]:
    """Each conclusive record's snapshot digest (what the daemon asks the store's sets for)."""
    out = {}
    for result in report.records:
        snapshot = published(result)
        if snapshot is not None:
            out[result.record] = digest(body(snapshot))
    return out


def observe(
    track: DomainTrack,
    report: DomainReport,
    *,
    sets: Callable[[str], str | None],
    settings: DriftSettings,
    now: datetime,
) -> DriftOutcome:
    """One check's drift. `sets`: a stored value set's body by its digest (a change's `before`)."""
    name, previous = track.name, track.drift
    drift = {record: held for record, held in previous.items() if record in track.records}  # planned ones
    changes: list[Change] = []
    new_sets: dict[str, str] = {}
    results = []
    for raw in report.records:
        result = _stripped(raw)
        before = previous.get(result.record, NO_DRIFT)
        role = settings.roles.get(result.record, ACTIVE)
        if role != before.role or (role != ACTIVE and before.role_since is None):
            before = replace(before, role=role, role_since=None if role == ACTIVE else now)
        snapshot = published(result)
        after, change = before, None
        if snapshot is not None:
            text = body(snapshot)
            after, change = _compared(name, result.record, before, (snapshot, text), sets, settings, now)
            if after.published != before.published:
                new_sets[after.published or ""] = text
        if change is not None:
            held = track.records.get(result.record)
            status = held.status if held is not None else Status.NOT_STARTED
            changes.append(replace(change, previous=status, status=status))
        drift[result.record] = after
        added = _pin_findings(result, after, settings) + _rotation_findings(result, after, settings, now)
        results.append(_amended(result, added, raw))
    return DriftOutcome(DomainReport(report.name, tuple(results)), packed(drift), changes, new_sets)


def _compared(  # noqa: PLR0917 (one record's step: each argument is its own)
    name: str,
    record: str,
    before: RecordDrift,
    seen_now: tuple[Published, str],
    sets: Callable[[str], str | None],
    settings: DriftSettings,
    now: datetime,
) -> tuple[RecordDrift, Change | None]:
    """The record's drift after seeing `seen_now` (a snapshot and its body), and the change it
    is (None: none)."""
    snapshot, text = seen_now
    seen = digest(text)
    windowed = any(w.covers(name, record, now) for w in settings.windows)
    pinned = _pin(before, seen, record in settings.pins, windowed=windowed)
    if before.published == seen:
        return replace(before, pinned=pinned), None
    if before.published is None:  # the first snapshot: a baseline (a migrated key keeps its age)
        return replace(before, published=seen, since=before.since or now, pinned=pinned), None
    text_before = sets(before.published)
    old = from_body(text_before) if text_before is not None else None
    why = reasons(record, old, snapshot) if old is not None else (Reason("value_changed"),)
    way = direction(why)
    weakened = now if way in ("weakening", "mixed") and not windowed else before.weakened_at
    after = replace(before, published=seen, since=now, pinned=pinned, weakened_at=weakened)
    observations = {
        "record": record,
        "before_set": before.published,
        "after_set": seen,
        "direction": way,
        "reasons": [r.as_dict() for r in why],
        "in_window": windowed,
    }
    shown = ", ".join(f"{r.code} ({r.tag})" if r.tag else r.code for r in why)
    change = Change(
        name, CHANGE, record, Status.NOT_STARTED, Status.NOT_STARTED, now, f"{way}: {shown}", observations
    )
    return after, change


def _pin(before: RecordDrift, seen: str, pinned: bool, *, windowed: bool) -> str | None:
    """The snapshot a pin holds the record to: set at the first conclusive check after pinning,
    moved by a change inside a maintenance window; None when not pinned."""
    if not pinned:
        return None
    if before.pinned is None or windowed:
        return seen
    return before.pinned


def _pin_findings(result: RecordResult, drift: RecordDrift, settings: DriftSettings) -> list[Finding]:
    if result.record not in settings.pins or drift.pinned is None or drift.published == drift.pinned:
        return []
    if drift.published is None or published(result) is None:
        return []  # not conclusive now: nothing new is known
    message = (
        f"{result.record} no longer publishes what it was pinned to (at pinning or its last "
        "acknowledgement): restore it, or acknowledge the change"
    )
    found = "; ".join(result.found)[:300] or "nothing"
    return [Finding(CommonCode.RECORD_PINNED_CHANGED, Severity.ERROR, message, found=found)]


def _rotation_findings(
    result: RecordResult, drift: RecordDrift, settings: DriftSettings, now: datetime
) -> list[Finding]:
    if not result.record.startswith("dkim:") or published(result) is None:
        return []
    present = result.state is not RecordState.MISSING
    if drift.role == "next":
        return [_next_finding(result, drift, now)]
    out = []
    if drift.role == "retiring" and drift.role_since is not None:
        safe = drift.role_since + settings.retire_overlap
        if not present and now < safe:
            message = (
                f"the retiring key was removed before its overlap ends ({_at(safe)}): mail signed "
                "with it and still in transit fails DKIM; publish it again until then"
            )
            out.append(Finding(Dkim.DKIM_RETIRING_REMOVED_EARLY, Severity.ERROR, message))
        elif present and now >= safe:
            message = f"the retiring key has overlapped since {_at(drift.role_since)}: safe to remove it"
            out.append(Finding(Dkim.DKIM_RETIRING_SAFE_TO_REMOVE, Severity.INFO, message))
    if (
        present
        and result.type != "CNAME"
        and drift.since is not None
        and now - drift.since > settings.max_key_age
    ):
        days = (now - drift.since).days
        message = f"this key has been published for {days} days (since {_at(drift.since)}): rotate it"
        out.append(Finding(Dkim.DKIM_KEY_TOO_OLD, Severity.WARNING, message))
    return out


def _next_finding(result: RecordResult, drift: RecordDrift, now: datetime) -> Finding:
    everywhere = result.state is RecordState.PRESENT and all(
        s.state is RecordState.PRESENT for s in result.servers
    )
    if not everywhere or drift.since is None:
        message = "the next key is not published correctly (on every nameserver) yet: do not sign with it"
        return Finding(Dkim.DKIM_NEXT_NOT_READY, Severity.INFO, message)
    ttl = result.facts.get("dkim_ttl", 0)
    ready = drift.since + timedelta(seconds=ttl if isinstance(ttl, int) else 0)
    if now < ready:
        message = (
            f"the next key is published since {_at(drift.since)}; resolvers may keep the answer "
            f"from before for its TTL ({ttl} s): switch signing to it from {_at(ready)}"
        )
        return Finding(Dkim.DKIM_NEXT_NOT_READY, Severity.INFO, message)
    message = (
        f"the next key has been published since {_at(drift.since)}, longer than its TTL ({ttl} s): "
        f"safe to switch signing to it since {_at(ready)}"
    )
    return Finding(Dkim.DKIM_NEXT_READY, Severity.INFO, message)


def _at(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _stripped(result: RecordResult) -> RecordResult:
    """The result without the findings drift added to it on an earlier check."""
    if not any(f.code.value in _ADDED for f in result.findings):
        return result
    findings = tuple(f for f in result.findings if f.code.value not in _ADDED)
    state = result.state
    if state in (RecordState.PRESENT, RecordState.WRONG):
        state = state_of(findings)
    return replace(result, findings=findings, state=state)


def _amended(result: RecordResult, added: list[Finding], raw: RecordResult) -> RecordResult:
    """The result with drift's findings; the very object checked when they are the same."""
    if not added:
        return raw if result is raw else result
    findings = result.findings + tuple(added)
    state = result.state
    if state is RecordState.PRESENT:
        state = state_of(findings)
    amended = replace(result, findings=findings, state=state)
    return raw if amended == raw else amended


def acknowledged(track: DomainTrack, record: str, by: str, now: datetime) -> tuple[DomainTrack, Change]:
    """A pin's new baseline: what the record publishes now."""
    name, drift = track.name, track.drift.get(record, NO_DRIFT)
    held = track.records.get(record)
    status = held.status if held is not None else Status.NOT_STARTED
    after = replace(track, drift=packed({**track.drift, record: replace(drift, pinned=drift.published)}))
    observations = {"record": record, "pinned_set": drift.published, "previous_set": drift.pinned, "by": by}
    change = Change(name, ACKNOWLEDGED, record, status, status, now, f"acknowledged by {by}", observations)
    return after, change


def change_values(changes: Sequence[Change], sets: Callable[[str], str | None]) -> dict[str, tuple[str, ...]]:
    """The value lists the changes' before and after sets hold, by digest (webhook bodies)."""
    out: dict[str, tuple[str, ...]] = {}
    for change in changes:
        for key in ("before_set", "after_set"):
            named = change.observations.get(key)
            text = sets(named) if isinstance(named, str) else None
            snapshot = from_body(text) if text is not None else None
            if snapshot is not None:
                out[str(named)] = snapshot.values
    return out
