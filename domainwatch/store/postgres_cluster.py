"""Replicas sharing the PostgreSQL store (docs/ha.md): slot leases, the fencing of writes, the
rows other replicas changed, and API writes handed to a domain's owner.

Every time here is the database's: replicas compare leases and changes by one clock, whatever
their own clocks say.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Sequence
from typing import Any

import psycopg

from domainwatch.state.facts import facts_from_json
from domainwatch.state.slots import fair_share, slot_of, to_release
from domainwatch.store.base import Changed, LeaseRound, Save, StoredDocument
from domainwatch.store.postgres_drift import DriftTables
from domainwatch.store.postgres_schema import DB_NOW
from domainwatch.store.rows import DOMAIN_COLUMNS, RecordRows, moment

LISTEN_CHANNEL = "domainwatch_commands"
_TTL = "now() + %s * interval '1 second'"


class ClusterTables(DriftTables):
    """The cluster's tables, on PostgresStore's pool."""

    url: str
    _listener: psycopg.AsyncConnection[Any] | None = None

    async def _records(self, include_removed: bool, only: str | Sequence[str] | None = None) -> RecordRows:
        raise NotImplementedError

    async def renew_leases(self, replica: str, ttl: float, *, claim: bool = False) -> LeaseRound:
        """One lease round, in one transaction: say this replica is alive, keep its fair share of
        the slots (releasing the excess, taking free and expired ones) and renew what it keeps.
        Lease rows are locked in slot order, as writes lock them (fenced): no deadlock.

        Locks: a write holds its slots' rows FOR KEY SHARE, which only FOR UPDATE waits for.
        Renewing (expiry only) takes FOR NO KEY UPDATE, so a stream of writes never holds up a
        renewal; every epoch change (taking a slot, or `claim`) takes FOR UPDATE, so it waits
        for, or skips, the writes made under the old epoch. With `claim` (a process's first
        round, or after it let its slots go), the slots still held under its name are renewed
        with new epochs: whatever wrote under the old ones (an earlier process of the same
        replica_id) is fenced."""
        async with self.transaction() as conn:
            await conn.execute(
                f"INSERT INTO replicas (id, started_at, expires_at) VALUES (%s, now(), {_TTL})"  # noqa: S608
                " ON CONFLICT (id) DO UPDATE SET expires_at = excluded.expires_at",
                (replica, ttl),
            )
            await conn.execute("DELETE FROM replicas WHERE expires_at < now() - interval '1 hour'")
            live = tuple(
                r[0] for r in await _all(conn, "SELECT id FROM replicas WHERE expires_at > now() ORDER BY id")
            )
            mine = [
                r[0]
                for r in await _all(
                    conn,
                    "SELECT slot FROM slot_leases WHERE holder = %s ORDER BY slot"  # noqa: S608
                    f" FOR {'UPDATE' if claim else 'NO KEY UPDATE'}",
                    (replica,),
                )
            ]
            share = fair_share(replica, live)
            released = to_release(mine, share)
            if released:
                await conn.execute(
                    "UPDATE slot_leases SET holder = NULL, expires_at = now() WHERE slot = ANY(%s)",
                    (released,),
                )
            held = dict(
                await _all(
                    conn,
                    f"UPDATE slot_leases SET expires_at = {_TTL}, epoch = epoch + %s"  # noqa: S608
                    " WHERE holder = %s RETURNING slot, epoch",
                    (ttl, int(claim), replica),
                )
            )
            wanted = share - len(held)
            if wanted > 0:
                held.update(
                    await _all(
                        conn,
                        f"UPDATE slot_leases SET holder = %s, epoch = epoch + 1, expires_at = {_TTL}"  # noqa: S608
                        " WHERE slot IN (SELECT slot FROM slot_leases"
                        " WHERE holder IS NULL OR expires_at < now()"
                        " ORDER BY slot LIMIT %s FOR UPDATE SKIP LOCKED) RETURNING slot, epoch",
                        (replica, ttl, wanted),
                    )
                )
        return LeaseRound(held, live, tuple(released))

    async def release_leases(self, replica: str) -> None:
        """A replica stopping: its slots free at once for the others, and it is no longer live."""
        async with self.transaction() as conn:
            await conn.execute(
                "UPDATE slot_leases SET holder = NULL, expires_at = now() WHERE holder = %s", (replica,)
            )
            await conn.execute("DELETE FROM replicas WHERE id = %s", (replica,))

    async def database_now(self) -> int:
        rows = await self._rows(f"SELECT {DB_NOW}")
        return int(rows[0][0])

    async def changed_since(self, since: int, wanted: Callable[[str, int], bool] | None = None) -> Changed:
        """Every domain whose row changed at or after `since` (the database's microseconds):
        the names and change times of all, the rows of those `wanted` (name, change time)."""
        changed = Changed(newest=since)
        stamps = await self._rows("SELECT name, changed_at FROM domains WHERE changed_at >= %s", (since,))
        changed.stamps = dict(stamps)
        changed.newest = max((c for _, c in stamps), default=since)
        fresh = [n for n, c in stamps if wanted is None or wanted(n, c)]
        if not fresh:
            return changed
        rows = await self._rows(
            f"SELECT {DOMAIN_COLUMNS}, facts, removed_at, changed_at FROM domains"  # noqa: S608
            " WHERE name = ANY(%s)",
            (fresh,),
        )
        names = [row[0] for row in rows]
        read = await self._records(True, names)
        for row in rows:
            name, facts, removed_at = row[0], row[8], row[9]
            if removed_at is not None:
                changed.removed.add(name)
                continue
            changed.tracks[name] = read.domain(row[:8])
            if facts is not None:
                changed.facts[name] = facts_from_json(facts)
        changed.documents = dict.fromkeys(names)
        for name, body, created, updated in await self._rows(
            "SELECT name, body, created_at, updated_at FROM documents WHERE name = ANY(%s)", (names,)
        ):
            changed.documents[name] = StoredDocument(name, json.loads(body), moment(created), moment(updated))
        return changed

    # -- API writes handed to a domain's owner ------------------------------------------------
    async def send_command(self, slot: int, body: str) -> int:
        async with self.transaction() as conn:
            rows = await _all(
                conn, "INSERT INTO commands (slot, body) VALUES (%s, %s) RETURNING id", (slot, body)
            )
            await conn.execute(f"NOTIFY {LISTEN_CHANNEL}")
        return int(rows[0][0])

    async def claim_commands(self, replica: str, slots: Collection[int]) -> list[tuple[int, str]]:
        async with self.transaction() as conn:
            return [
                (int(i), b)
                for i, b in await _all(
                    conn,
                    "UPDATE commands SET claimed_by = %s WHERE id IN (SELECT id FROM commands"
                    " WHERE claimed_by IS NULL AND answer IS NULL AND slot = ANY(%s)"
                    " ORDER BY id LIMIT 20"
                    " FOR UPDATE SKIP LOCKED) RETURNING id, body",
                    (replica, list(slots)),
                )
            ]

    async def answer_command(self, command: int, answer: str) -> None:
        await self._change("UPDATE commands SET answer = %s WHERE id = %s", (answer, command))

    async def wait_for_commands(self, seconds: float) -> None:
        """Until a command is sent (NOTIFY), or `seconds`: on a session of its own."""
        if self._listener is None or self._listener.closed:
            self._listener = await psycopg.AsyncConnection.connect(self.url, autocommit=True)
            await self._listener.execute(f"LISTEN {LISTEN_CHANNEL}")
        try:
            async for _ in self._listener.notifies(timeout=seconds, stop_after=1):
                pass
        except psycopg.Error:
            await self._listener.close()
            raise

    async def withdraw_command(self, command: int) -> bool:
        """Take back a command no replica has claimed; whether it was (so none ever will)."""
        return await self._change("DELETE FROM commands WHERE id = %s AND claimed_by IS NULL", (command,)) > 0

    async def command_answer(self, command: int) -> str | None:
        rows = await self._rows("SELECT answer FROM commands WHERE id = %s", (command,))
        return rows[0][0] if rows else None

    async def purge_commands(self) -> int:
        return await self._change("DELETE FROM commands WHERE created_at < now() - interval '1 hour'", ())


async def refused_saves(conn: psycopg.AsyncConnection[Any], saves: Sequence[Save]) -> list[Save]:
    """The saves made under a lease epoch their slot no longer has (fencing). The slots' lease
    rows stay locked (FOR KEY SHARE) until the caller's transaction ends: an epoch change (FOR
    UPDATE) waits for, or skips, them; so no write under an old epoch lands after a new one,
    while renewals (which change only the expiry) never wait for writes."""
    fenced = [s for s in saves if s.fence is not None]
    if not fenced:
        return []
    slots = sorted({slot_of(s.track.name) for s in fenced})
    epochs = dict(
        await _all(
            conn,
            "SELECT slot, epoch FROM slot_leases WHERE slot = ANY(%s) ORDER BY slot FOR KEY SHARE",
            (slots,),
        )
    )
    return [s for s in fenced if epochs.get(slot_of(s.track.name)) != s.fence]


async def _all(
    conn: psycopg.AsyncConnection[Any], query: str, args: Sequence[Any] = ()
) -> list[tuple[Any, ...]]:
    cursor = await conn.execute(query.encode(), args)
    return await cursor.fetchall()
