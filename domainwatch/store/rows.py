"""How the store's rows map to values and back (pure): times, tracks, and which rows to skip."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from domainwatch.state.domain import DomainTrack
from domainwatch.state.drift import NO_DRIFT, RecordDrift, drift_from_json, drift_json, packed
from domainwatch.state.events import Event
from domainwatch.state.facts import DomainFacts, facts_json
from domainwatch.state.rules import Observation, RecordTrack, Status, same_but_time
from domainwatch.state.windows import MaintenanceWindow
from domainwatch.store.base import Save

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# A domain's row as domain_from_row reads it (both stores).
DOMAIN_COLUMNS = "name, verify, status, since, capabilities, checked_at, sequence, verified_at"
MICROSECOND = timedelta(microseconds=1)
COMPACT = (",", ":")  # JSON without the spaces json.dumps puts after each separator by default
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
        and stored.drift.get(record_id) == track.drift.get(record_id)
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
    row: tuple[Any, ...],
    records: dict[str, RecordTrack],
    fingerprints: dict[str, str],
    at: Moments,
    drift: Mapping[str, RecordDrift] | None = None,
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
        drift or {},
    )


@functools.lru_cache(maxsize=256)
def _capabilities(text: str) -> Mapping[str, Status]:
    """A stored capabilities column, read once per distinct text: a fleet's domains store a
    handful of them, and one read-only mapping serves every domain that stores the same."""
    return {k: _STATUSES[v] for k, v in json.loads(text).items()}


def record_from_row(row: tuple[Any, ...], at: Moments) -> RecordTrack:
    """A record's state from the columns after domain, record and fingerprint (its drift, the
    column after them, is read alone: drift_from_json)."""
    status, since, started, missing, misses, stale, observation, checked = row[3:11]
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


class RecordRows:
    """Each domain's record states, fingerprints and drift, read from record rows (domain,
    record, fingerprint, the state's columns, drift), and the domains made from them. A
    domain's records usually share one state (verified by the same checks): one immutable
    object for them all."""

    def __init__(self) -> None:
        self.at = Moments()
        self.records: dict[str, dict[str, RecordTrack]] = {}
        self.prints: dict[str, dict[str, str]] = {}
        self.drift: dict[str, dict[str, RecordDrift]] = {}
        self._alike: dict[tuple[Any, ...], RecordTrack] = {}

    def add(self, row: tuple[Any, ...]) -> None:
        key = row[3:11]
        state = self._alike.get(key)
        if state is None:
            if len(self._alike) > 4096:
                self._alike.clear()
            state = self._alike[key] = record_from_row(row, self.at)
        domain, record = row[0], sys.intern(row[1])  # a handful of ids, half a million rows
        self.records.setdefault(domain, {})[record] = state
        self.prints.setdefault(domain, {})[record] = row[2]
        if row[11] is not None:
            self.drift.setdefault(domain, {})[record] = drift_from_json(row[11])

    def domain(self, row: tuple[Any, ...]) -> DomainTrack:
        name = row[0]
        records, prints = self.records.get(name, {}), self.prints.get(name, {})
        drift = self.drift.get(name)
        return domain_from_row(row, records, prints, self.at, packed(drift) if drift else None)


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
    stale, last_observation, checked_at, result, drift."""
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
            json.dumps(result, separators=COMPACT) if (result := results.get(record_id)) else None,
            drift_json(track.drift.get(record_id, NO_DRIFT)),
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
        json.dumps(event.observations, sort_keys=True, separators=COMPACT),
    )


def set_values(save: Save) -> list[tuple[str, str, int]]:
    """digest, body, used_at of the value sets a save writes: used when its events happened (or
    the domain was checked), so a set outlives the history that names it."""
    moments = [e.at for e in save.events] or [save.track.checked_at or EPOCH]
    used = to_micros(max(moments)) or 0
    return [(digest, body, used) for digest, body in (save.value_sets or {}).items()]


def window_values(window: MaintenanceWindow) -> tuple[str, str, int | None]:
    """id, body, ends_at."""
    body = window.as_dict() | {
        "created_at": to_micros(window.created_at),
        "ends_at": to_micros(window.ends_at),
    }
    return window.id, json.dumps(body, sort_keys=True), to_micros(window.ends_at)


def window_from_row(body: str) -> MaintenanceWindow:
    kept = json.loads(body)
    return MaintenanceWindow(
        kept["id"],
        kept["domains"],
        tuple(kept["records"]),
        moment(kept["ends_at"]),
        kept.get("comment", ""),
        moment(kept["created_at"]),
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
