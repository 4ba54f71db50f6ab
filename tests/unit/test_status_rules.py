"""The verification rules, row by row, with their edges; and a property test over sequences."""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domainwatch.state.rules import (
    Observation,
    RecordTrack,
    Rules,
    Status,
    capability_status,
    deadline,
    domain_status,
    next_record,
    same_but_time,
    start,
    stop,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
W = timedelta(hours=72)
RULES = Rules(window=W, confirm_missing=2)
FOUND, MISSING, ERROR = Observation.FOUND, Observation.MISSING, Observation.ERROR
H = timedelta(hours=1)


def pending(at: datetime = T0) -> RecordTrack:
    return start(RecordTrack(), at)


def verified(misses: int = 0, missing_since: datetime | None = None) -> RecordTrack:
    return RecordTrack(Status.VERIFIED, since=T0, misses=misses, missing_since=missing_since)


def temporary(missing_since: datetime = T0) -> RecordTrack:
    return RecordTrack(Status.TEMPORARY_FAILURE, since=T0, missing_since=missing_since, misses=2)


FAILED = RecordTrack(Status.FAILED, since=T0)


def test_verification_requested_starts_pending_with_window_start() -> None:
    """not_started -> pending; started_at = now."""
    track = start(RecordTrack(), T0 + H)
    assert (Status.PENDING, T0 + H, T0 + H) == (track.status, track.started_at, track.since)


@pytest.mark.parametrize(
    ("before", "seen", "now", "status"),
    [
        # pending
        (pending(), FOUND, T0 + H, Status.VERIFIED),
        (pending(), MISSING, T0 + H, Status.PENDING),
        (pending(), MISSING, T0 + W - timedelta(microseconds=1), Status.PENDING),
        (pending(), MISSING, T0 + W, Status.FAILED),  # exactly W: expired
        (pending(), MISSING, T0 + 2 * W, Status.FAILED),
        (pending(), ERROR, T0 + 2 * W, Status.PENDING),  # errors at expiry: wait, never fail
        # verified
        (verified(), FOUND, T0 + H, Status.VERIFIED),
        (verified(), MISSING, T0 + H, Status.VERIFIED),  # first miss: not yet confirmed
        (verified(misses=1, missing_since=T0), MISSING, T0 + H, Status.TEMPORARY_FAILURE),
        (verified(misses=1, missing_since=T0), ERROR, T0 + H, Status.VERIFIED),
        # temporary_failure
        (temporary(), FOUND, T0 + H, Status.VERIFIED),
        (temporary(), MISSING, T0 + H, Status.TEMPORARY_FAILURE),
        (temporary(), MISSING, T0 + W, Status.FAILED),
        (temporary(), ERROR, T0 + 2 * W, Status.TEMPORARY_FAILURE),
        # failed
        (FAILED, FOUND, T0 + H, Status.VERIFIED),
        (FAILED, MISSING, T0 + H, Status.FAILED),
        (FAILED, ERROR, T0 + H, Status.FAILED),
        # not_started is never changed by observations
        (RecordTrack(), FOUND, T0, Status.NOT_STARTED),
        (RecordTrack(), MISSING, T0 + 2 * W, Status.NOT_STARTED),
    ],
)
def test_record_transition_table(
    before: RecordTrack, seen: Observation, now: datetime, status: Status
) -> None:
    """Each row of the record table in docs/status.md."""
    assert status == next_record(before, seen, now, RULES).status


def test_second_consecutive_miss_sets_missing_since_to_first_miss() -> None:
    """verified + K misses -> temporary_failure with missing_since at the first miss."""
    first = next_record(verified(), MISSING, T0 + H, RULES)
    second = next_record(first, MISSING, T0 + H + timedelta(minutes=1), RULES)
    assert (Status.TEMPORARY_FAILURE, T0 + H, 2) == (second.status, second.missing_since, second.misses)


def test_found_resets_the_miss_count() -> None:
    """verified + found resets a pending miss count."""
    track = next_record(verified(misses=1, missing_since=T0), FOUND, T0 + H, RULES)
    assert (Status.VERIFIED, 0, None) == (track.status, track.misses, track.missing_since)


def test_error_neither_confirms_nor_resets_a_miss_count() -> None:
    """miss, error, miss is two consecutive misses."""
    track = next_record(verified(), MISSING, T0, RULES)
    track = next_record(track, ERROR, T0 + H, RULES)
    assert (1, T0, True) == (track.misses, track.missing_since, track.stale)
    track = next_record(track, MISSING, T0 + 2 * H, RULES)
    assert (Status.TEMPORARY_FAILURE, T0) == (track.status, track.missing_since)


def test_confirm_missing_of_one_fails_temporarily_at_once() -> None:
    """K = 1: the first miss of a verified record is a temporary failure."""
    track = next_record(verified(), MISSING, T0, Rules(W, confirm_missing=1))
    assert Status.TEMPORARY_FAILURE == track.status


def test_temporary_failure_window_counts_from_first_miss() -> None:
    """The window of temporary_failure runs from missing_since, not from the confirmation."""
    track = next_record(verified(), MISSING, T0, RULES)
    track = next_record(track, MISSING, T0 + timedelta(minutes=1), RULES)
    assert Status.TEMPORARY_FAILURE == next_record(track, MISSING, T0 + W - H, RULES).status
    assert Status.FAILED == next_record(track, MISSING, T0 + W, RULES).status


def test_errors_mark_stale_and_a_conclusive_answer_clears_it() -> None:
    """stale = the last observation was a lookup error."""
    track = next_record(pending(), ERROR, T0 + H, RULES)
    assert (True, Status.PENDING) == (track.stale, track.status)
    assert not next_record(track, MISSING, T0 + 2 * H, RULES).stale


def test_recovery_clears_window_fields() -> None:
    """temporary_failure -> verified clears missing_since and the count."""
    track = next_record(temporary(), FOUND, T0 + H, RULES)
    assert (None, 0, T0 + H) == (track.missing_since, track.misses, track.since)


def test_stop_returns_to_not_started() -> None:
    """verify: false -> not_started, whatever the status."""
    assert Status.NOT_STARTED == stop(temporary(), T0).status


@pytest.mark.parametrize(
    ("track", "expected"),
    [
        (pending(), T0 + W),
        (temporary(T0 + H), T0 + H + W),
        (verified(), None),
        (FAILED, None),
    ],
)
def test_deadline(track: RecordTrack, expected: datetime | None) -> None:
    """Pending and temporary_failure records have a deadline; others none."""
    assert expected == deadline(track, RULES)


V, P, F, TF, NS = Status.VERIFIED, Status.PENDING, Status.FAILED, Status.TEMPORARY_FAILURE, Status.NOT_STARTED


@pytest.mark.parametrize(
    ("records", "expected"),
    [
        ([V, V, V], V),
        ([V, F, TF], F),  # failed wins over temporary_failure
        ([V, TF, P], TF),
        ([V, P], P),
        ([P, P], P),
        ([F], F),
    ],
)
def test_capability_rules(records: list[Status], expected: Status) -> None:
    """Capability status over its required records."""
    assert expected == capability_status(records)


@pytest.mark.parametrize(
    ("verify", "capabilities", "expected"),
    [
        (False, {"sending": V}, NS),
        (True, {"sending": V, "receiving": V}, V),
        (True, {"sending": V}, V),
        (True, {"sending": TF, "receiving": V}, TF),
        (True, {"sending": TF, "receiving": F}, TF),
        (True, {"sending": V, "receiving": F}, Status.PARTIALLY_FAILED),
        (True, {"sending": F, "receiving": F}, F),
        (True, {"sending": F}, F),
        (True, {"sending": V, "receiving": P}, Status.PARTIALLY_VERIFIED),
        (True, {"sending": P, "receiving": F}, P),
        (True, {"sending": P}, P),
    ],
)
def test_domain_rules(verify: bool, capabilities: dict[str, Status], expected: Status) -> None:
    """Domain status over its enabled capabilities."""
    assert expected == domain_status(verify, capabilities)


# The whole record table as allowed (from, to) pairs; anything else is illegal.
ALLOWED = {
    (Status.PENDING, Status.VERIFIED),
    (Status.PENDING, Status.FAILED),
    (Status.VERIFIED, Status.TEMPORARY_FAILURE),
    (Status.TEMPORARY_FAILURE, Status.VERIFIED),
    (Status.TEMPORARY_FAILURE, Status.FAILED),
    (Status.FAILED, Status.VERIFIED),
}
steps = st.lists(
    st.tuples(st.sampled_from(list(Observation)), st.integers(min_value=0, max_value=100 * 3600)), max_size=60
)


@given(steps, st.integers(min_value=1, max_value=4))
def test_no_sequence_produces_a_transition_outside_the_table(
    sequence: list[tuple[Observation, int]], confirm: int
) -> None:
    """Any observations at any clock steps: only table transitions, errors never change status."""
    rules = Rules(timedelta(hours=72), confirm)
    track, now = pending(), T0
    for seen, seconds in sequence:
        now += timedelta(seconds=seconds)
        after = next_record(track, seen, now, rules)
        if after.status is not track.status:
            assert (track.status, after.status) in ALLOWED
            assert seen is not Observation.ERROR
            assert now == after.since
        if seen is Observation.FOUND:
            assert Status.VERIFIED == after.status
        if after.status is Status.FAILED and track.status is not Status.FAILED:
            start_of_window = track.started_at if track.status is Status.PENDING else track.missing_since
            assert start_of_window is not None
            assert now - start_of_window >= rules.window
        track = after


@given(st.lists(st.integers(min_value=0, max_value=100 * 3600), max_size=40))
def test_errors_alone_never_change_any_status(gaps: list[int]) -> None:
    """A resolver outage of any length changes no status."""
    for initial in (pending(), verified(), verified(1, T0), temporary(), FAILED):
        track, now = initial, T0
        for gap in gaps:
            now += timedelta(seconds=gap)
            track = next_record(track, ERROR, now, RULES)
        assert initial.status == track.status


def test_same_but_time_compares_every_field_but_the_check_time() -> None:
    """A field added to RecordTrack must be compared too, or the store would skip its row."""
    base = RecordTrack(Status.VERIFIED, T0, T0, None, 0, False, Observation.FOUND, T0)
    assert same_but_time(base, replace(base, checked_at=T0 + timedelta(minutes=5)))
    others: dict[str, Any] = {
        "status": Status.PENDING,
        "since": T0 + timedelta(1),
        "started_at": None,
        "missing_since": T0,
        "misses": 1,
        "stale": True,
        "last_observation": Observation.MISSING,
    }
    assert {f.name for f in fields(RecordTrack)} == {*others, "checked_at"}
    for name, value in others.items():
        assert not same_but_time(base, replace(base, **{name: value})), name
