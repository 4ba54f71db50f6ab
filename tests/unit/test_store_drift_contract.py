"""The store contract, drift's part: record drift states, value sets and maintenance windows
(each test against every store of STORES; the PostgreSQL store runs them too)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from domainwatch.state.domain import DomainTrack, reconcile
from domainwatch.state.drift import CHANGE, RecordDrift
from domainwatch.state.events import Event
from domainwatch.state.windows import MAX_WINDOWS, MaintenanceWindow
from domainwatch.store.base import Save, Store, StoreError
from tests.unit.test_store_contract import SPECS, STORES, T0


@pytest.fixture(params=sorted(STORES))
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    made = STORES[request.param](tmp_path)
    yield made
    await made.close()


def tracked(name: str = "example.com") -> DomainTrack:
    track, _ = reconcile(None, name, True, SPECS, T0)
    drift = RecordDrift(
        "set-a", T0, "set-a", "retiring", T0 + timedelta(seconds=1), T0 + timedelta(seconds=2)
    )
    return replace(track, drift={"spf": drift})


async def test_drift_states_round_trip_and_change_with_the_record(store: Store) -> None:
    track = tracked()
    await store.save_many([Save(track, value_sets={"set-a": '{"values":["v=spf1 -all"]}'})])
    loaded = (await store.load())["example.com"]
    assert loaded.drift == track.drift
    moved = replace(
        track, drift={"spf": replace(track.drift["spf"], published="set-b", since=T0 + timedelta(hours=1))}
    )
    await store.save_many([Save(moved, stored=loaded, value_sets={"set-b": '{"values":[]}'})])
    assert (await store.track("example.com")).drift == moved.drift  # type: ignore[union-attr]
    assert await store.value_sets(["set-a", "set-b", "set-c"]) == {
        "set-a": '{"values":["v=spf1 -all"]}',
        "set-b": '{"values":[]}',
    }


async def test_a_value_set_is_stored_once_and_kept_as_long_as_the_history_that_names_it(
    store: Store,
) -> None:
    """Purged once last written before the history's cutoff, unless a record's drift names it."""
    track = tracked()
    sets = {"set-a": "a", "set-old": "old", "set-new": "new"}
    change = Event(
        "e1", "example.com", 1, CHANGE, "spf", "verified", "verified", T0, "weakening",
        {"record": "spf", "before_set": "set-old", "after_set": "set-new"},
    )  # fmt: skip
    await store.save_many([Save(replace(track, sequence=1), [change], value_sets=sets)])
    await store.save_many([Save(replace(track, sequence=1), value_sets={"set-a": "other"})])
    assert await store.value_sets(sorted(sets)) == sets  # the first body stays
    await store.purge_history(T0 - timedelta(days=1))  # the change is kept: so are its sets
    assert set(await store.value_sets(sorted(sets))) == set(sets)
    await store.purge_history(T0 + timedelta(days=1))
    assert set(await store.value_sets(sorted(sets))) == {"set-a"}  # still the record's


async def test_windows_are_kept_listed_by_end_deleted_and_purged_when_over(store: Store) -> None:
    soon = MaintenanceWindow("w2", "*.example.com", ("spf",), T0 + timedelta(hours=1), "", T0)
    later = MaintenanceWindow("w1", "*", ("dkim:*", "spf"), T0 + timedelta(days=2), "rotation", T0)
    await store.save_window(later)
    await store.save_window(soon)
    assert await store.windows() == [soon, later]
    assert await store.delete_window("w2")
    assert not await store.delete_window("w2")
    await store.purge_history(T0 + timedelta(days=3))
    assert await store.windows() == []


async def test_windows_are_bounded(store: Store) -> None:
    for index in range(MAX_WINDOWS):
        await store.save_window(MaintenanceWindow(f"w{index}", "*", ("spf",), T0, "", T0))
    with pytest.raises(StoreError):
        await store.save_window(MaintenanceWindow("one-more", "*", ("spf",), T0, "", T0))
