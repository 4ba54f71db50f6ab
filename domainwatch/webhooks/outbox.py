"""The delivery queue in SQLite: fan-out of the outbox, due deliveries, attempts, dead letters.

Every state change of a delivery is committed before the next step: an attempt is marked in
flight before it is sent and settled after, so after a crash the event is sent again with the
same webhook-id (at least once) and never dropped.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from domainwatch.config.schema import WebhookConfig
from domainwatch.store.rows import from_micros, to_micros
from domainwatch.store.sqlite import Store
from domainwatch.webhooks.payloads import alertmanager_body, standard_body
from domainwatch.webhooks.policy import wants


@dataclass(frozen=True, slots=True)
class Delivery:
    endpoint: str
    event_id: str
    domain: str
    sequence: int
    type: str
    body: str
    state: str
    attempts: int
    next_attempt_at: datetime
    last_status: int | None
    last_error: str | None
    created_at: datetime


# A pending delivery not in flight that is the oldest pending one of its (endpoint, domain).
_HEAD = (
    "d.state = 'pending' AND d.in_flight = 0 AND d.sequence = (SELECT MIN(d2.sequence) FROM deliveries d2"
    " WHERE d2.endpoint = d.endpoint AND d2.domain = d.domain AND d2.state = 'pending')"
)
_COLUMNS = (
    "endpoint, event_id, domain, sequence, type, body, state, attempts, next_attempt_at, last_status,"
    " last_error, created_at"
)


def _delivery(row: tuple[object, ...]) -> Delivery:
    values = list(row)
    values[8] = from_micros(values[8])  # type: ignore[arg-type]
    values[11] = from_micros(values[11])  # type: ignore[arg-type]
    return Delivery(*values)  # type: ignore[arg-type]


class Outbox:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.db = store.db

    def fan_out(self, endpoints: Sequence[WebhookConfig], external_url: str, now: datetime) -> int:
        """Turn outbox events into one delivery per subscribed endpoint, atomically."""
        rows = self.db.execute(
            "SELECT o.event_id, o.domain, h.sequence, o.payload"
            " FROM outbox o JOIN history h ON h.id = o.event_id"
            " WHERE o.payload IS NOT NULL ORDER BY o.created_at, h.sequence LIMIT 1000"
        ).fetchall()
        if not rows:
            return 0
        created = 0
        with self.store.transaction():
            for event_id, domain, sequence, text in rows:
                payload = json.loads(text)
                for endpoint in endpoints:
                    body = self._body(endpoint, payload, external_url)
                    if body is None or not wants(endpoint.domains, endpoint.events, payload["type"], domain):
                        continue
                    self.db.execute(
                        "INSERT OR IGNORE INTO deliveries"
                        " (endpoint, event_id, domain, sequence, type, body, state,"
                        " next_attempt_at, created_at) VALUES (?,?,?,?,?,?, 'pending', ?, ?)",
                        (
                            endpoint.name,
                            event_id,
                            domain,
                            sequence,
                            payload["type"],
                            body,
                            to_micros(now),
                            to_micros(now),
                        ),
                    )
                    created += 1
                self.db.execute("DELETE FROM outbox WHERE event_id = ?", (event_id,))
        return created

    @staticmethod
    def _body(endpoint: WebhookConfig, payload: dict[str, object], external_url: str) -> str | None:
        if endpoint.format == "alertmanager":
            return alertmanager_body(payload, endpoint.name, external_url)
        return standard_body(payload)

    def due(self, endpoint: str, now: datetime, limit: int = 100) -> list[Delivery]:
        """Deliveries to attempt now: per domain only the oldest pending one (order per domain)."""
        rows = self.db.execute(
            f"SELECT {_COLUMNS} FROM deliveries d WHERE d.endpoint = ? AND {_HEAD}"  # noqa: S608
            " AND d.next_attempt_at <= ? ORDER BY d.next_attempt_at, d.created_at LIMIT ?",
            (endpoint, to_micros(now), limit),
        )
        return [_delivery(row) for row in rows]

    def next_due(self, endpoints: Sequence[str]) -> datetime | None:
        """When the next attemptable delivery falls due (heads of line only: the others wait)."""
        marks = ",".join("?" * len(endpoints))
        (value,) = self.db.execute(
            f"SELECT MIN(d.next_attempt_at) FROM deliveries d WHERE {_HEAD}"  # noqa: S608
            f" AND d.endpoint IN ({marks})",
            tuple(endpoints),
        ).fetchone()
        return from_micros(value)

    def start_attempt(self, delivery: Delivery, now: datetime) -> None:
        with self.store.transaction():
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
        """Record an attempt's result: delivered, pending again (with next_at), or dead."""
        with self.store.transaction():
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
        """After a crash: attempts that were in flight are sent again (same id)."""
        with self.store.transaction():
            cursor = self.db.execute(
                "UPDATE deliveries SET in_flight = 0, next_attempt_at = ? WHERE in_flight = 1",
                (to_micros(now),),
            )
        return cursor.rowcount

    def replay(self, event_id: str, now: datetime) -> int:
        """Send an event again to every endpoint it went to (dead-lettered or delivered)."""
        with self.store.transaction():
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
        return [_delivery(r) for r in self.db.execute(query + " ORDER BY created_at, sequence LIMIT ?", args)]

    # -- endpoints ----------------------------------------------------------------------------
    def sync_endpoints(self, endpoints: Sequence[WebhookConfig]) -> None:
        """Know each configured endpoint; a changed URL re-enables a disabled one."""
        with self.store.transaction():
            for endpoint in endpoints:
                self.db.execute(
                    "INSERT INTO endpoints (name, url) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET"
                    " url = excluded.url, disabled_at = CASE WHEN endpoints.url = excluded.url"
                    " THEN endpoints.disabled_at END, reason = CASE WHEN endpoints.url = excluded.url"
                    " THEN endpoints.reason END",
                    (endpoint.name, endpoint.url),
                )

    def disable(self, name: str, reason: str, now: datetime) -> None:
        with self.store.transaction():
            self.db.execute(
                "UPDATE endpoints SET disabled_at = ?, reason = ? WHERE name = ?",
                (to_micros(now), reason, name),
            )

    def disabled(self) -> dict[str, str]:
        rows = self.db.execute("SELECT name, reason FROM endpoints WHERE disabled_at IS NOT NULL")
        return dict(rows.fetchall())

    def stats(self, now: datetime) -> dict[str, tuple[int, float, int]]:
        """Per endpoint: (pending, oldest pending age in seconds, dead letters)."""
        rows = self.db.execute(
            "SELECT endpoint, SUM(state = 'pending'), MIN(CASE WHEN state = 'pending' THEN created_at END),"
            " SUM(state = 'dead') FROM deliveries GROUP BY endpoint"
        )
        out: dict[str, tuple[int, float, int]] = {}
        for name, pending, oldest, dead in rows:
            age = (now - from_micros(oldest)).total_seconds() if oldest is not None else 0.0  # type: ignore[operator]
            out[name] = (int(pending or 0), max(0.0, age), int(dead or 0))
        return out

    def purge_finished(self, before: datetime) -> int:
        """Delivered deliveries older than the retention are forgotten (dead letters are kept)."""
        with self.store.transaction():
            cursor = self.db.execute(
                "DELETE FROM deliveries WHERE state = 'delivered' AND finished_at < ?", (to_micros(before),)
            )
        return cursor.rowcount
