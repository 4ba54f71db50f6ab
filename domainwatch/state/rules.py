"""The verification rules: (previous state, observation, now) -> new state. Pure: no I/O, no clock.

The rules are the product (docs/status.md has the tables). Each function takes the current time
from its caller, so tests drive 72 hours in microseconds.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from domainwatch.model import Finding, RecordState, Severity


class Status(enum.StrEnum):
    NOT_STARTED = "not_started"
    PENDING = "pending"
    VERIFIED = "verified"
    PARTIALLY_VERIFIED = "partially_verified"
    PARTIALLY_FAILED = "partially_failed"
    FAILED = "failed"
    TEMPORARY_FAILURE = "temporary_failure"


def settled(status: Status) -> bool:
    """Nothing to act on: verified, or deliberately not verified."""
    return status in (Status.VERIFIED, Status.NOT_STARTED)


class Observation(enum.StrEnum):
    FOUND = "found"  # published and correct
    MISSING = "missing"  # NXDOMAIN, NODATA or a wrong value: conclusive
    ERROR = "error"  # timeout, SERVFAIL, refused: no conclusive answer


def state_of(findings: Iterable[Finding]) -> RecordState:
    """What a published record's findings make of it: WRONG if any is an error, else PRESENT."""
    if any(f.severity is Severity.ERROR for f in findings):
        return RecordState.WRONG
    return RecordState.PRESENT


def observe(state: RecordState) -> Observation:
    if state is RecordState.PRESENT:
        return Observation.FOUND
    if state is RecordState.ERROR:
        return Observation.ERROR
    return Observation.MISSING


@dataclass(frozen=True, slots=True)
class Rules:
    window: timedelta = timedelta(hours=72)
    confirm_missing: int = 2


@dataclass(frozen=True, slots=True)
class RecordTrack:
    """One record's verification state; every field is stored."""

    status: Status = Status.NOT_STARTED
    since: datetime | None = None  # when `status` began
    started_at: datetime | None = None  # start of the pending window
    missing_since: datetime | None = None  # first miss of the current run of misses
    misses: int = 0  # consecutive conclusive misses while verified
    stale: bool = False  # the last observation was a lookup error
    last_observation: Observation | None = None
    checked_at: datetime | None = None


def same_but_time(a: RecordTrack, b: RecordTrack) -> bool:
    """Equal in every field but `checked_at` (the store's test for a row to skip)."""
    return (
        a.status is b.status
        and a.since == b.since
        and a.started_at == b.started_at
        and a.missing_since == b.missing_since
        and a.misses == b.misses
        and a.stale == b.stale
        and a.last_observation is b.last_observation
    )


def start(track: RecordTrack, now: datetime) -> RecordTrack:
    """Verification requested (or restarted): pending with a fresh window."""
    return RecordTrack(Status.PENDING, since=now, started_at=now, checked_at=track.checked_at)


def stop(track: RecordTrack, now: datetime) -> RecordTrack:
    """verify: false -> not_started."""
    if track.status is Status.NOT_STARTED:
        return track
    return RecordTrack(Status.NOT_STARTED, since=now, checked_at=track.checked_at)


def next_record(track: RecordTrack, seen: Observation, now: datetime, rules: Rules) -> RecordTrack:
    """Apply one observation to one record (the table in docs/status.md)."""
    if track.status is Status.NOT_STARTED:
        return track  # not_started records are not checked
    if seen is Observation.FOUND and track.status is Status.VERIFIED:
        # Still there: what every check of a healthy fleet comes to (built directly, as
        # dataclasses.replace costs several times more, twice per record and check).
        return RecordTrack(Status.VERIFIED, track.since, track.started_at, None, 0, False, seen, now)
    checked = replace(track, checked_at=now, last_observation=seen, stale=seen is Observation.ERROR)
    if seen is Observation.ERROR:
        return checked  # an error neither confirms nor resets anything
    if seen is Observation.FOUND:
        return _to(checked, Status.VERIFIED, now, started_at=None, missing_since=None, misses=0)
    return _on_missing(checked, now, rules)


def _on_missing(track: RecordTrack, now: datetime, rules: Rules) -> RecordTrack:
    if track.status is Status.PENDING:
        assert track.started_at is not None
        if now - track.started_at >= rules.window:
            return _to(track, Status.FAILED, now)
        return track
    if track.status is Status.VERIFIED:
        first_miss = track.missing_since or now
        misses = track.misses + 1
        if misses >= rules.confirm_missing:
            return _to(track, Status.TEMPORARY_FAILURE, now, missing_since=first_miss, misses=misses)
        return replace(track, missing_since=first_miss, misses=misses)
    if track.status is Status.TEMPORARY_FAILURE:
        assert track.missing_since is not None
        if now - track.missing_since >= rules.window:
            return _to(track, Status.FAILED, now, misses=track.misses + 1)
        return replace(track, misses=track.misses + 1)
    return track  # failed stays failed


def _to(track: RecordTrack, status: Status, now: datetime, **changes: object) -> RecordTrack:
    return replace(track, status=status, since=now, **changes)  # type: ignore[arg-type]


def deadline(track: RecordTrack, rules: Rules) -> datetime | None:
    """When a pending or temporarily failing record would fail, if nothing changes."""
    if track.status is Status.PENDING and track.started_at is not None:
        return track.started_at + rules.window
    if track.status is Status.TEMPORARY_FAILURE and track.missing_since is not None:
        return track.missing_since + rules.window
    return None


def capability_status(records: Iterable[Status]) -> Status:
    """Over a capability's required records."""
    statuses = list(records)
    if all(s is Status.VERIFIED for s in statuses):
        return Status.VERIFIED
    if Status.FAILED in statuses:
        return Status.FAILED
    if Status.TEMPORARY_FAILURE in statuses:
        return Status.TEMPORARY_FAILURE
    return Status.PENDING


def domain_status(verify: bool, capabilities: Mapping[str, Status]) -> Status:
    """Over a domain's enabled capabilities."""
    statuses = list(capabilities.values())
    if not verify:
        return Status.NOT_STARTED
    if all(s is Status.VERIFIED for s in statuses):
        return Status.VERIFIED
    if Status.TEMPORARY_FAILURE in statuses:
        return Status.TEMPORARY_FAILURE
    if Status.VERIFIED in statuses and Status.FAILED in statuses:
        return Status.PARTIALLY_FAILED
    if all(s is Status.FAILED for s in statuses):
        return Status.FAILED
    if Status.VERIFIED in statuses and Status.PENDING in statuses:
        return Status.PARTIALLY_VERIFIED
    return Status.PENDING
