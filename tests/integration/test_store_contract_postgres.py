"""The store contract (tests/unit/test_store_contract.py) on the PostgreSQL store: every test of
the suite, each on a fresh database of the session's server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from domainwatch.store.base import Store
from domainwatch.store.postgres import PostgresStore
from tests.integration.postgres_stores import postgres, postgres_url
from tests.unit.test_store_contract import *  # noqa: F403 (the suite's tests, collected here too)
from tests.unit.test_store_drift_contract import *  # noqa: F403

__all__ = ["postgres", "postgres_url"]


@pytest.fixture  # type: ignore[no-redef]
async def store(postgres_url: str) -> AsyncIterator[Store]:
    made = await PostgresStore.open(postgres_url)
    yield made
    await made.close()
