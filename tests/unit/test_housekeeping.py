"""The daemon's chores on its own clock: today's counts at once and every 10 minutes, retention
hourly; a store that refuses is counted, never fatal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from domainwatch.config.schema import Config
from domainwatch.daemon.housekeeping import Housekeeping
from domainwatch.fleet.fleet import Fleet
from domainwatch.state.domain import DomainTrack
from domainwatch.state.rules import Status
from domainwatch.testing.memory_store import MemoryStore

NOW = datetime(2026, 12, 7, 23, 55, tzinfo=UTC)


def fleet() -> Fleet:
    made = Fleet({}, {}, lambda at: "id", NOW)
    made.tracks.update({"a.example": DomainTrack("a.example", status=Status.VERIFIED)})
    made.plans.update({"a.example": object()})  # type: ignore[dict-item]
    return made


async def test_counts_are_written_at_once_then_every_ten_minutes() -> None:
    store = MemoryStore()
    chores = Housekeeping(store, fleet(), Config, None, NOW)
    await chores.tick(NOW)
    assert {"2026-12-07": {"verified": 1}} == await store.day_counts("2026-12-01")
    chores.fleet.tracks["a.example"] = DomainTrack("a.example", status=Status.FAILED)
    await chores.tick(NOW + timedelta(minutes=5))
    assert {"verified": 1} == (await store.day_counts("2026-12-07"))["2026-12-07"]
    await chores.tick(NOW + timedelta(minutes=11))  # past midnight: tomorrow's row
    assert {"2026-12-07": {"verified": 1}, "2026-12-08": {"failed": 1}} == await store.day_counts(
        "2026-12-01"
    )


async def test_a_refusing_store_is_counted_not_fatal() -> None:
    class Refusing(MemoryStore):
        async def save_day_counts(self, day: str, counts: Any) -> None:
            raise OSError("disk full")

    observed: list[str] = []

    class Metrics:
        def observe_store_error(self, operation: str) -> None:
            observed.append(operation)

    chores = Housekeeping(Refusing(), fleet(), Config, Metrics(), NOW)  # type: ignore[arg-type]
    await chores.tick(NOW)
    assert ["counts"] == observed
