"""How soon a domain is checked again: the most urgent of its required records' intervals, by
their status (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Protocol

from domainwatch.state.domain import DomainTrack, RecordSpec
from domainwatch.state.rules import Status


class Timing(Protocol):
    """A domain's intervals (config's Defaults, with the domain's own keys over them)."""

    @property
    def interval(self) -> timedelta: ...

    @property
    def pending_interval(self) -> timedelta: ...

    @property
    def recheck_interval(self) -> timedelta: ...

    @property
    def failed_interval(self) -> timedelta: ...


def interval_for(track: DomainTrack, specs: Sequence[RecordSpec], settings: Timing) -> timedelta | None:
    """How long until the next check: the most urgent of the required records' intervals.

    None when the domain is not being verified (not_started is never checked).
    """
    if not track.verify:
        return None
    intervals = [
        _record_interval(track.records[s.record].status, track.records[s.record].misses, settings)
        for s in specs
        if s.capability and s.record in track.records
    ]
    return min(intervals, default=settings.interval)


def _record_interval(status: Status, misses: int, settings: Timing) -> timedelta:
    if status is Status.PENDING:
        return settings.pending_interval
    if status is Status.TEMPORARY_FAILURE or (status is Status.VERIFIED and misses):
        return settings.recheck_interval  # confirm a miss quickly
    if status is Status.FAILED:
        return settings.failed_interval
    return settings.interval
