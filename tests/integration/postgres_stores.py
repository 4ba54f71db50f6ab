"""A PostgreSQL server shared by a test session, and a fresh database of it for each test that
asks: what the store contract and the daemon scenarios run on (tests/integration/postgres.py
starts the server)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from domainwatch.store.base import Store
from domainwatch.store.postgres import PostgresStore
from domainwatch.store.sqlite import SqliteStore
from tests.integration.postgres import Postgres, postgres_server


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    with postgres_server() as server:
        _wait_for_logins(server.url)
        yield server


def new_database(server: Postgres) -> str:
    """A new, empty database on the server; its URL."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(server.url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}".encode())
    return server.url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture
def postgres_url(postgres: Postgres) -> str:
    return new_database(postgres)


def _wait_for_logins(url: str) -> None:
    """Accepting TCP comes a moment before accepting logins."""
    deadline = time.monotonic() + 30
    while True:
        try:
            psycopg.connect(url).close()
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
        else:
            return


StoreMaker = Callable[[str | None], Awaitable[Store]]


@pytest.fixture(params=["sqlite", "postgresql"])
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> StoreMaker:
    """Opens a store of the parametrized kind: the same `key` is the same store again (a
    restart), None a new one. A test that takes it runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":

        async def sqlite(key: str | None) -> Store:
            return SqliteStore(tmp_path / f"{key}.db" if key else ":memory:")

        return sqlite
    server: Postgres = request.getfixturevalue("postgres")
    urls: dict[str, str] = {}

    async def postgresql(key: str | None) -> Store:
        url = urls.get(key) if key else None
        if url is None:
            url = new_database(server)
            if key:
                urls[key] = url
        return await PostgresStore.open(url)

    return postgresql
