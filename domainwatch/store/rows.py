"""How the store's rows map to values and back (pure): times, tracks, and which rows to skip."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from domainwatch.state.domain import DomainTrack
from domainwatch.state.events import Event
from domainwatch.state.facts import DomainFacts, facts_json
from domainwatch.state.rules import Observation, RecordTrack, Status, same_but_time
from domainwatch.store.base import Save

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# A domain's row as domain_from_row reads it (both stores).
DOMAIN_COLUMNS = "name, verify, status, since, capabilities, checked_at, sequence, verified_at"
MICROSECOND = timedelta(microseconds=1)
MILLISECOND = timedelta(milliseconds=1)


def to_micros(moment: datetime | None) -> int | None:
    """Exact integer microseconds since the epoch (datetimes round-trip unchanged)."""
    return None if moment is None else (moment - EPOCH) // MICROSECOND


def from_micros(value: int | None) -> datetime | None:
    return None if value is None else EPOCH + value * MICROSECOND


def row_holds(stored: DomainTrack | None, track: DomainTrack, record_id: str) -> bool:
    """Whether a record's stored row is still right: only its check time moved.

    A check sets the time of every record it checks to the domain's check time, which the
    domain's row carries; a record's time, once set, is read back as the later of the two
    (Store.load). So a steady check writes one row per domain instead of one per record.
    """
    if stored is None:
        return False
    old, new = stored.records.get(record_id), track.records[record_id]
    return (
        old is not None
        and old.checked_at is not None
        and new.checked_at == track.checked_at
        and same_but_time(old, new)
        and stored.fingerprints.get(record_id) == track.fingerprints.get(record_id)
    )


# Plain lookups: a restart turns a million stored values into members (Status(v) is slower).
_STATUSES = {s.value: s for s in Status}
_OBSERVATIONS = {o.value: o for o in Observation}


class Moments(dict[int | None, datetime | None]):
    """Stored times as datetimes, made once per distinct value: a domain's records share their
    times (a million of them at 100,000 domains, so this saves both time and memory)."""

    def __missing__(self, value: int | None) -> datetime | None:
        self[value] = moment = from_micros(value)
        return moment


def domain_from_row(
    row: tuple[Any, ...], records: dict[str, RecordTrack], fingerprints: dict[str, str], at: Moments
) -> DomainTrack:
    name, verify, status, since, capabilities, checked_at, sequence, verified_at = row
    return DomainTrack(
        name,
        bool(verify),
        _STATUSES[status],
        at[since],
        records,
        fingerprints,
        _capabilities(capabilities),
        at[checked_at],
        sequence,
        at[verified_at],
    )


@functools.lru_cache(maxsize=256)
def _capabilities(text: str) -> Mapping[str, Status]:
    """A stored capabilities column, read once per distinct text: a fleet's domains store a
    handful of them, and one read-only mapping serves every domain that stores the same."""
    return {k: _STATUSES[v] for k, v in json.loads(text).items()}


def record_from_row(row: tuple[Any, ...], at: Moments) -> RecordTrack:
    status, since, started, missing, misses, stale, observation, checked = row[3:]
    return RecordTrack(
        _STATUSES[status],
        at[since],
        at[started],
        at[missing],
        misses,
        bool(stale),
        _OBSERVATIONS[observation] if observation else None,
        at[checked],
    )


# -- values written (both stores' columns, in their order) -------------------------------------
def domain_values(track: DomainTrack, facts: DomainFacts | None) -> tuple[Any, ...]:
    """name, verify, status, since, capabilities, checked_at, facts, sequence, verified_at."""
    return (
        track.name,
        int(track.verify),
        track.status.value,
        to_micros(track.since),
        json.dumps({k: v.value for k, v in track.capabilities.items()}),
        to_micros(track.checked_at),
        facts_json(facts) if facts is not None else None,
        track.sequence,
        to_micros(track.verified_at),
    )


def record_values(save: Save) -> list[tuple[Any, ...]]:
    """The record rows a save writes (those whose stored row no longer holds, and those with
    new results): domain, record, fingerprint, status, since, started_at, missing_since, misses,
    stale, last_observation, checked_at, result."""
    track, results = save.track, save.results or {}
    return [
        (
            track.name,
            record_id,
            track.fingerprints.get(record_id, ""),
            record.status.value,
            to_micros(record.since),
            to_micros(record.started_at),
            to_micros(record.missing_since),
            record.misses,
            int(record.stale),
            record.last_observation.value if record.last_observation else None,
            to_micros(record.checked_at),
            json.dumps(result) if (result := results.get(record_id)) else None,
        )
        for record_id, record in track.records.items()
        if record_id in results or not row_holds(save.stored, track, record_id)
    ]


def event_values(event: Event) -> tuple[Any, ...]:
    """id, domain, sequence, kind, subject, previous, status, at, reason, observations."""
    return (
        event.id,
        event.domain,
        event.sequence,
        event.kind,
        event.subject,
        event.previous,
        event.status,
        to_micros(event.at),
        event.reason,
        json.dumps(event.observations, sort_keys=True),
    )


# -- values read ---------------------------------------------------------------------------------
def moment(micros: int) -> datetime:
    """A time stored as NOT NULL."""
    value = from_micros(micros)
    assert value is not None
    return value


def event_from_row(row: tuple[Any, ...]) -> Event:
    event_id, domain, sequence, kind, subject, previous, status, at, reason, observations = row
    return Event(
        event_id,
        domain,
        sequence,
        kind,
        subject,
        previous,
        status,
        moment(at),
        reason,
        json.loads(observations),
    )
