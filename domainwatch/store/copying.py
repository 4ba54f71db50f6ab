"""`store copy`: every row of one store into another, as it is (state, results, history, outbox,
deliveries, endpoints, API documents and kept answers), between SQLite and PostgreSQL either
way. Refused while a daemon writes the source or holds the target, and into a target that
already holds domains or history: a copy is a move to a new home, not a merge.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any

from domainwatch.store.base import Store, StoreError
from domainwatch.store.holder import holder
from domainwatch.store.opening import open_store
from domainwatch.store.postgres_schema import TABLES
from domainwatch.store.sqlite import SqliteStore
from domainwatch.store.urls import SQLITE, StoreLocation

if TYPE_CHECKING:
    from domainwatch.store.postgres import PostgresStore

BATCH = 1000


async def copy_store(source: StoreLocation, target: StoreLocation) -> dict[str, int]:
    """Copy everything; the rows copied per table."""
    if source.kind == target.kind and source.target == target.target:
        raise StoreError("the source and the target are the same store")
    await _refuse_if_held(source, "writes")
    await _refuse_if_held(target, "holds")
    src = await open_store(source, readonly=True)
    try:
        dst = await open_store(target)
        try:
            if await _holds_anything(dst):
                raise StoreError(
                    f"{target.shown}: already holds domains or history; copy into an empty store"
                )
            return {table: await _copy_table(src, dst, table, columns) for table, columns in TABLES}
        finally:
            await dst.close()
    finally:
        await src.close()


async def _refuse_if_held(location: StoreLocation, verb: str) -> None:
    if location.kind == SQLITE:
        held = holder(location.target)
        if held is not None:
            raise StoreError(f"{location.shown}: {held} {verb} this store; stop it first")
        return
    store = await open_store(location, readonly=verb == "writes")
    try:
        if await postgres(store).held():
            raise StoreError(f"{location.shown}: a domainwatch daemon {verb} this database; stop it first")
    finally:
        await store.close()


async def _holds_anything(store: Store) -> bool:
    for table in ("domains", "history"):
        async for _ in _read(store, table, ("1",), limit=1):
            return True
    return False


async def _copy_table(src: Store, dst: Store, table: str, columns: Sequence[str]) -> int:
    count = 0
    async for rows in _read(store=src, table=table, columns=columns):
        await _write(dst, table, columns, rows)
        count += len(rows)
    return count


async def _read(
    store: Store, table: str, columns: Sequence[str], limit: int | None = None
) -> AsyncIterator[list[tuple[Any, ...]]]:
    """The table's rows in batches (a table and columns from TABLES, never from input)."""
    query = f"SELECT {', '.join(columns)} FROM {table}" + (f" LIMIT {limit}" if limit else "")  # noqa: S608
    if isinstance(store, SqliteStore):
        rows = store.sqlite.db.execute(query)
        while batch := rows.fetchmany(BATCH):
            yield batch
        return
    async with postgres(store).pool.connection() as conn, conn.transaction():
        cursor = conn.cursor(f"domainwatch_copy_{table}")
        await cursor.execute(query.encode())
        while batch := await cursor.fetchmany(BATCH):
            yield batch


async def _write(store: Store, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    names = ", ".join(columns)
    if isinstance(store, SqliteStore):
        marks = ", ".join("?" * len(columns))
        with store.sqlite.transaction():
            store.sqlite.db.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)  # noqa: S608
        return
    statement = f"COPY {table} ({names}) FROM STDIN".encode()
    async with (
        postgres(store).transaction() as conn,
        conn.cursor() as cursor,
        cursor.copy(statement) as copy,
    ):
        for row in rows:
            await copy.write_row(row)


def postgres(store: Store) -> PostgresStore:
    """The store as the PostgreSQL store it is."""
    from domainwatch.store.postgres import PostgresStore  # noqa: PLC0415 (an optional extra)

    assert isinstance(store, PostgresStore)
    return store
