"""The store contract: what every Store implementation must do, each test run against every
implementation in STORES (SQLite and the in-memory store). A new store (PostgreSQL, say) adds
itself to STORES and passes these."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from domainwatch.model import DomainReport, RecordResult, RecordState
from domainwatch.runtime.entropy import RandomPool
from domainwatch.state.domain import Change, DomainTrack, RecordSpec, apply_report, reconcile
from domainwatch.state.events import Event, number
from domainwatch.state.facts import DomainFacts
from domainwatch.state.rules import Rules
from domainwatch.store.base import DocumentWrite, NewDelivery, Save, Store, StoredAnswer, StoredDocument
from domainwatch.store.rows import EPOCH, MILLISECOND
from domainwatch.store.sqlite import SqliteStore
from domainwatch.testing import MemoryStore

T0 = datetime(2026, 1, 1, 12, 30, 15, 123456, tzinfo=UTC)
SPECS = (RecordSpec("spf", "sending", "f1"), RecordSpec("receiving_mx", "receiving", "f2"))
STORES: dict[str, Callable[[Path], Store]] = {
    "sqlite": lambda path: SqliteStore(path / "state.db"),
    "memory": lambda _: MemoryStore(),
}
_ids = RandomPool()


@pytest.fixture(params=sorted(STORES))
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    made = STORES[request.param](tmp_path)
    yield made
    await made.close()


def result(record: str, state: RecordState = RecordState.PRESENT) -> RecordResult:
    return RecordResult(record, "send.example.com", "TXT", state, True, "v=spf1 -all", ("v=spf1 -all",), ())


async def save(
    store: Store,
    track: DomainTrack,
    changes: Sequence[Change],
    results: dict[str, Any] | None = None,
    *,
    deliver: Callable[[Event], bool] = lambda _: False,
    facts: DomainFacts | None = None,
) -> tuple[DomainTrack, list[Event]]:
    """Number the changes and save them as the daemon does; (the saved track, its events)."""
    track, events = number(track, changes, lambda at: _ids.uuid7_hex((at - EPOCH) // MILLISECOND))
    payloads = {e.id: {"type": "domain.status_changed", "id": e.id} for e in events if deliver(e)}
    await store.save_many([Save(track, events, results, payloads, facts)])
    return track, events


async def started(
    store: Store, name: str = "example.com", at: datetime = T0, **kwargs: Any
) -> tuple[DomainTrack, list[Event]]:
    track, changes = reconcile(None, name, True, SPECS, at)
    return await save(store, track, changes, **kwargs)


def domain_events(event: Event) -> bool:
    return event.kind == "domain"


async def test_state_and_results_round_trip(store: Store) -> None:
    """What is saved is what is loaded, field for field; results are kept per record."""
    track, events = await started(store)
    report = DomainReport("example.com", (result("spf"), result("receiving_mx", RecordState.MISSING)))
    checked, more = apply_report(track, SPECS, report, Rules(), T0 + timedelta(minutes=1))
    checked, _ = await save(store, checked, more, {r.record: r.as_dict() for r in report.records})
    assert {"example.com": checked} == await store.load()
    assert len(events) + len(more) == checked.sequence
    assert "missing" == (await store.results("example.com"))["receiving_mx"]["state"]


async def test_a_save_without_results_keeps_the_stored_ones(store: Store) -> None:
    track, _ = await started(store, results={"spf": result("spf").as_dict()})
    await save(store, track, [])
    assert {"spf"} == set(await store.results("example.com"))


async def test_a_record_dropped_from_the_track_loses_its_result(store: Store) -> None:
    results = {r: result(r).as_dict() for r in ("spf", "receiving_mx")}
    track, _ = await started(store, results=results)
    only_spf = (SPECS[0],)
    smaller, changes = reconcile(track, "example.com", True, only_spf, T0 + timedelta(hours=1))
    smaller, _ = await save(store, smaller, changes)
    assert {"spf"} == set(await store.results("example.com"))
    assert {"example.com": smaller} == await store.load()


async def test_facts_are_kept_and_missing_ones_distilled(store: Store) -> None:
    """Stored facts come back; a domain saved without any gets `distill` of its results."""
    facts = DomainFacts({"error": 1, "warning": 0, "info": 0}, {"spf": {"spf_dns_lookups": 3}})
    await started(store, "a.example.com", results={"spf": result("spf").as_dict()}, facts=facts)
    await started(store, "b.example.com", results={"spf": result("spf").as_dict()})

    def distill(results: Any) -> DomainFacts:
        return DomainFacts({"error": len(results)})

    assert {"a.example.com": facts, "b.example.com": DomainFacts({"error": 1})} == await store.facts(distill)


async def test_events_are_history_newest_first_and_exported_oldest_first(store: Store) -> None:
    _, first = await started(store, "a.example.com")
    _, second = await started(store, "b.example.com", T0 + timedelta(minutes=5))
    assert [e.id for e in first] == [e.id for e in reversed(await store.history("a.example.com"))]
    assert [*first, *second] == [e async for e in store.iter_history(batch=2)]
    assert second == [e async for e in store.iter_history(T0 + timedelta(minutes=1))]
    assert 2 == len(await store.history(limit=2))


async def test_deliverable_events_enter_the_outbox_in_order(store: Store) -> None:
    _, events = await started(store, deliver=domain_events)
    outbox = await store.outbox()
    assert [e.id for e in events if e.kind == "domain"] == [o.event_id for o in outbox]
    assert {e.id: e.sequence for e in events if e.kind == "domain"} == {
        o.event_id: o.sequence for o in outbox
    }


async def queued(
    store: Store, names: Sequence[str] = ("a.example.com",), endpoints: Sequence[str] = ("ops",)
) -> None:
    """Each domain's domain events fanned out to each endpoint."""
    for name in names:
        await started(store, name, deliver=lambda e: True)
    fanned = [
        (o, [NewDelivery(e, "domain.status_changed", f"body {o.event_id}") for e in endpoints])
        for o in await store.outbox()
    ]
    await store.fan_out(fanned, T0)


async def test_fan_out_queues_one_delivery_per_endpoint_and_empties_the_outbox(store: Store) -> None:
    await queued(store, endpoints=("ops", "audit"))
    assert [] == await store.outbox()
    pending = await store.deliveries("pending")
    assert {"ops", "audit"} == {d.endpoint for d in pending}
    assert 2 * len({d.event_id for d in pending}) == len(pending)


async def test_only_each_domains_oldest_pending_delivery_is_due(store: Store) -> None:
    """Order per domain: a domain's next event waits until the one before it is settled."""
    await queued(store, names=("a.example.com", "b.example.com"))
    due = await store.due("ops", T0)
    assert [1, 1] == sorted(d.sequence for d in due)
    await store.start_attempt(due[0], T0)
    assert [due[1]] == await store.due("ops", T0)  # in flight: not due again, and nothing behind it
    await store.settle(due[0], "delivered", T0, next_at=None, status=200, error=None)
    assert 2 == next(d for d in await store.due("ops", T0) if d.domain == due[0].domain).sequence


async def test_a_retry_waits_until_its_time(store: Store) -> None:
    await queued(store)
    head = (await store.due("ops", T0))[0]
    await store.start_attempt(head, T0)
    later = T0 + timedelta(minutes=5)
    await store.settle(head, "pending", T0, next_at=later, status=500, error=None)
    assert ([], later) == (await store.due("ops", T0), await store.next_due(["ops"]))
    again = (await store.due("ops", later))[0]
    assert (head.event_id, 1, 500) == (again.event_id, again.attempts, again.last_status)


async def test_recover_makes_in_flight_deliveries_due_again(store: Store) -> None:
    await queued(store)
    head = (await store.due("ops", T0))[0]
    await store.start_attempt(head, T0)
    assert 1 == await store.recover(T0 + timedelta(seconds=1))
    assert head.event_id == (await store.due("ops", T0 + timedelta(seconds=1)))[0].event_id


async def test_dead_letters_are_counted_kept_and_replayable(store: Store) -> None:
    await queued(store)
    head = (await store.due("ops", T0))[0]
    await store.start_attempt(head, T0)
    await store.settle(head, "dead", T0, next_at=None, status=None, error="refused")
    stats = (await store.queue_stats())["ops"]
    assert (1, "refused") == (stats.dead, (await store.deliveries("dead"))[0].last_error)
    assert 0 == await store.purge_finished(T0 + timedelta(days=365))
    assert 1 == await store.replay(head.event_id, T0)
    assert (0, 0) == (
        (await store.queue_stats())["ops"].dead,
        (await store.deliveries("pending"))[0].attempts,
    )


async def test_delivered_ones_are_purged_after_retention(store: Store) -> None:
    await queued(store)
    head = (await store.due("ops", T0))[0]
    await store.start_attempt(head, T0)
    await store.settle(head, "delivered", T0, next_at=None, status=204, error=None)
    assert 0 == await store.purge_finished(T0)
    assert 1 == await store.purge_finished(T0 + timedelta(days=1))


async def test_queue_stats_count_pending_and_the_oldest(store: Store) -> None:
    await queued(store, names=("a.example.com", "b.example.com"))
    stats = (await store.queue_stats())["ops"]
    assert (len(await store.deliveries("pending")), T0, 0) == (
        stats.pending,
        stats.oldest_pending,
        stats.dead,
    )


async def test_endpoints_are_disabled_until_their_url_changes(store: Store) -> None:
    await store.sync_endpoints([("ops", "https://a.example/hook")])
    await store.disable("ops", "the receiver answered 410 Gone", T0)
    await store.sync_endpoints([("ops", "https://a.example/hook")])
    assert {"ops": "the receiver answered 410 Gone"} == await store.disabled()
    await store.sync_endpoints([("ops", "https://b.example/hook")])
    assert {} == await store.disabled()


async def test_removed_domains_are_hidden_kept_and_purged_after_retention(store: Store) -> None:
    await started(store, deliver=domain_events)
    await store.mark_removed(["example.com"], T0 + timedelta(days=1))
    assert ({}, {}) == (await store.load(), await store.facts(lambda _: DomainFacts()))
    assert "example.com" in await store.load(include_removed=True)
    assert [] == await store.purge_removed(T0)
    assert ["example.com"] == await store.purge_removed(T0 + timedelta(days=31))
    assert ({}, [], []) == (
        await store.load(include_removed=True),
        await store.history(),
        await store.outbox(),
    )


async def test_saving_a_returning_domain_clears_its_removal(store: Store) -> None:
    track, _ = await started(store)
    await store.mark_removed(["example.com"], T0)
    await save(store, track, [])
    assert {"example.com": track} == await store.load()


async def test_history_retention_keeps_undelivered_events(store: Store) -> None:
    _, events = await started(store, deliver=domain_events)
    assert len(events) - 1 == await store.purge_history(T0 + timedelta(days=1))
    assert [e.id for e in events if e.kind == "domain"] == [e.id for e in await store.history()]
    assert 0 == await store.purge_history(T0)


async def test_a_failed_save_many_writes_nothing(store: Store) -> None:
    """All or none: a batch whose second save is broken leaves the first unwritten too."""
    track, _ = reconcile(None, "a.example.com", True, SPECS, T0)
    broken = Save(track, [None])  # type: ignore[list-item]
    with pytest.raises(AttributeError):
        await store.save_many([Save(track), broken])
    assert ({}, []) == (await store.load(), await store.history())


# -- API domains: documents, deletion and kept answers ------------------------------------------
def document_write(name: str, at: datetime, **body: Any) -> DocumentWrite:
    return DocumentWrite(StoredDocument(name, {"name": name, **body}, at, at))


async def test_documents_are_written_with_the_state_and_read_back(store: Store) -> None:
    track, _ = reconcile(None, "api.example.com", True, SPECS, T0)
    await store.save_many([Save(track, (), write=document_write("api.example.com", T0, verify=True))])
    stored = (await store.documents())["api.example.com"]
    assert ({"name": "api.example.com", "verify": True}, T0, T0) == (
        dict(stored.body),
        stored.created_at,
        stored.updated_at,
    )
    later = T0 + timedelta(minutes=5)
    changed = StoredDocument("api.example.com", {"name": "api.example.com", "verify": False}, T0, later)
    await store.save_many([Save(track, (), write=DocumentWrite(changed))])
    assert (changed.body, T0, later) == (
        (await store.documents())["api.example.com"].body,
        (await store.documents())["api.example.com"].created_at,
        (await store.documents())["api.example.com"].updated_at,
    )


async def test_a_deletion_drops_the_document_and_keeps_the_state_as_removed(store: Store) -> None:
    track, events = await started(store, "api.example.com")
    await store.save_many([Save(track, (), write=document_write("api.example.com", T0))])
    await store.save_many([Save(track, (), write=DocumentWrite(None, removed_at=T0 + timedelta(hours=1)))])
    assert "api.example.com" not in await store.documents()
    assert "api.example.com" not in await store.load()
    assert track == await store.track("api.example.com")  # kept, for a name created again
    assert await store.track("never.example.com") is None
    assert [e.id for e in events] == [e.id for e in reversed(await store.history("api.example.com"))]
    assert ["api.example.com"] == await store.purge_removed(T0 + timedelta(hours=2))
    assert await store.track("api.example.com") is None


async def test_answers_are_kept_once_per_key_and_purged_by_age(store: Store) -> None:
    track, _ = reconcile(None, "api.example.com", True, SPECS, T0)
    answer = StoredAnswer("ops:k1", "digest", 201, '{"name": "api.example.com"}', T0)
    write = DocumentWrite(
        StoredDocument("api.example.com", {"name": "api.example.com"}, T0, T0), answer=answer
    )
    await store.save_many([Save(track, (), write=write)])
    assert answer == await store.answer("ops:k1")
    assert await store.answer("ops:k2") is None
    with pytest.raises(Exception):  # noqa: B017, PT011 (each store raises its own error)
        await store.save_many([Save(track, (), write=write)])
    assert 0 == await store.purge_answers(T0)
    assert 1 == await store.purge_answers(T0 + timedelta(seconds=1))
    assert await store.answer("ops:k1") is None


async def test_a_failed_write_leaves_no_document(store: Store) -> None:
    track, _ = reconcile(None, "api.example.com", True, SPECS, T0)
    answer = StoredAnswer("ops:k1", "digest", 201, "{}", T0)
    await store.save_many([Save(track, (), write=DocumentWrite(None, answer=answer))])
    other, _ = reconcile(None, "other.example.com", True, SPECS, T0)
    clash = DocumentWrite(
        StoredDocument("other.example.com", {"name": "other.example.com"}, T0, T0), answer=answer
    )
    with pytest.raises(Exception):  # noqa: B017, PT011
        await store.save_many([Save(other, (), write=clash)])
    assert "other.example.com" not in await store.documents()
    assert await store.track("other.example.com") is None


async def test_any_text_a_receiver_or_a_socket_says_is_stored(store: Store) -> None:
    """An error or a reason holds what the other side sent, NUL bytes included: never a failed
    write (PostgreSQL's TEXT holds no NUL; a stand-in takes its place there)."""
    await queued(store)
    head = (await store.due("ops", T0))[0]
    await store.start_attempt(head, T0)
    await store.settle(head, "dead", T0, next_at=None, status=None, error="refused\x00 by\x00 peer")
    await store.sync_endpoints([("ops", "https://hooks.example.com/a")])
    await store.disable("ops", "gone\x00", T0)
    (dead,) = await store.deliveries("dead")
    assert dead.last_error is not None
    assert dead.last_error.replace("\ufffd", "\x00") == "refused\x00 by\x00 peer"
    assert (await store.disabled())["ops"].replace("\ufffd", "\x00") == "gone\x00"


async def test_day_counts_replace_the_days_and_go_with_the_history(store: Store) -> None:
    """The overview chart's rows: a day's counts replace that day's, read from a day on, and are
    forgotten with the history of their days."""
    await store.save_day_counts("2026-11-30", {"verified": 3, "pending": 1})
    await store.save_day_counts("2026-12-01", {"verified": 2})
    await store.save_day_counts("2026-12-01", {"verified": 4, "failed": 1})
    assert {"2026-12-01": {"verified": 4, "failed": 1}} == await store.day_counts("2026-12-01")
    assert ["2026-11-30", "2026-12-01"] == list(await store.day_counts("2026-11-01"))
    await store.purge_history(datetime(2026, 12, 1, tzinfo=UTC))
    assert ["2026-12-01"] == list(await store.day_counts("2026-11-01"))
