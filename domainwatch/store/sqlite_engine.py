"""The SQLite engine: each domain's and record's state, the history of changes, the webhook queue.

Synchronous; store/sqlite.py runs it on one thread of its own behind the async Store. One
writer, WAL journal, schema versioned with forward migrations in
PRAGMA user_version. A state and the events it caused are written in one transaction, so a crash
loses at most the checks in flight and the file is never half-updated.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from domainwatch.state.domain import DomainTrack
from domainwatch.state.events import Event
from domainwatch.state.facts import DomainFacts, facts_from_json
from domainwatch.state.windows import MAX_WINDOWS, MaintenanceWindow
from domainwatch.store.base import (
    DocumentWrite,
    Results,
    Save,
    StoredAnswer,
    StoredDocument,
    StoreError,
    check_schema,
)
from domainwatch.store.migrations import MIGRATIONS
from domainwatch.store.rows import (
    COMPACT,
    DOMAIN_COLUMNS,
    RecordRows,
    domain_values,
    event_from_row,
    event_values,
    moment,
    record_values,
    set_values,
    to_micros,
    window_from_row,
    window_values,
)
from domainwatch.store.sqlite_deliveries import DeliveryQueue

# Value sets last written before the history's cutoff that no record's drift names (purge_history).
_UNNAMED_SETS = (
    "DELETE FROM value_sets WHERE used_at < ? AND digest NOT IN ("
    " SELECT json_extract(drift, '$.published') FROM records"
    "  WHERE json_extract(drift, '$.published') IS NOT NULL"
    " UNION SELECT json_extract(drift, '$.pinned') FROM records"
    "  WHERE json_extract(drift, '$.pinned') IS NOT NULL)"
)
# Every current (or every) domain's records, read back as rows.row_holds describes.
_RECORDS_FROM = (
    "SELECT domain, record, fingerprint, r.status, r.since, started_at, missing_since, misses, stale,"
    " last_observation, CASE WHEN r.checked_at IS NULL OR d.checked_at IS NULL THEN r.checked_at"
    " ELSE MAX(r.checked_at, d.checked_at) END, r.drift"
    " FROM records r JOIN domains d ON d.name = r.domain WHERE (d.removed_at IS NULL OR ?)"
)
_RECORDS = _RECORDS_FROM + " ORDER BY domain, record"
_RECORDS_OF_ONE = _RECORDS_FROM + " AND d.name = ? ORDER BY domain, record"


def _connect(path: str, readonly: bool) -> sqlite3.Connection:
    if readonly:
        uri = f"{Path(path).resolve().as_uri()}?mode=ro"
        db = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    else:
        _owner_only(path)
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")  # with WAL: durable across process crashes
        db.execute("PRAGMA foreign_keys=ON")
    db.execute("PRAGMA busy_timeout=5000")
    return db


def _owner_only(path: str) -> None:
    """The store holds webhook URLs (with any token in them) and bodies: readable by its owner
    only. Created 0600, and tightened if an older version left it wider; SQLite gives the WAL
    and shared-memory files the database's mode."""
    if path == ":memory:":
        return
    try:
        os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
        if os.stat(path).st_mode & 0o077:
            os.chmod(path, 0o600)
    except OSError:
        pass  # not ours to change, or not a file: SQLite reports what it cannot open


class SqliteEngine(DeliveryQueue):
    def __init__(self, path: str | Path, *, readonly: bool = False) -> None:
        """Open (creating and migrating) the database; `readonly` never creates or changes it."""
        self.path = str(path)
        if readonly and not Path(self.path).exists():
            raise StoreError(f"{self.path}: no state yet (has `domainwatch run` been started?)")
        try:
            self.db = _connect(self.path, readonly)
            self._migrate(readonly)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: cannot use the database: {exc}") from None
        self._open = True

    @property
    def is_open(self) -> bool:
        return self._open

    def _migrate(self, readonly: bool) -> None:
        (version,) = self.db.execute("PRAGMA user_version").fetchone()
        if not check_schema(self.path, version, len(MIGRATIONS), readonly=readonly):
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
        self._open = False

    # -- reading ------------------------------------------------------------------------------
    def load(self, *, include_removed: bool = False) -> dict[str, DomainTrack]:
        read = self._records(include_removed)
        rows = self.db.execute(
            f"SELECT {DOMAIN_COLUMNS} FROM domains WHERE removed_at IS NULL OR ?",  # noqa: S608
            (include_removed,),
        )
        return {row[0]: read.domain(row) for row in rows}

    def track(self, name: str) -> DomainTrack | None:
        read = self._records(True, name)
        row = self.db.execute(
            f"SELECT {DOMAIN_COLUMNS} FROM domains WHERE name = ?",  # noqa: S608
            (name,),
        ).fetchone()
        return None if row is None else read.domain(row)

    def documents(self) -> dict[str, StoredDocument]:
        rows = self.db.execute("SELECT name, body, created_at, updated_at FROM documents")
        return {
            name: StoredDocument(name, json.loads(body), moment(created), moment(updated))
            for name, body, created, updated in rows
        }

    def answer(self, key: str) -> StoredAnswer | None:
        row = self.db.execute(
            "SELECT key, request, status, body, created_at FROM answers WHERE key = ?", (key,)
        ).fetchone()
        return None if row is None else StoredAnswer(row[0], row[1], row[2], row[3], moment(row[4]))

    def purge_answers(self, before: datetime) -> int:
        with self.transaction():
            cursor = self.db.execute("DELETE FROM answers WHERE created_at < ?", (to_micros(before),))
        return cursor.rowcount

    def _records(self, include_removed: bool, only: str | None = None) -> RecordRows:
        """Every current (or every) domain's records, or one domain's (`only`)."""
        read = RecordRows()
        query = _RECORDS_OF_ONE if only is not None else _RECORDS
        args = (include_removed, only) if only is not None else (include_removed,)
        for row in self.db.execute(query, args):
            read.add(row)
        return read

    def facts(self, distill: Callable[[Results], DomainFacts]) -> dict[str, DomainFacts]:
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
            name: parsed[text] if text is not None else distill(results.get(name, {})) for name, text in rows
        }

    def results(self, domain: str) -> dict[str, dict[str, Any]]:
        rows = self.db.execute(
            "SELECT record, result FROM records WHERE domain = ? AND result IS NOT NULL", (domain,)
        )
        return {record: json.loads(text) for record, text in rows}

    def history(self, domain: str | None = None, *, limit: int = 1000) -> list[Event]:
        query = "SELECT * FROM history" + (" WHERE domain = ?" if domain else "")  # noqa: S608 (constant SQL)
        query += " ORDER BY at DESC, sequence DESC, id DESC LIMIT ?"
        args: tuple[Any, ...] = (domain, limit) if domain else (limit,)
        return [event_from_row(row) for row in self.db.execute(query, args)]

    def iter_history(self, since: datetime | None = None, batch: int = 500) -> Iterator[Event]:
        """All events since `since`, oldest first, fetched in batches (constant memory) on a
        connection of its own: a long export never holds up, or sees half of, a write."""
        own = self.path != ":memory:"
        db = _connect(self.path, readonly=True) if own else self.db
        try:
            cursor = db.execute(
                "SELECT * FROM history WHERE at >= ? ORDER BY at, domain, sequence", (to_micros(since) or 0,)
            )
            while rows := cursor.fetchmany(batch):
                yield from (event_from_row(row) for row in rows)
        finally:
            if own:
                db.close()

    # -- writing ------------------------------------------------------------------------------
    def save_many(self, saves: Sequence[Save]) -> None:
        """Several domains' saves in one transaction (all or none).

        One transaction per domain cost as much as checking it (docs/performance.md).
        """
        with self.transaction():
            for save in saves:
                self._save_one(save)

    def _save_one(self, save: Save) -> None:
        if save.value_sets:
            self.db.executemany(
                "INSERT INTO value_sets (digest, body, used_at) VALUES (?,?,?) ON CONFLICT(digest)"
                " DO UPDATE SET used_at = MAX(used_at, excluded.used_at)",
                set_values(save),
            )
        self._upsert_domain(save)
        self._replace_records(save)
        if save.write is not None:
            self._write(save.track.name, save.write)
        for event in save.events:
            self._insert_event(event)
        for event in save.events:
            payload = (save.payloads or {}).get(event.id)
            if payload is not None:
                self.db.execute(
                    "INSERT INTO outbox (event_id, domain, created_at, payload) VALUES (?,?,?,?)",
                    (
                        event.id,
                        event.domain,
                        to_micros(event.at),
                        json.dumps(payload, sort_keys=True, separators=COMPACT),
                    ),
                )

    def _upsert_domain(self, save: Save) -> None:
        self.db.execute(
            "INSERT INTO domains (name, verify, status, since, capabilities, checked_at, facts, sequence,"
            " verified_at) VALUES (?,?,?,?,?,?,?,?,?)"
            " ON CONFLICT(name) DO UPDATE SET verify=excluded.verify, status=excluded.status,"
            " since=excluded.since, capabilities=excluded.capabilities, checked_at=excluded.checked_at,"
            " facts=COALESCE(excluded.facts, domains.facts), sequence=excluded.sequence,"
            " verified_at=excluded.verified_at, removed_at=NULL",
            domain_values(save.track, save.facts),
        )

    def _replace_records(self, save: Save) -> None:
        track, stored = save.track, save.stored
        if stored is None or not stored.records.keys() <= track.records.keys():
            self.db.execute(
                "DELETE FROM records WHERE domain = ? AND record NOT IN (SELECT value FROM json_each(?))",
                (track.name, json.dumps(list(track.records))),
            )
        self.db.executemany(
            "INSERT INTO records (domain, record, fingerprint, status, since, started_at, missing_since,"
            " misses, stale, last_observation, checked_at, result, drift) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"
            " ON CONFLICT(domain, record) DO UPDATE SET fingerprint=excluded.fingerprint,"
            " status=excluded.status, since=excluded.since, started_at=excluded.started_at,"
            " missing_since=excluded.missing_since, misses=excluded.misses, stale=excluded.stale,"
            " last_observation=excluded.last_observation, checked_at=excluded.checked_at,"
            " result=COALESCE(excluded.result, records.result), drift=excluded.drift",
            record_values(save),
        )

    def _write(self, name: str, write: DocumentWrite) -> None:
        document = write.document
        if document is None:
            self.db.execute("DELETE FROM documents WHERE name = ?", (name,))
        else:
            self.db.execute(
                "INSERT INTO documents (name, body, created_at, updated_at) VALUES (?,?,?,?)"
                " ON CONFLICT(name) DO UPDATE SET body=excluded.body, updated_at=excluded.updated_at",
                (
                    name,
                    json.dumps(document.body),
                    to_micros(document.created_at),
                    to_micros(document.updated_at),
                ),
            )
        if write.removed_at is not None:
            self.db.execute(
                "UPDATE domains SET removed_at = ? WHERE name = ?", (to_micros(write.removed_at), name)
            )
        answer = write.answer
        if answer is not None:  # a key already kept is a conflict: the whole save fails
            self.db.execute(
                "INSERT INTO answers (key, request, status, body, created_at) VALUES (?,?,?,?,?)",
                (answer.key, answer.request, answer.status, answer.body, to_micros(answer.created_at)),
            )

    def _insert_event(self, event: Event) -> None:
        self.db.execute(
            "INSERT INTO history (id, domain, sequence, kind, subject, previous, status, at, reason,"
            " observations) VALUES (?,?,?,?,?,?,?,?,?,?)",
            event_values(event),
        )

    def purge_history(self, before: datetime) -> int:
        """Forget status changes older than `before`, except those still waiting for delivery."""
        with self.transaction():
            cursor = self.db.execute(
                "DELETE FROM history WHERE at < ? AND id NOT IN (SELECT event_id FROM outbox)"
                " AND id NOT IN (SELECT event_id FROM deliveries WHERE state != 'delivered')",
                (to_micros(before),),
            )
            self.db.execute("DELETE FROM day_counts WHERE day < ?", (before.strftime("%Y-%m-%d"),))
            self.db.execute("DELETE FROM maintenance_windows WHERE ends_at < ?", (to_micros(before),))
            self.db.execute(_UNNAMED_SETS, (to_micros(before),))
        return cursor.rowcount

    def value_sets(self, digests: Sequence[str]) -> dict[str, str]:
        rows = self.db.execute(
            "SELECT digest, body FROM value_sets WHERE digest IN (SELECT value FROM json_each(?))",
            (json.dumps(list(digests)),),
        )
        return dict(rows)

    def windows(self) -> list[MaintenanceWindow]:
        rows = self.db.execute("SELECT body FROM maintenance_windows ORDER BY ends_at, id")
        return [window_from_row(body) for (body,) in rows]

    def save_window(self, window: MaintenanceWindow) -> None:
        with self.transaction():
            (count,) = self.db.execute("SELECT COUNT(*) FROM maintenance_windows").fetchone()
            if count >= MAX_WINDOWS:
                raise StoreError(f"at most {MAX_WINDOWS} maintenance windows are kept")
            self.db.execute(
                "INSERT INTO maintenance_windows (id, body, ends_at) VALUES (?,?,?)", window_values(window)
            )

    def delete_window(self, window_id: str) -> bool:
        with self.transaction():
            cursor = self.db.execute("DELETE FROM maintenance_windows WHERE id = ?", (window_id,))
        return cursor.rowcount > 0

    def save_day_counts(self, day: str, counts: Mapping[str, int]) -> None:
        with self.transaction():
            self.db.execute("DELETE FROM day_counts WHERE day = ?", (day,))
            self.db.executemany(
                "INSERT INTO day_counts (day, status, count) VALUES (?,?,?)",
                [(day, status, count) for status, count in counts.items()],
            )

    def day_counts(self, since: str) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for day, status, count in self.db.execute(
            "SELECT day, status, count FROM day_counts WHERE day >= ? ORDER BY day", (since,)
        ):
            out.setdefault(day, {})[status] = count
        return out

    def mark_removed(self, names: Sequence[str], now: datetime) -> None:
        with self.transaction():
            self.db.executemany(
                "UPDATE domains SET removed_at = ? WHERE name = ? AND removed_at IS NULL",
                [(to_micros(now), name) for name in names],
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
