"""The webhook queue in PostgreSQL: the SQLite queue's rules (sqlite_deliveries.py) in
PostgreSQL's SQL. Every state change of a delivery is committed before the next step."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import psycopg

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


_WITH_SLOT = "JOIN history h ON h.id = o.event_id WHERE o.payload IS NOT NULL"
# A clustered replica's share: the rows of domains in its slots (no filter without slots).
_IN_SLOTS = "AND (%s::int[] IS NULL OR domainwatch_slot({column}) = ANY(%s::int[]))"


def _slot_args(slots: Sequence[int] | None) -> tuple[list[int] | None, list[int] | None]:
    chosen = None if slots is None else list(slots)
    return chosen, chosen


def _text(value: str | None) -> str | None:
    """Free text (a receiver's or a socket's words) as PostgreSQL takes it: TEXT holds no NUL."""
    return None if value is None else value.replace("\x00", "\ufffd")


def _delivery(row: tuple[Any, ...]) -> Delivery:
    values = list(row)
    values[8] = from_micros(values[8])
    values[11] = from_micros(values[11])
    return Delivery(*values)


class DeliveryQueue:
    """The DeliveryStore half of PostgresStore (which supplies the pool and transactions)."""

    def transaction(self) -> contextlib.AbstractAsyncContextManager[psycopg.AsyncConnection[Any]]:
        raise NotImplementedError

    async def _rows(self, query: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    async def _change(self, query: str, args: Sequence[Any]) -> int:
        """One statement in a transaction of its own; the rows it changed."""
        async with self.transaction() as conn:
            cursor = await conn.execute(query.encode(), args)
            return cursor.rowcount

    async def outbox(self, limit: int = 1000, slots: Sequence[int] | None = None) -> list[OutboxEntry]:
        rows = await self._rows(
            f"SELECT o.event_id, o.domain, h.sequence, o.payload FROM outbox o {_WITH_SLOT}"  # noqa: S608
            f" {_IN_SLOTS.format(column='o.domain')} ORDER BY o.created_at, h.sequence, o.event_id LIMIT %s",
            (*_slot_args(slots), limit),
        )
        return [OutboxEntry(event_id, domain, seq, json.loads(text)) for event_id, domain, seq, text in rows]

    async def fan_out(
        self, fanned: Sequence[tuple[OutboxEntry, Sequence[NewDelivery]]], now: datetime
    ) -> None:
        at = to_micros(now)
        rows = [
            (d.endpoint, entry.event_id, entry.domain, entry.sequence, d.type, d.body)
            for entry, deliveries in fanned
            for d in deliveries
        ]
        async with self.transaction() as conn:
            if rows:
                columns = [list(column) for column in zip(*rows, strict=True)]
                await conn.execute(
                    "INSERT INTO deliveries (endpoint, event_id, domain, sequence, type, body, state,"
                    " next_attempt_at, created_at) SELECT e, i, d, s, t, b, 'pending', %s, %s FROM"
                    " unnest(%s::text[], %s::text[], %s::text[], %s::int[], %s::text[], %s::text[])"
                    " AS n(e, i, d, s, t, b) ON CONFLICT (endpoint, event_id) DO NOTHING",
                    (at, at, *columns),
                )
            await conn.execute(
                "DELETE FROM outbox WHERE event_id = ANY(%s)", ([e.event_id for e, _ in fanned],)
            )

    async def due(
        self, endpoint: str, now: datetime, limit: int = 100, slots: Sequence[int] | None = None
    ) -> list[Delivery]:
        rows = await self._rows(
            f"SELECT {_COLUMNS} FROM deliveries d WHERE d.endpoint = %s AND {_HEAD}"  # noqa: S608
            f" {_IN_SLOTS.format(column='d.domain')}"
            " AND d.next_attempt_at <= %s ORDER BY d.next_attempt_at, d.created_at LIMIT %s",
            (endpoint, *_slot_args(slots), to_micros(now), limit),
        )
        return [_delivery(row) for row in rows]

    async def next_due(self, endpoints: Sequence[str], slots: Sequence[int] | None = None) -> datetime | None:
        rows = await self._rows(
            f"SELECT MIN(d.next_attempt_at) FROM deliveries d WHERE {_HEAD} AND d.endpoint = ANY(%s)"  # noqa: S608
            f" {_IN_SLOTS.format(column='d.domain')}",
            (list(endpoints), *_slot_args(slots)),
        )
        return from_micros(rows[0][0])

    async def start_attempt(self, delivery: Delivery, now: datetime, fence: int | None = None) -> bool:
        # In flight at most once, and (clustered) only under the slot's current lease.
        return (
            await self._change(
                "UPDATE deliveries SET in_flight = 1, attempts = attempts + 1, last_attempt_at = %s"
                " WHERE endpoint = %s AND event_id = %s AND in_flight = 0 AND (%s::bigint IS NULL OR"
                " EXISTS (SELECT 1 FROM slot_leases WHERE slot = domainwatch_slot(domain) AND epoch = %s))",
                (to_micros(now), delivery.endpoint, delivery.event_id, fence, fence),
            )
            > 0
        )

    async def settle(
        self,
        delivery: Delivery,
        state: str,
        now: datetime,
        *,
        next_at: datetime | None,
        status: int | None,
        error: str | None,
    ) -> None:
        finished = to_micros(now) if state != "pending" else None
        await self._change(
            "UPDATE deliveries SET in_flight = 0, state = %s,"
            " next_attempt_at = COALESCE(%s, next_attempt_at), last_status = %s, last_error = %s,"
            " finished_at = %s WHERE endpoint = %s AND event_id = %s",
            (state, to_micros(next_at), status, _text(error), finished, delivery.endpoint, delivery.event_id),
        )

    async def recover(
        self, now: datetime, slots: Sequence[int] | None = None, started_before: datetime | None = None
    ) -> int:
        return await self._change(
            "UPDATE deliveries SET in_flight = 0, next_attempt_at = %s WHERE in_flight = 1"  # noqa: S608
            f" {_IN_SLOTS.format(column='domain')} AND (%s::bigint IS NULL OR last_attempt_at < %s)",
            (to_micros(now), *_slot_args(slots), to_micros(started_before), to_micros(started_before)),
        )

    async def replay(self, event_id: str, now: datetime) -> int:
        return await self._change(
            "UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = %s, finished_at = NULL,"
            " in_flight = 0 WHERE event_id = %s AND state IN ('dead', 'delivered')",
            (to_micros(now), event_id),
        )

    async def deliveries(self, state: str | None = None, limit: int = 1000) -> list[Delivery]:
        where, args = (" WHERE state = %s", (state, limit)) if state is not None else ("", (limit,))
        order = " ORDER BY created_at, sequence, event_id, endpoint LIMIT %s"
        query = f"SELECT {_COLUMNS} FROM deliveries{where}{order}"  # noqa: S608
        return [_delivery(row) for row in await self._rows(query, args)]

    async def sync_endpoints(self, endpoints: Sequence[tuple[str, str]]) -> None:
        async with self.transaction() as conn:
            for name, url in endpoints:
                await conn.execute(
                    "INSERT INTO endpoints (name, url) VALUES (%s, %s) ON CONFLICT (name) DO UPDATE SET"
                    " url = excluded.url, disabled_at = CASE WHEN endpoints.url = excluded.url"
                    " THEN endpoints.disabled_at END, reason = CASE WHEN endpoints.url = excluded.url"
                    " THEN endpoints.reason END",
                    (name, url),
                )

    async def disable(self, name: str, reason: str, now: datetime) -> None:
        await self._change(
            "UPDATE endpoints SET disabled_at = %s, reason = %s WHERE name = %s",
            (to_micros(now), _text(reason), name),
        )

    async def disabled(self) -> dict[str, str]:
        return dict(await self._rows("SELECT name, reason FROM endpoints WHERE disabled_at IS NOT NULL"))

    async def queue_stats(self) -> dict[str, QueueStats]:
        rows = await self._rows(
            "SELECT endpoint, COUNT(*) FILTER (WHERE state = 'pending'),"
            " MIN(created_at) FILTER (WHERE state = 'pending'), COUNT(*) FILTER (WHERE state = 'dead')"
            " FROM deliveries GROUP BY endpoint"
        )
        return {
            name: QueueStats(int(pending), from_micros(oldest), int(dead))
            for name, pending, oldest, dead in rows
        }

    async def purge_finished(self, before: datetime) -> int:
        return await self._change(
            "DELETE FROM deliveries WHERE state = 'delivered' AND finished_at < %s", (to_micros(before),)
        )
