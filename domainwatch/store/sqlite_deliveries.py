"""The webhook queue in SQLite: the outbox, each endpoint's deliveries, attempts, dead letters.

Every state change of a delivery is committed before the next step: an attempt is marked in
flight before it is sent and settled after, so after a crash the event is sent again with the
same webhook-id (at least once) and never dropped. Which endpoint gets what, and when to retry,
is decided in domainwatch.webhooks; this only stores it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from domainwatch.store.base import Delivery, NewDelivery, OutboxEntry, QueueStats
from domainwatch.store.rows import from_micros, to_micros

# A pending delivery not in flight that is the oldest pending one of its (endpoint, domain).
_HEAD = (
    "d.state = 'pending' AND d.in_flight = 0 AND d.sequence = (SELECT MIN(d2.sequence) FROM deliveries d2"
    " WHERE d2.endpoint = d.endpoint AND d2.domain = d.domain AND d2.state = 'pending')"
)
_COLUMNS = (
    "endpoint, event_id, domain, sequence, type, body, state, attempts, next_attempt_at, last_status,"
    " last_error, created_at"
)


def _delivery(row: tuple[Any, ...]) -> Delivery:
    values = list(row)
    values[8] = from_micros(values[8])
    values[11] = from_micros(values[11])
    return Delivery(*values)


class DeliveryQueue:
    """The DeliveryStore half of SqliteStore (which supplies the connection and transactions)."""

    db: sqlite3.Connection

    def transaction(self) -> AbstractContextManager[None]:
        raise NotImplementedError

    def outbox(self, limit: int = 1000) -> list[OutboxEntry]:
        rows = self.db.execute(
            "SELECT o.event_id, o.domain, h.sequence, o.payload"
            " FROM outbox o JOIN history h ON h.id = o.event_id"
            " WHERE o.payload IS NOT NULL ORDER BY o.created_at, h.sequence, o.event_id LIMIT ?",
            (limit,),
        )
        return [OutboxEntry(event_id, domain, seq, json.loads(text)) for event_id, domain, seq, text in rows]

    def fan_out(self, fanned: Sequence[tuple[OutboxEntry, Sequence[NewDelivery]]], now: datetime) -> None:
        at = to_micros(now)
        with self.transaction():
            self.db.executemany(
                "INSERT OR IGNORE INTO deliveries (endpoint, event_id, domain, sequence, type, body, state,"
                " next_attempt_at, created_at) VALUES (?,?,?,?,?,?, 'pending', ?, ?)",
                [
                    (d.endpoint, entry.event_id, entry.domain, entry.sequence, d.type, d.body, at, at)
                    for entry, deliveries in fanned
                    for d in deliveries
                ],
            )
            self.db.executemany("DELETE FROM outbox WHERE event_id = ?", [(e.event_id,) for e, _ in fanned])

    def due(self, endpoint: str, now: datetime, limit: int = 100) -> list[Delivery]:
        rows = self.db.execute(
            f"SELECT {_COLUMNS} FROM deliveries d WHERE d.endpoint = ? AND {_HEAD}"  # noqa: S608
            " AND d.next_attempt_at <= ? ORDER BY d.next_attempt_at, d.created_at LIMIT ?",
            (endpoint, to_micros(now), limit),
        )
        return [_delivery(row) for row in rows]

    def next_due(self, endpoints: Sequence[str]) -> datetime | None:
        marks = ",".join("?" * len(endpoints))
        (value,) = self.db.execute(
            f"SELECT MIN(d.next_attempt_at) FROM deliveries d WHERE {_HEAD}"  # noqa: S608
            f" AND d.endpoint IN ({marks})",
            tuple(endpoints),
        ).fetchone()
        return from_micros(value)

    def start_attempt(self, delivery: Delivery, now: datetime) -> None:
        with self.transaction():
            self.db.execute(
                "UPDATE deliveries SET in_flight = 1, attempts = attempts + 1, last_attempt_at = ?"
                " WHERE endpoint = ? AND event_id = ?",
                (to_micros(now), delivery.endpoint, delivery.event_id),
            )

    def settle(
        self,
        delivery: Delivery,
        state: str,
        now: datetime,
        *,
        next_at: datetime | None,
        status: int | None,
        error: str | None,
    ) -> None:
        with self.transaction():
            self.db.execute(
                "UPDATE deliveries SET in_flight = 0, state = ?,"
                " next_attempt_at = COALESCE(?, next_attempt_at),"
                " last_status = ?, last_error = ?, finished_at = ? WHERE endpoint = ? AND event_id = ?",
                (
                    state,
                    to_micros(next_at),
                    status,
                    error,
                    to_micros(now) if state != "pending" else None,
                    delivery.endpoint,
                    delivery.event_id,
                ),
            )

    def recover(self, now: datetime) -> int:
        with self.transaction():
            cursor = self.db.execute(
                "UPDATE deliveries SET in_flight = 0, next_attempt_at = ? WHERE in_flight = 1",
                (to_micros(now),),
            )
        return cursor.rowcount

    def replay(self, event_id: str, now: datetime) -> int:
        with self.transaction():
            cursor = self.db.execute(
                "UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = ?,"
                " finished_at = NULL,"
                " in_flight = 0 WHERE event_id = ? AND state IN ('dead', 'delivered')",
                (to_micros(now), event_id),
            )
        return cursor.rowcount

    def deliveries(self, state: str | None = None, limit: int = 1000) -> list[Delivery]:
        query = f"SELECT {_COLUMNS} FROM deliveries"  # noqa: S608
        args: tuple[object, ...] = (limit,)
        if state is not None:
            query += " WHERE state = ?"
            args = (state, limit)
        return [
            _delivery(r)
            for r in self.db.execute(
                query + " ORDER BY created_at, sequence, event_id, endpoint LIMIT ?", args
            )
        ]

    # -- endpoints ----------------------------------------------------------------------------
    def sync_endpoints(self, endpoints: Sequence[tuple[str, str]]) -> None:
        with self.transaction():
            self.db.executemany(
                "INSERT INTO endpoints (name, url) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET"
                " url = excluded.url, disabled_at = CASE WHEN endpoints.url = excluded.url"
                " THEN endpoints.disabled_at END, reason = CASE WHEN endpoints.url = excluded.url"
                " THEN endpoints.reason END",
                list(endpoints),
            )

    def disable(self, name: str, reason: str, now: datetime) -> None:
        with self.transaction():
            self.db.execute(
                "UPDATE endpoints SET disabled_at = ?, reason = ? WHERE name = ?",
                (to_micros(now), reason, name),
            )

    def disabled(self) -> dict[str, str]:
        rows = self.db.execute("SELECT name, reason FROM endpoints WHERE disabled_at IS NOT NULL")
        return dict(rows.fetchall())

    def queue_stats(self) -> dict[str, QueueStats]:
        rows = self.db.execute(
            "SELECT endpoint, SUM(state = 'pending'), MIN(CASE WHEN state = 'pending' THEN created_at END),"
            " SUM(state = 'dead') FROM deliveries GROUP BY endpoint"
        )
        return {
            name: QueueStats(int(pending or 0), from_micros(oldest), int(dead or 0))
            for name, pending, oldest, dead in rows
        }

    def purge_finished(self, before: datetime) -> int:
        with self.transaction():
            cursor = self.db.execute(
                "DELETE FROM deliveries WHERE state = 'delivered' AND finished_at < ?", (to_micros(before),)
            )
        return cursor.rowcount
