"""The PostgreSQL store's cluster tables (docs/ha.md), on a server the tests start: leases and
their fair shares, fencing, the slot function in SQL, rows changed since a time, handed-off
writes, and deliveries scoped to slots and fenced."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from domainwatch.state.slots import SLOTS, slot_of
from domainwatch.store.base import NewDelivery, Save
from domainwatch.store.postgres import PostgresStore
from tests.integration.postgres_stores import postgres, postgres_url
from tests.unit.test_store_contract import T0, started

__all__ = ["postgres", "postgres_url"]  # fixtures


@pytest.fixture
async def store(postgres_url: str) -> AsyncIterator[PostgresStore]:
    opened = await PostgresStore.open(postgres_url)
    yield opened
    await opened.close()


async def test_replicas_share_the_slots_fairly_and_rebalance(store: PostgresStore) -> None:
    first = await store.renew_leases("a", 15)
    assert len(first.held) == SLOTS
    assert first.live == ("a",)
    joined = await store.renew_leases("b", 15)  # a still holds everything: b gets nothing yet
    assert joined.held == {}
    assert joined.live == ("a", "b")
    shrunk = await store.renew_leases("a", 15)  # a releases its upper half...
    assert sorted(shrunk.held) == list(range(512))
    assert shrunk.released == tuple(range(512, SLOTS))
    taken = await store.renew_leases("b", 15)  # ...and b takes it, each epoch moved on
    assert sorted(taken.held) == list(range(512, SLOTS))
    assert all(epoch == 2 for epoch in taken.held.values())
    await store.release_leases("a")
    alone = await store.renew_leases("b", 15)
    assert len(alone.held) == SLOTS
    assert alone.live == ("b",)
    assert alone.held[0] == 2  # a's slots, taken with a new epoch
    assert alone.held[600] == 2  # its own, renewed with the same one


async def test_an_expired_lease_is_taken_with_a_new_epoch(store: PostgresStore) -> None:
    await store.renew_leases("a", 15)
    await store._change("UPDATE slot_leases SET expires_at = now() - interval '1 second'", ())
    await store._change("UPDATE replicas SET expires_at = now() - interval '1 second' WHERE id = 'a'", ())
    taken = await store.renew_leases("b", 15)
    assert len(taken.held) == SLOTS
    assert set(taken.held.values()) == {2}
    late = await store.renew_leases("a", 15)  # back after its lease ran out: nothing is its own
    assert late.held == {}


async def test_the_database_computes_the_same_slot(store: PostgresStore) -> None:
    names = ["example.com", "d0042.example.com", "Mail.Example.ORG", "xn--bcher-kva.example"]
    rows = dict(await store._rows("SELECT n, domainwatch_slot(n) FROM unnest(%s::text[]) AS n", (names,)))
    assert rows == {name: slot_of(name) for name in names}


async def test_a_write_under_a_stale_epoch_is_refused(store: PostgresStore) -> None:
    held = (await store.renew_leases("a", 15)).held
    name = "example.com"
    epoch = held[slot_of(name)]
    track, _ = await started(store, name)
    checked = replace(track, checked_at=T0)
    refused = await store.save_many(
        [Save(checked, fence=epoch - 1), Save(replace(checked, sequence=9), fence=epoch)]
    )
    assert [s.fence for s in refused] == [epoch - 1]
    stored = await store.track(name)
    assert stored is not None
    assert stored.sequence == 9  # the current epoch's save landed; the stale one did not
    unfenced = await store.save_many([Save(replace(checked, sequence=10))])  # offline tools
    assert unfenced == []


async def test_rows_changed_since_a_time_are_read_back(store: PostgresStore) -> None:
    before = await store.database_now()
    await started(store, "a.example.com")
    changed = await store.changed_since(before)
    assert set(changed.tracks) == {"a.example.com"}
    assert changed.documents == {"a.example.com": None}
    assert changed.newest >= before
    await store.mark_removed(["a.example.com"], T0)
    assert (await store.changed_since(changed.newest)).removed == {"a.example.com"}


async def test_a_handed_off_write_is_claimed_once_by_its_slot_holder(store: PostgresStore) -> None:
    command = await store.send_command(7, '{"op": "verify"}')
    assert await store.claim_commands("b", [8]) == []  # another slot's holder
    assert await store.claim_commands("a", [7]) == [(command, '{"op": "verify"}')]
    assert await store.claim_commands("a", [7]) == []  # claimed once
    assert await store.command_answer(command) is None
    await store.answer_command(command, '{"events": []}')
    assert await store.command_answer(command) == '{"events": []}'


async def test_deliveries_are_scoped_to_slots_and_fenced(store: PostgresStore) -> None:
    held = (await store.renew_leases("a", 15)).held
    names = ["a.example.com", "b.example.com"]
    for name in names:
        await started(store, name, deliver=lambda _: True)
    mine = [slot_of("a.example.com")]
    assert {o.domain for o in await store.outbox(slots=mine)} == {"a.example.com"}
    fanned = [(o, [NewDelivery("ops", "t", "body")]) for o in await store.outbox()]
    await store.fan_out(fanned, T0)
    (due,) = await store.due("ops", T0, slots=mine)
    assert due.domain == "a.example.com"
    epoch = held[mine[0]]
    assert not await store.start_attempt(due, T0, fence=epoch + 1)  # not the slot's epoch
    assert await store.start_attempt(due, T0, fence=epoch)
    assert not await store.start_attempt(due, T0, fence=epoch)  # in flight already
    assert await store.recover(T0, mine, started_before=T0) == 0  # not abandoned yet
    assert await store.recover(T0, mine) == 1
