"""SQLite persistence: each domain's and record's state, the history of changes, the outbox.

One writer (the daemon's event loop), WAL journal, schema versioned with forward migrations in
PRAGMA user_version. A state and the events it caused are written in one transaction, so a crash
loses at most the checks in flight and the file is never half-updated.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from domainwatch.runtime.entropy import RandomPool
from domainwatch.state.domain import Change, DomainTrack
from domainwatch.state.facts import DomainFacts, facts_from_json, facts_json, facts_of
from domainwatch.state.rules import RecordTrack
from domainwatch.store.migrations import MIGRATIONS
from domainwatch.store.rows import (
    EPOCH,
    MILLISECOND,
    Moments,
    domain_from_row,
    from_micros,
    record_from_row,
    row_holds,
    to_micros,
)

PayloadBuilder = Callable[["Event"], "dict[str, Any] | None"]


@dataclass(frozen=True, slots=True)
class Save:
    """One domain's new state, the changes that led to it and (after a check) its results."""

    track: DomainTrack
    changes: list[Change]
    results: Mapping[str, Mapping[str, Any]] | None = None  # record id -> RecordResult.as_dict()
    payload_of: PayloadBuilder | None = None
    facts: DomainFacts | None = None  # distilled from `results`
    # The domain's state as stored before this save, when known: rows it already holds are
    # not written again, and only a record it has and the new state lacks needs deleting.
    stored: DomainTrack | None = None


class StoreError(Exception):
    """The database cannot be used (unreadable, corrupt, or from a newer domainwatch)."""


@dataclass(frozen=True, slots=True)
class Event:
    """A stored status change: the unit of history and of webhook delivery."""

    id: str
    domain: str
    sequence: int
    kind: str
    subject: str
    previous: str
    status: str
    at: datetime
    reason: str
    observations: Mapping[str, Any]


class Store:
    def __init__(self, path: str | Path, *, readonly: bool = False) -> None:
        """Open (creating and migrating) the database; `readonly` never creates or changes it."""
        self.path = str(path)
        if readonly and not Path(self.path).exists():
            raise StoreError(f"{self.path}: no state yet (has `domainwatch run` been started?)")
        try:
            if readonly:
                uri = f"{Path(self.path).resolve().as_uri()}?mode=ro"
                self.db = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
            else:
                self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
                self.db.execute("PRAGMA journal_mode=WAL")
                self.db.execute("PRAGMA synchronous=NORMAL")  # with WAL: durable across process crashes
                self.db.execute("PRAGMA foreign_keys=ON")
            self.db.execute("PRAGMA busy_timeout=5000")
            self._migrate(readonly)
            self.is_open = True
            self._random = RandomPool()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: cannot use the database: {exc}") from None

    def _migrate(self, readonly: bool) -> None:
        (version,) = self.db.execute("PRAGMA user_version").fetchone()
        if version > len(MIGRATIONS):
            raise StoreError(
                f"{self.path}: schema version {version} is newer than this domainwatch "
                f"({len(MIGRATIONS)}); upgrade domainwatch"
            )
        if readonly:
            if version != len(MIGRATIONS):
                raise StoreError(f"{self.path}: schema version {version}; start the daemon once to migrate")
            return
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            with self.transaction():
                for statement in script.split(";"):
                    if statement.strip():
                        self.db.execute(statement)
                self.db.execute(f"PRAGMA user_version={number}")

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def close(self) -> None:
        self.db.close()
        self.is_open = False

    # -- reading ------------------------------------------------------------------------------
    def load(self, *, include_removed: bool = False) -> dict[str, DomainTrack]:
        moments = Moments()
        records, fingerprints = self._records(include_removed, moments)
        rows = self.db.execute(
            "SELECT name, verify, status, since, capabilities, checked_at FROM domains"
            " WHERE removed_at IS NULL OR ?",
            (include_removed,),
        )
        return {
            row[0]: domain_from_row(row, records.get(row[0], {}), fingerprints.get(row[0], {}), moments)
            for row in rows
        }

    def _records(
        self, include_removed: bool, moments: Moments
    ) -> tuple[dict[str, dict[str, RecordTrack]], dict[str, dict[str, str]]]:
        """Each domain's record states and fingerprints, by record id."""
        records: dict[str, dict[str, RecordTrack]] = {}
        fingerprints: dict[str, dict[str, str]] = {}
        domain, alike, own, prints = None, dict[tuple[Any, ...], RecordTrack](), {}, {}
        for row in self.db.execute(
            "SELECT domain, record, fingerprint, r.status, r.since, started_at, missing_since, misses, stale,"
            " last_observation, CASE WHEN r.checked_at IS NULL OR d.checked_at IS NULL THEN r.checked_at"
            " ELSE MAX(r.checked_at, d.checked_at) END"  # see rows.row_holds
            " FROM records r JOIN domains d ON d.name = r.domain WHERE d.removed_at IS NULL OR ?"
            " ORDER BY domain, record",
            (include_removed,),
        ):
            if row[0] != domain:  # rows come ordered by domain
                domain, alike = row[0], {}
                own = records[domain] = {}
                prints = fingerprints[domain] = {}
            # A domain's records usually share one state (verified by the same checks): one
            # immutable object for them all.
            state = alike.get(row[3:])
            if state is None:
                state = alike[row[3:]] = record_from_row(row, moments)
            record = sys.intern(row[1])  # a handful of ids, half a million rows
            own[record], prints[record] = state, row[2]
        return records, fingerprints

    def removed(self) -> dict[str, datetime]:
        rows = self.db.execute("SELECT name, removed_at FROM domains WHERE removed_at IS NOT NULL")
        return {name: from_micros(at) for name, at in rows}  # type: ignore[misc]

    def facts(self) -> dict[str, DomainFacts]:
        """Every current domain's facts; distilled from its stored results where a store from
        before they were kept has none."""
        rows = self.db.execute("SELECT name, facts FROM domains WHERE removed_at IS NULL").fetchall()
        results: dict[str, dict[str, dict[str, Any]]] = {}
        for domain, record, text in self.db.execute(  # one query, not one per domain
            "SELECT domain, record, result FROM records WHERE result IS NOT NULL AND domain IN"
            " (SELECT name FROM domains WHERE removed_at IS NULL AND facts IS NULL)"
        ):
            results.setdefault(domain, {})[record] = json.loads(text)
        # Most domains of a fleet store the very same facts: parse each distinct text once, and
        # share the (immutable) result.
        parsed = {text: facts_from_json(text) for text in {text for _, text in rows if text is not None}}
        return {
            name: parsed[text] if text is not None else facts_of(results.get(name, {})) for name, text in rows
        }

    def results(self, domain: str) -> dict[str, dict[str, Any]]:
        rows = self.db.execute(
            "SELECT record, result FROM records WHERE domain = ? AND result IS NOT NULL", (domain,)
        )
        return {record: json.loads(text) for record, text in rows}

    def history(self, domain: str | None = None, *, limit: int = 1000) -> list[Event]:
        query = "SELECT * FROM history" + (" WHERE domain = ?" if domain else "")  # noqa: S608 (constant SQL)
        query += " ORDER BY at DESC, sequence DESC LIMIT ?"
        args: tuple[Any, ...] = (domain, limit) if domain else (limit,)
        return [_event_from_row(row) for row in self.db.execute(query, args)]

    def iter_history(self, since: datetime | None = None, batch: int = 500) -> Iterator[Event]:
        """All events since `since`, oldest first, fetched in batches (constant memory)."""
        cursor = self.db.execute(
            "SELECT * FROM history WHERE at >= ? ORDER BY at, domain, sequence", (to_micros(since) or 0,)
        )
        while rows := cursor.fetchmany(batch):
            yield from (_event_from_row(row) for row in rows)

    def outbox(self) -> list[str]:
        return [
            row[0] for row in self.db.execute("SELECT event_id FROM outbox ORDER BY created_at, event_id")
        ]

    # -- writing ------------------------------------------------------------------------------
    def save(
        self,
        track: DomainTrack,
        changes: Iterable[Change],
        results: Mapping[str, Mapping[str, Any]] | None = None,
        payload_of: PayloadBuilder | None = None,
    ) -> list[Event]:
        """Write a domain's new state and the events it caused, atomically.

        `payload_of` builds each event's webhook body snapshot (None: not delivered), stored in
        the outbox in the same transaction, so a crash can neither lose nor half-write one.
        """
        return self.save_many([Save(track, list(changes), results, payload_of)])[0]

    def save_many(self, saves: Iterable[Save]) -> list[list[Event]]:
        """Several domains' saves in one transaction (all or none): the events of each, in order.

        One transaction per domain cost as much as checking it (docs/performance.md).
        """
        with self.transaction():
            return [self._save_one(save) for save in saves]

    def _save_one(self, save: Save) -> list[Event]:
        self._upsert_domain(save.track, save.facts)
        self._replace_records(save.track, save.results or {}, save.stored)
        events = [self._append_event(change) for change in save.changes]
        for event in events:
            payload = save.payload_of(event) if save.payload_of else None
            if payload is not None:
                self.db.execute(
                    "INSERT INTO outbox (event_id, domain, created_at, payload) VALUES (?,?,?,?)",
                    (event.id, event.domain, to_micros(event.at), json.dumps(payload, sort_keys=True)),
                )
        return events

    def _upsert_domain(self, track: DomainTrack, facts: DomainFacts | None) -> None:
        self.db.execute(
            "INSERT INTO domains (name, verify, status, since, capabilities, checked_at, facts)"
            " VALUES (?,?,?,?,?,?,?)"
            " ON CONFLICT(name) DO UPDATE SET verify=excluded.verify, status=excluded.status,"
            " since=excluded.since, capabilities=excluded.capabilities, checked_at=excluded.checked_at,"
            " facts=COALESCE(excluded.facts, domains.facts), removed_at=NULL",
            (
                track.name,
                int(track.verify),
                track.status.value,
                to_micros(track.since),
                json.dumps({k: v.value for k, v in track.capabilities.items()}),
                to_micros(track.checked_at),
                facts_json(facts) if facts is not None else None,
            ),
        )

    def _replace_records(
        self, track: DomainTrack, results: Mapping[str, Mapping[str, Any]], stored: DomainTrack | None
    ) -> None:
        if stored is None or not stored.records.keys() <= track.records.keys():
            self.db.execute(
                "DELETE FROM records WHERE domain = ? AND record NOT IN (SELECT value FROM json_each(?))",
                (track.name, json.dumps(list(track.records))),
            )
        self.db.executemany(
            "INSERT INTO records (domain, record, fingerprint, status, since, started_at, missing_since,"
            " misses, stale, last_observation, checked_at, result) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"
            " ON CONFLICT(domain, record) DO UPDATE SET fingerprint=excluded.fingerprint,"
            " status=excluded.status, since=excluded.since, started_at=excluded.started_at,"
            " missing_since=excluded.missing_since, misses=excluded.misses, stale=excluded.stale,"
            " last_observation=excluded.last_observation, checked_at=excluded.checked_at,"
            " result=COALESCE(excluded.result, records.result)",
            [
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
                if record_id in results or not row_holds(stored, track, record_id)
            ],
        )

    def _append_event(self, change: Change) -> Event:
        (sequence,) = self.db.execute(
            "UPDATE domains SET sequence = sequence + 1 WHERE name = ? RETURNING sequence", (change.domain,)
        ).fetchone()
        event = Event(
            self._random.uuid7_hex((change.at - EPOCH) // MILLISECOND),
            change.domain,
            sequence,
            change.kind,
            change.subject,
            change.previous.value,
            change.status.value,
            change.at,
            change.reason,
            dict(change.observations),
        )
        self.db.execute(
            "INSERT INTO history (id, domain, sequence, kind, subject, previous, status, at, reason,"
            " observations) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
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
            ),
        )
        return event

    def purge_history(self, before: datetime) -> int:
        """Forget status changes older than `before`, except those still waiting for delivery."""
        with self.transaction():
            cursor = self.db.execute(
                "DELETE FROM history WHERE at < ? AND id NOT IN (SELECT event_id FROM outbox)"
                " AND id NOT IN (SELECT event_id FROM deliveries WHERE state != 'delivered')",
                (to_micros(before),),
            )
        return cursor.rowcount

    def mark_removed(self, names: Iterable[str], now: datetime) -> None:
        with self.transaction():
            for name in names:
                self.db.execute(
                    "UPDATE domains SET removed_at = ? WHERE name = ? AND removed_at IS NULL",
                    (to_micros(now), name),
                )

    def purge_removed(self, before: datetime) -> list[str]:
        """Forget domains removed from the config before `before` (storage.retention)."""
        with self.transaction():
            rows = self.db.execute("SELECT name FROM domains WHERE removed_at < ?", (to_micros(before),))
            names = [row[0] for row in rows]
            for name in names:
                self.db.execute("DELETE FROM outbox WHERE domain = ?", (name,))
                self.db.execute("DELETE FROM deliveries WHERE domain = ?", (name,))
                self.db.execute("DELETE FROM history WHERE domain = ?", (name,))
                self.db.execute("DELETE FROM domains WHERE name = ?", (name,))
        return names


def _event_from_row(row: tuple[Any, ...]) -> Event:
    event_id, domain, sequence, kind, subject, previous, status, at, reason, observations = row
    moment = from_micros(at)
    assert moment is not None
    return Event(
        event_id, domain, sequence, kind, subject, previous, status, moment, reason, json.loads(observations)
    )
