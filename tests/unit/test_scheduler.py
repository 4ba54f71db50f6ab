"""Scheduling: intervals by status, jitter bounds, and the due-time heap."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from domainwatch.config.domains import Defaults
from domainwatch.daemon.schedule import MAX_CATCH_UP, Schedule, jittered, resumed_due
from domainwatch.state.domain import DomainTrack, RecordSpec
from domainwatch.state.intervals import interval_for
from domainwatch.state.rules import RecordTrack, Status

T0 = datetime(2026, 1, 1, tzinfo=UTC)
SETTINGS = Defaults()
SPECS = (RecordSpec("spf", "sending", "a"), RecordSpec("dmarc", None, "b"))


def track(
    status: Status, misses: int = 0, advisory: Status = Status.VERIFIED, verify: bool = True
) -> DomainTrack:
    records = {"spf": RecordTrack(status, T0, misses=misses), "dmarc": RecordTrack(advisory, T0)}
    return DomainTrack("example.com", verify, status, T0, records)


@pytest.mark.parametrize(
    ("status", "misses", "expected"),
    [
        (Status.PENDING, 0, timedelta(minutes=1)),
        (Status.VERIFIED, 0, timedelta(minutes=5)),
        (Status.VERIFIED, 1, timedelta(minutes=1)),  # re-check a first miss quickly
        (Status.TEMPORARY_FAILURE, 2, timedelta(minutes=1)),
        (Status.FAILED, 0, timedelta(hours=1)),
    ],
)
def test_interval_by_status(status: Status, misses: int, expected: timedelta) -> None:
    """pending 1m, verified 5m, temporary_failure (and an unconfirmed miss) 1m, failed 1h."""
    assert expected == interval_for(track(status, misses), SPECS, SETTINGS)


def test_not_started_is_never_checked() -> None:
    """verify: false has no interval."""
    assert interval_for(track(Status.NOT_STARTED, verify=False), SPECS, SETTINGS) is None


def test_advisory_records_do_not_drive_the_interval() -> None:
    """A pending advisory DMARC record does not make a verified domain poll every minute."""
    assert timedelta(minutes=5) == interval_for(
        track(Status.VERIFIED, advisory=Status.PENDING), SPECS, SETTINGS
    )


def test_jitter_stays_within_ten_percent() -> None:
    """Jitter is +-10%."""
    rng = random.Random(1)
    values = [jittered(timedelta(minutes=5), rng) for _ in range(1000)]
    assert timedelta(minutes=4.5) <= min(values)
    assert max(values) <= timedelta(minutes=5.5)
    assert max(values) - min(values) > timedelta(minutes=0.9)


def test_schedule_pops_due_in_order_and_reschedules() -> None:
    """pop_due returns due names earliest first; a re-put replaces the old due time."""
    schedule = Schedule()
    schedule.put("b", T0 + timedelta(seconds=2))
    schedule.put("a", T0 + timedelta(seconds=1))
    schedule.put("c", T0 + timedelta(seconds=3))
    schedule.put("c", T0 + timedelta(seconds=10))  # moved later
    assert ["a", "b"] == schedule.pop_due(T0 + timedelta(seconds=5))
    assert T0 + timedelta(seconds=10) == schedule.next_due()
    schedule.discard("c")
    assert (None, 0) == (schedule.next_due(), len(schedule))


def test_the_backlog_is_what_is_due_and_how_late_the_oldest_is() -> None:
    """What domainwatch_checks_due and domainwatch_scheduler_lag_seconds export."""
    now = datetime(2026, 1, 1, tzinfo=UTC)
    schedule = Schedule()
    assert (0, 0.0) == schedule.backlog(now)
    schedule.put("late.example.com", now - timedelta(minutes=3))
    schedule.put("due.example.com", now)
    schedule.put("later.example.com", now + timedelta(minutes=1))
    assert (2, 180.0) == schedule.backlog(now)
    assert [("late.example.com", now - timedelta(minutes=3))] == schedule.pop_due_times(now, limit=1)
    assert (1, 0.0) == schedule.backlog(now)
    schedule.put("due.example.com", now + timedelta(minutes=5))  # rescheduled: no longer due
    assert (0, 0.0) == schedule.backlog(now)


def test_checks_that_fell_due_while_stopped_are_spread_over_the_catch_up() -> None:
    """After an hour down, a fleet checked five minutes apart comes due over the next five
    minutes (uniformly), not at once; a domain not yet due keeps its moment."""
    rng, now = random.Random(5), T0 + timedelta(hours=1)
    dues = [resumed_due(T0, timedelta(minutes=5), MAX_CATCH_UP, now, rng) for _ in range(10_000)]
    assert all(now <= due < now + MAX_CATCH_UP for due in dues)
    per_minute = [
        sum(1 for d in dues if now + timedelta(minutes=m) <= d < now + timedelta(minutes=m + 1))
        for m in range(5)
    ]
    assert all(1800 < count < 2200 for count in per_minute), per_minute
    later = resumed_due(now - timedelta(minutes=1), timedelta(minutes=5), MAX_CATCH_UP, now, rng)
    assert now + timedelta(minutes=3) < later < now + timedelta(minutes=5)  # as if never stopped
