"""The PostgreSQL store: the SQLite store's tables and meanings (postgres_schema.py) on a shared
database, for replicas that outlive their volumes (docs/storage.md).

psycopg 3 over libpq, async, with its connection pool: libpq is what every PostgreSQL tool
speaks (the same URLs, TLS modes, service files and .pgpass), psycopg adapts Python lists to
arrays, so a round of saves is a handful of multi-row statements (unnest) in one transaction.
Events, outbox entries and webhook bodies are written in the same transaction as the state that
caused them, as in SQLite.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

from domainwatch.state.domain import DomainTrack
from domainwatch.state.events import Event
from domainwatch.state.facts import DomainFacts, facts_from_json
from domainwatch.store.base import Results, Save, StoredAnswer, StoredDocument, StoreError, check_schema
from domainwatch.store.postgres_cluster import ClusterTables, refused_saves
from domainwatch.store.postgres_drift import UNNAMED_SETS
from domainwatch.store.postgres_schema import DB_NOW, MIGRATIONS
from domainwatch.store.postgres_writes import rounds, write_round
from domainwatch.store.rows import (
    DOMAIN_COLUMNS,
    RecordRows,
    event_from_row,
    moment,
    to_micros,
)
from domainwatch.store.urls import StoreLocation

HOLD_KEY = 0x646F6D61696E7701  # pg advisory lock: the daemon that writes this database
MIGRATE_KEY = 0x646F6D61696E7702  # pg advisory lock: one migration at a time
POOL_SIZE = 8
OPEN_TIMEOUT = 10.0  # seconds to reach the server at start-up

_RECORDS_FROM = (
    "SELECT domain, record, fingerprint, r.status, r.since, started_at, missing_since, misses, stale,"
    " last_observation, CASE WHEN r.checked_at IS NULL OR d.checked_at IS NULL THEN r.checked_at"
    " ELSE GREATEST(r.checked_at, d.checked_at) END, r.drift"
    " FROM records r JOIN domains d ON d.name = r.domain WHERE (d.removed_at IS NULL OR %s)"
)


class PostgresStore(ClusterTables):
    def __init__(self, pool: AsyncConnectionPool, shown: str, url: str = "") -> None:
        self.pool, self.shown, self.url = pool, shown, url
        self._holder: psycopg.AsyncConnection[Any] | None = None
        self._open = True

    @classmethod
    async def open(cls, url: str, *, readonly: bool = False, hold: bool = False) -> PostgresStore:
        """Connect, migrate (unless `readonly`) and, with `hold`, take the daemon's lock."""
        shown = StoreLocation("postgresql", url).shown
        options = {"autocommit": True}
        if readonly:
            options["options"] = "-c default_transaction_read_only=on"  # type: ignore[assignment]
        pool = AsyncConnectionPool(url, min_size=1, max_size=POOL_SIZE, kwargs=options, open=False)
        try:
            await pool.open(wait=True, timeout=OPEN_TIMEOUT)
        except Exception as exc:  # the pool's timeout, or psycopg's refusal
            await pool.close()
            raise StoreError(f"{shown}: cannot connect: {_reason(exc)}") from None
        store = cls(pool, shown, url)
        try:
            await store._migrate(readonly)
            if hold:
                await store._hold(url)
        except BaseException:
            await store.close()
            raise
        return store

    @property
    def is_open(self) -> bool:
        return self._open

    async def close(self) -> None:
        for session in (self._holder, self._listener):
            if session is not None:
                await session.close()
        self._holder = self._listener = None
        await self.pool.close()
        self._open = False

    async def _migrate(self, readonly: bool) -> None:
        async with self.transaction() as conn:
            if not readonly:
                await conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATE_KEY,))
                await conn.execute("CREATE TABLE IF NOT EXISTS domainwatch_schema (version INTEGER NOT NULL)")
            version = await _version(conn)
            if not check_schema(self.shown, version, len(MIGRATIONS), readonly=readonly):
                return
            for script in MIGRATIONS[version:]:
                await conn.execute(script.encode())
            await conn.execute("DELETE FROM domainwatch_schema")
            await conn.execute("INSERT INTO domainwatch_schema VALUES (%s)", (len(MIGRATIONS),))

    async def _hold(self, url: str) -> None:
        """A replica's share of the daemons' lock, on a session of its own for the store's life
        (it goes with the session, however the process ends): replicas share the database, and
        offline commands that replace it (held()) see them."""
        conn = await psycopg.AsyncConnection.connect(url, autocommit=True)
        cur = await conn.execute("SELECT pg_try_advisory_lock_shared(%s)", (HOLD_KEY,))
        row = await cur.fetchone()
        if not row or not row[0]:
            await conn.close()
            raise StoreError(f"{self.shown}: the database is being replaced (store restore or copy)")
        self._holder = conn

    async def held(self) -> bool:
        """Whether a daemon (another session) holds this database now."""
        async with self.pool.connection() as conn:
            cur = await conn.execute("SELECT pg_try_advisory_lock(%s)", (HOLD_KEY,))
            row = await cur.fetchone()
            if row and row[0]:
                await conn.execute("SELECT pg_advisory_unlock(%s)", (HOLD_KEY,))
                return False
            return True

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        async with self.pool.connection() as conn, conn.transaction():
            yield conn

    async def _rows(self, query: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        async with self.pool.connection() as conn:
            cursor = await conn.execute(query.encode(), args)
            return await cursor.fetchall()

    # -- reading ------------------------------------------------------------------------------
    async def load(self, *, include_removed: bool = False) -> dict[str, DomainTrack]:
        return await self._tracks(include_removed)

    async def load_named(self, names: Sequence[str]) -> dict[str, DomainTrack]:
        """These domains' stored state (current ones): what a replica taking over their slot
        starts from."""
        return await self._tracks(False, names)

    async def _tracks(
        self, include_removed: bool, names: Sequence[str] | None = None
    ) -> dict[str, DomainTrack]:
        read = await self._records(include_removed, names)
        query = f"SELECT {DOMAIN_COLUMNS} FROM domains WHERE (removed_at IS NULL OR %s)"  # noqa: S608
        args: list[Any] = [include_removed]
        if names is not None:
            query, args = query + " AND name = ANY(%s)", [include_removed, list(names)]
        return {r[0]: read.domain(r) for r in await self._rows(query, args)}

    async def track(self, name: str) -> DomainTrack | None:
        read = await self._records(True, name)
        rows = await self._rows(f"SELECT {DOMAIN_COLUMNS} FROM domains WHERE name = %s", (name,))  # noqa: S608
        return read.domain(rows[0]) if rows else None

    async def _records(self, include_removed: bool, only: str | Sequence[str] | None = None) -> RecordRows:
        read = RecordRows()
        query, args = _RECORDS_FROM, [include_removed]
        if isinstance(only, str):
            query, args = query + " AND d.name = %s", [include_removed, only]  # type: ignore[list-item]
        elif only is not None:
            query, args = query + " AND d.name = ANY(%s)", [include_removed, list(only)]  # type: ignore[list-item]
        for row in await self._rows(query + " ORDER BY domain, record", args):
            read.add(row)
        return read

    async def facts(self, distill: Callable[[Results], DomainFacts]) -> dict[str, DomainFacts]:
        rows = await self._rows("SELECT name, facts FROM domains WHERE removed_at IS NULL")
        results: dict[str, dict[str, Any]] = {}
        for domain, record, text in await self._rows(
            "SELECT domain, record, result FROM records WHERE result IS NOT NULL AND domain IN"
            " (SELECT name FROM domains WHERE removed_at IS NULL AND facts IS NULL)"
        ):
            results.setdefault(domain, {})[record] = json.loads(text)
        parsed = {text: facts_from_json(text) for text in {text for _, text in rows if text is not None}}
        return {
            name: parsed[text] if text is not None else distill(results.get(name, {})) for name, text in rows
        }

    async def results(self, domain: str) -> dict[str, dict[str, Any]]:
        rows = await self._rows(
            "SELECT record, result FROM records WHERE domain = %s AND result IS NOT NULL", (domain,)
        )
        return {record: json.loads(text) for record, text in rows}

    async def documents(self) -> dict[str, StoredDocument]:
        rows = await self._rows("SELECT name, body, created_at, updated_at FROM documents")
        return {n: StoredDocument(n, json.loads(b), moment(c), moment(u)) for n, b, c, u in rows}

    async def answer(self, key: str) -> StoredAnswer | None:
        rows = await self._rows(
            "SELECT key, request, status, body, created_at FROM answers WHERE key = %s", (key,)
        )
        if not rows:
            return None
        key, request, status, body, created = rows[0]
        return StoredAnswer(key, request, status, body, moment(created))

    async def history(self, domain: str | None = None, *, limit: int = 1000) -> list[Event]:
        where, args = (" WHERE domain = %s", (domain, limit)) if domain else ("", (limit,))
        query = f"SELECT * FROM history{where} ORDER BY at DESC, sequence DESC, id DESC LIMIT %s"  # noqa: S608
        return [event_from_row(row) for row in await self._rows(query, args)]

    async def iter_history(self, since: datetime | None = None, batch: int = 500) -> AsyncIterator[Event]:
        """Every event since `since`, oldest first, through a server-side cursor (constant memory)."""
        async with self.pool.connection() as conn, conn.transaction():
            cursor = conn.cursor("domainwatch_history")
            await cursor.execute(
                "SELECT * FROM history WHERE at >= %s ORDER BY at, domain, sequence", (to_micros(since) or 0,)
            )
            while rows := await cursor.fetchmany(batch):
                for row in rows:
                    yield event_from_row(row)
            await cursor.close()

    # -- writing ------------------------------------------------------------------------------
    async def save_many(self, saves: Sequence[Save]) -> Sequence[Save]:
        """All the saves in one transaction, as a few multi-row statements per round (a round
        holds each domain once: a batch may hold two saves of one domain, written in order),
        but those made under a stale lease epoch (fencing: postgres_cluster.py)."""
        async with self.transaction() as conn:
            refused = await refused_saves(conn, saves)
            unwritten = {id(s) for s in refused}
            kept = [s for s in saves if id(s) not in unwritten] if refused else saves
            for round_ in rounds(kept):
                await write_round(conn, round_)
        return refused

    async def mark_removed(self, names: Sequence[str], now: datetime) -> None:
        async with self.transaction() as conn:
            await conn.execute(
                f"UPDATE domains SET removed_at = %s, changed_at = {DB_NOW}"  # noqa: S608
                " WHERE name = ANY(%s) AND removed_at IS NULL",
                (to_micros(now), list(names)),
            )

    async def purge_removed(self, before: datetime) -> list[str]:
        async with self.transaction() as conn:
            cursor = await conn.execute(
                "SELECT name FROM domains WHERE removed_at < %s", (to_micros(before),)
            )
            names = [row[0] for row in await cursor.fetchall()]
            for table, column in (
                ("outbox", "domain"),
                ("deliveries", "domain"),
                ("history", "domain"),
                ("domains", "name"),
            ):
                await conn.execute(f"DELETE FROM {table} WHERE {column} = ANY(%s)".encode(), (names,))  # noqa: S608
        return names

    async def purge_history(self, before: datetime) -> int:
        async with self.transaction() as conn:
            cursor = await conn.execute(
                "DELETE FROM history WHERE at < %s AND id NOT IN (SELECT event_id FROM outbox)"
                " AND id NOT IN (SELECT event_id FROM deliveries WHERE state != 'delivered')",
                (to_micros(before),),
            )
            await conn.execute("DELETE FROM day_counts WHERE day < %s", (before.strftime("%Y-%m-%d"),))
            await conn.execute("DELETE FROM maintenance_windows WHERE ends_at < %s", (to_micros(before),))
            await conn.execute(UNNAMED_SETS, (to_micros(before),))
            return cursor.rowcount

    async def save_day_counts(self, day: str, counts: Mapping[str, int]) -> None:
        async with self.transaction() as conn:
            await conn.execute("DELETE FROM day_counts WHERE day = %s", (day,))
            async with conn.cursor() as cursor:
                await cursor.executemany(
                    "INSERT INTO day_counts (day, status, count) VALUES (%s, %s, %s)",
                    [(day, status, count) for status, count in counts.items()],
                )

    async def day_counts(self, since: str) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        async with self.transaction() as conn:
            cursor = await conn.execute(
                "SELECT day, status, count FROM day_counts WHERE day >= %s ORDER BY day", (since,)
            )
            for day, status, count in await cursor.fetchall():
                out.setdefault(day, {})[status] = count
        return out

    async def purge_answers(self, before: datetime) -> int:
        async with self.transaction() as conn:
            cursor = await conn.execute("DELETE FROM answers WHERE created_at < %s", (to_micros(before),))
            return cursor.rowcount


async def _version(conn: psycopg.AsyncConnection[Any]) -> int:
    cursor = await conn.execute("SELECT to_regclass('domainwatch_schema') IS NOT NULL")
    exists = await cursor.fetchone()
    if not exists or not exists[0]:
        return 0
    cursor = await conn.execute("SELECT COALESCE(MAX(version), 0) FROM domainwatch_schema")
    row = await cursor.fetchone()
    return int(row[0]) if row else 0


def _reason(exc: BaseException) -> str:
    """Why a connection failed, in one line (libpq's messages name the host, never a password)."""
    cause = exc.__cause__ or exc
    return " ".join(str(cause).split())[:300] or type(cause).__name__
