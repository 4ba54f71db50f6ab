"""SQLite persistence: round trips, atomic state+events, migrations, removal and retention."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from domainwatch.model import DomainReport, RecordResult, RecordState
from domainwatch.state.domain import RecordSpec, apply_report, reconcile
from domainwatch.state.facts import facts_of
from domainwatch.state.rules import Rules
from domainwatch.store.migrations import MIGRATIONS
from domainwatch.store.rows import from_micros, to_micros
from domainwatch.store.sqlite import Save, Store, StoreError

T0 = datetime(2026, 1, 1, 12, 30, 15, 123456, tzinfo=UTC)
SPECS = (RecordSpec("spf", "sending", "f1"), RecordSpec("receiving_mx", "receiving", "f2"))


def result(record: str, state: RecordState = RecordState.PRESENT) -> RecordResult:
    return RecordResult(record, "send.example.com", "TXT", state, True, "v=spf1 -all", ("v=spf1 -all",), ())


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "state.db")


def test_timestamps_round_trip_exactly() -> None:
    """Microsecond-exact: windows continue from stored times, not approximations."""
    assert T0 == from_micros(to_micros(T0))


def test_state_round_trips(store: Store, tmp_path: Path) -> None:
    """What is saved is what a new process loads, field for field."""
    track, changes = reconcile(None, "example.com", True, SPECS, T0)
    report = DomainReport("example.com", (result("spf"), result("receiving_mx", RecordState.MISSING)))
    track, more = apply_report(track, SPECS, report, Rules(), T0 + timedelta(minutes=1))
    store.save(track, changes + more, {r.record: r.as_dict() for r in report.records})
    store.close()
    reopened = Store(tmp_path / "state.db")
    assert {"example.com": track} == reopened.load()
    assert "missing" == reopened.results("example.com")["receiving_mx"]["state"]


def test_facts_missing_from_an_older_store_are_distilled_from_its_results(store: Store) -> None:
    """A store from before facts were kept: each domain's facts come from its stored results,
    and a domain without results has empty facts."""
    reports = {
        "a.example.com": DomainReport(
            "a.example.com", (result("spf"), result("receiving_mx", RecordState.MISSING))
        ),
        "b.example.com": DomainReport("b.example.com", (result("spf"),)),
    }
    for name, report in reports.items():
        track, changes = reconcile(None, name, True, SPECS, T0)
        store.save(track, changes, {r.record: r.as_dict() for r in report.records})
    never_checked, changes = reconcile(None, "c.example.com", True, SPECS, T0)
    store.save(never_checked, changes)
    kept = store.facts()
    store.db.execute("UPDATE domains SET facts = NULL")
    assert kept == store.facts()
    assert {name: facts_of(store.results(name)) for name in [*reports, "c.example.com"]} == store.facts()


def test_domains_with_the_same_stored_facts_share_one_object(store: Store) -> None:
    """A fleet's domains mostly store identical facts: each distinct text is read once."""
    for name in ("a.example.com", "b.example.com"):
        track, changes = reconcile(None, name, True, SPECS, T0)
        results = {r.record: r.as_dict() for r in DomainReport(name, (result("spf"),)).records}
        store.save_many([Save(track, changes, results, facts=facts_of(results))])
    facts = store.facts()
    assert facts["a.example.com"] is facts["b.example.com"]
    assert facts["a.example.com"] == facts_of(store.results("a.example.com"))


def test_events_get_increasing_sequences_and_enter_the_outbox(store: Store) -> None:
    """Each change is a history event with a per-domain sequence; deliverable ones enter the outbox."""
    track, changes = reconcile(None, "example.com", True, SPECS, T0)
    events = store.save(track, changes, payload_of=lambda e: {"id": e.id} if e.kind == "domain" else None)
    assert list(range(1, len(changes) + 1)) == [e.sequence for e in events]
    assert [e.id for e in events if e.kind == "domain"] == store.outbox()
    assert {e.id for e in events} == {e.id for e in store.history("example.com")}


def test_failed_save_leaves_nothing_behind(store: Store) -> None:
    """State and events are one transaction: an error writes neither."""
    track, changes = reconcile(None, "example.com", True, SPECS, T0)
    store.save(track, changes)
    later, more = reconcile(track, "example.com", False, SPECS, T0 + timedelta(hours=1))
    broken = [*more[:1], None]  # the second "change" makes the insert fail mid-transaction
    with pytest.raises(AttributeError):
        store.save(later, broken)  # type: ignore[arg-type]
    assert {"example.com": track} == store.load()
    assert len(changes) == len(store.history())


def test_version_1_database_is_migrated_keeping_its_data(tmp_path: Path) -> None:
    """Forward migrations: a database written by schema 1 opens with its state intact."""
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.executescript(MIGRATIONS[0] + "; PRAGMA user_version=1;")
        db.execute(
            "INSERT INTO domains (name, verify, status, capabilities)"
            " VALUES ('a.example', 1, 'verified', '{}')"
        )
    store = Store(path)
    assert (len(MIGRATIONS),) == store.db.execute("PRAGMA user_version").fetchone()
    assert "verified" == store.load()["a.example"].status.value
    assert [] == store.outbox()


def test_newer_schema_is_refused_and_left_untouched(tmp_path: Path) -> None:
    """A database from a newer domainwatch is never modified."""
    path = tmp_path / "new.db"
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version={len(MIGRATIONS) + 1}")
    with pytest.raises(StoreError, match="newer than this domainwatch"):
        Store(path)


def test_garbage_file_is_a_clear_error(tmp_path: Path) -> None:
    """A file that is not SQLite is reported, not a traceback."""
    path = tmp_path / "junk.db"
    path.write_bytes(b"not a database" * 100)
    with pytest.raises(StoreError, match="cannot use the database"):
        Store(path)


def test_readonly_never_creates(tmp_path: Path) -> None:
    """status reads offline and does not create a database."""
    with pytest.raises(StoreError, match="no state yet"):
        Store(tmp_path / "absent.db", readonly=True)
    assert not (tmp_path / "absent.db").exists()


def test_removed_domains_are_hidden_kept_and_purged_after_retention(store: Store) -> None:
    """Removed from config: not loaded, still stored until the retention passes."""
    track, changes = reconcile(None, "example.com", True, SPECS, T0)
    store.save(track, changes)
    store.mark_removed(["example.com"], T0 + timedelta(days=1))
    assert {} == store.load()
    assert "example.com" in store.load(include_removed=True)
    assert [] == store.purge_removed(T0)
    assert ["example.com"] == store.purge_removed(T0 + timedelta(days=31))
    assert ({}, []) == (store.load(include_removed=True), store.history())


def test_saving_a_returning_domain_clears_its_removal(store: Store) -> None:
    """A domain that comes back resumes its stored state."""
    track, changes = reconcile(None, "example.com", True, SPECS, T0)
    store.save(track, changes)
    store.mark_removed(["example.com"], T0)
    store.save(track, [])
    assert {"example.com": track} == store.load()


def test_history_retention_keeps_undelivered_events(store: Store) -> None:
    """Old history is purged, except events the outbox still has to deliver."""
    track, changes = reconcile(None, "example.com", True, SPECS, T0)
    events = store.save(track, changes, payload_of=lambda e: {"id": e.id} if e.kind == "domain" else None)
    assert len(events) - 1 == store.purge_history(T0 + timedelta(days=1))
    assert [e.id for e in events if e.kind == "domain"] == [e.id for e in store.history()]
    assert 0 == store.purge_history(T0)
