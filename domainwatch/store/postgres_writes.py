"""The PostgreSQL store's writes of a round of saves: a few multi-row statements (unnest of one
array per column) per round, in the caller's transaction."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import psycopg

from domainwatch.store.base import DocumentWrite, Save
from domainwatch.store.postgres_schema import DB_NOW
from domainwatch.store.rows import COMPACT, domain_values, event_values, record_values, set_values, to_micros

_DOMAIN_COLUMNS = "name verify status since capabilities checked_at facts sequence verified_at changed_at"
_DOMAIN_ROW = f"domains ({', '.join(_DOMAIN_COLUMNS.split())})"


def rounds(saves: Sequence[Save]) -> list[list[Save]]:
    """The saves in rounds that hold each domain at most once, each save after its domain's
    earlier ones (a multi-row upsert may not touch one row twice)."""
    rounds: list[list[Save]] = []
    seen: dict[str, int] = {}
    for save in saves:
        index = seen.get(save.track.name, -1) + 1
        seen[save.track.name] = index
        if index == len(rounds):
            rounds.append([])
        rounds[index].append(save)
    return rounds


async def write_round(conn: psycopg.AsyncConnection[Any], saves: Sequence[Save]) -> None:
    sets: dict[str, tuple[str, int]] = {}
    for save in saves:
        for digest, body, used in set_values(save):
            sets[digest] = (body, max(used, sets.get(digest, ("", 0))[1]))
    if sets:
        await conn.execute(
            "INSERT INTO value_sets (digest, body, used_at)"
            " SELECT * FROM unnest(%s::text[], %s::text[], %s::bigint[])"
            " ON CONFLICT (digest) DO UPDATE SET used_at = GREATEST(value_sets.used_at, excluded.used_at)",
            (list(sets), [b for b, _ in sets.values()], [u for _, u in sets.values()]),
        )
    await conn.execute(
        f"INSERT INTO {_DOMAIN_ROW} SELECT *, {DB_NOW} FROM unnest(%s::text[], %s::int[], %s::text[],"  # noqa: S608
        " %s::bigint[], %s::text[], %s::bigint[], %s::text[], %s::int[], %s::bigint[])"
        " ON CONFLICT (name) DO UPDATE SET verify = excluded.verify, status = excluded.status,"
        " since = excluded.since, capabilities = excluded.capabilities, checked_at = excluded.checked_at,"
        " facts = COALESCE(excluded.facts, domains.facts), sequence = excluded.sequence,"
        " verified_at = excluded.verified_at, removed_at = NULL, changed_at = excluded.changed_at",
        _columns([domain_values(save.track, save.facts) for save in saves], 9),
    )
    pruned = [s for s in saves if s.stored is None or not s.stored.records.keys() <= s.track.records.keys()]
    if pruned:
        kept = [(s.track.name, record) for s in pruned for record in s.track.records]
        await conn.execute(
            "DELETE FROM records WHERE domain = ANY(%s) AND (domain, record) NOT IN"
            " (SELECT * FROM unnest(%s::text[], %s::text[]))",
            ([s.track.name for s in pruned], *_columns(kept, 2)),
        )
    records = [row for save in saves for row in record_values(save)]
    if records:
        await conn.execute(
            "INSERT INTO records (domain, record, fingerprint, status, since, started_at, missing_since,"
            " misses, stale, last_observation, checked_at, result, drift)"
            " SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::bigint[],"
            " %s::bigint[], %s::bigint[], %s::int[], %s::int[], %s::text[], %s::bigint[], %s::text[],"
            " %s::text[])"
            " ON CONFLICT (domain, record) DO UPDATE SET fingerprint = excluded.fingerprint,"
            " status = excluded.status, since = excluded.since, started_at = excluded.started_at,"
            " missing_since = excluded.missing_since, misses = excluded.misses, stale = excluded.stale,"
            " last_observation = excluded.last_observation, checked_at = excluded.checked_at,"
            " result = COALESCE(excluded.result, records.result), drift = excluded.drift",
            _columns(records, 13),
        )
    for save in saves:
        if save.write is not None:
            await write_document(conn, save.track.name, save.write)
    events = [event for save in saves for event in save.events]
    if events:
        await conn.execute(
            "INSERT INTO history (id, domain, sequence, kind, subject, previous, status, at, reason,"
            " observations) SELECT * FROM unnest(%s::text[], %s::text[], %s::int[], %s::text[], %s::text[],"
            " %s::text[], %s::text[], %s::bigint[], %s::text[], %s::text[])",
            _columns([event_values(e) for e in events], 10),
        )
    outbox = [
        (e.id, e.domain, to_micros(e.at), json.dumps(payload, sort_keys=True, separators=COMPACT))
        for save in saves
        for e in save.events
        if (payload := (save.payloads or {}).get(e.id)) is not None
    ]
    if outbox:
        await conn.execute(
            "INSERT INTO outbox (event_id, domain, created_at, payload)"
            " SELECT * FROM unnest(%s::text[], %s::text[], %s::bigint[], %s::text[])",
            _columns(outbox, 4),
        )


async def write_document(conn: psycopg.AsyncConnection[Any], name: str, write: DocumentWrite) -> None:
    document = write.document
    if document is None:
        await conn.execute("DELETE FROM documents WHERE name = %s", (name,))
    else:
        await conn.execute(
            "INSERT INTO documents (name, body, created_at, updated_at) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (name) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
            (name, json.dumps(document.body), to_micros(document.created_at), to_micros(document.updated_at)),
        )
    if write.removed_at is not None:
        await conn.execute(
            f"UPDATE domains SET removed_at = %s, changed_at = {DB_NOW} WHERE name = %s",  # noqa: S608
            (to_micros(write.removed_at), name),
        )
    answer = write.answer
    if answer is not None:  # a key already kept is a conflict: the whole save fails
        await conn.execute(
            "INSERT INTO answers (key, request, status, body, created_at) VALUES (%s, %s, %s, %s, %s)",
            (answer.key, answer.request, answer.status, answer.body, to_micros(answer.created_at)),
        )


def _columns(rows: Sequence[tuple[Any, ...]], width: int) -> list[list[Any]]:
    """Rows as one list per column (what unnest takes)."""
    return [list(column) for column in zip(*rows, strict=True)] if rows else [[] for _ in range(width)]
