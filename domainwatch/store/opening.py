"""Open the store a location names (store/urls.py): SQLite's, or PostgreSQL's (the `postgresql`
extra: psycopg is imported only when a PostgreSQL store is asked for).

`holding_store` is what the daemon wraps its life in: a second daemon on the same store refuses
to start (SQLite: a lock file; PostgreSQL: an advisory lock the store's session holds).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from domainwatch.store.base import Store, StoreError
from domainwatch.store.holder import holding
from domainwatch.store.sqlite import SqliteStore
from domainwatch.store.urls import SQLITE, StoreLocation


async def open_store(location: StoreLocation, *, readonly: bool = False, hold: bool = False) -> Store:
    """The store, migrated (unless `readonly`); StoreError says why it cannot be used. `hold`
    (PostgreSQL): take the daemon's lock, or raise StoreError when another daemon has it."""
    if location.kind == SQLITE:
        return SqliteStore(location.target, readonly=readonly)
    try:
        from domainwatch.store.postgres import PostgresStore  # noqa: PLC0415 (an optional extra)
    except ImportError as exc:
        raise StoreError(
            f"{location.shown}: PostgreSQL needs psycopg: pip install 'domainwatch[postgresql]' ({exc})"
        ) from None
    return await PostgresStore.open(location.target, readonly=readonly, hold=hold)


@contextlib.asynccontextmanager
async def holding_store(location: StoreLocation) -> AsyncIterator[Store]:
    """The store, opened and held for the block (StoreError if another daemon holds it)."""
    if location.kind == SQLITE:
        with holding(location.target):
            store = await open_store(location)
            try:
                yield store
            finally:
                if store.is_open:
                    await store.close()
        return
    store = await open_store(location, hold=True)
    try:
        yield store
    finally:
        if store.is_open:
            await store.close()
