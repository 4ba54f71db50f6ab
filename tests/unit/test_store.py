"""What only the SQLite store does (the rest is the contract, test_store_contract.py): migrations,
files it refuses, exact times, distilling facts from an older store, sharing parsed facts."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from domainwatch.checks.registry import facts_of
from domainwatch.model import DomainReport, RecordState
from domainwatch.state.domain import reconcile_anew
from domainwatch.state.rules import Status
from domainwatch.store.base import StoreError
from domainwatch.store.migrations import MIGRATIONS
from domainwatch.store.rows import from_micros, to_micros
from domainwatch.store.sqlite import SqliteStore
from tests.unit.test_store_contract import SPECS, T0, result, started


@pytest.fixture
def store(tmp_path: Path) -> SqliteStore:
    return SqliteStore(tmp_path / "state.db")


def test_timestamps_round_trip_exactly() -> None:
    """Microsecond-exact: windows continue from stored times, not approximations."""
    assert T0 == from_micros(to_micros(T0))


async def test_facts_missing_from_an_older_store_are_distilled_from_its_results(store: SqliteStore) -> None:
    """A store from before facts were kept: each domain's facts come from its stored results,
    and a domain without results has empty facts."""
    reports = {
        "a.example.com": DomainReport(
            "a.example.com", (result("spf"), result("receiving_mx", RecordState.MISSING))
        ),
        "b.example.com": DomainReport("b.example.com", (result("spf"),)),
    }
    for name, report in reports.items():
        results = {r.record: r.as_dict() for r in report.records}
        await started(store, name, results=results, facts=facts_of(results))
    await started(store, "c.example.com")
    kept = await store.facts(facts_of)
    store.sqlite.db.execute("UPDATE domains SET facts = NULL")
    assert kept == await store.facts(facts_of)
    expected = {name: facts_of(await store.results(name)) for name in [*reports, "c.example.com"]}
    assert expected == await store.facts(facts_of)


async def test_domains_with_the_same_stored_facts_share_one_object(store: SqliteStore) -> None:
    """A fleet's domains mostly store identical facts: each distinct text is read once."""
    for name in ("a.example.com", "b.example.com"):
        results = {"spf": result("spf").as_dict()}
        await started(store, name, results=results, facts=facts_of(results))
    facts = await store.facts(facts_of)
    assert facts["a.example.com"] is facts["b.example.com"]
    assert facts["a.example.com"] == facts_of(await store.results("a.example.com"))


async def test_domains_with_the_same_capabilities_share_one_mapping(store: SqliteStore) -> None:
    """30 MB of 135 at 100,000 domains: a mapping each. Reconciling them again keeps it."""
    for name in ("a.example.com", "b.example.com"):
        await started(store, name)
    tracks = await store.load()
    a, b = tracks["a.example.com"], tracks["b.example.com"]
    assert a.capabilities is b.capabilities
    assert a.capabilities == {"receiving": Status.PENDING, "sending": Status.PENDING}
    again, _ = reconcile_anew(a, a.name, True, SPECS, T0)
    assert again.capabilities is a.capabilities


async def test_version_1_database_is_migrated_keeping_its_data(tmp_path: Path) -> None:
    """Forward migrations: a database written by schema 1 opens with its state intact."""
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.executescript(MIGRATIONS[0] + "; PRAGMA user_version=1;")
        db.execute(
            "INSERT INTO domains (name, verify, status, capabilities)"
            " VALUES ('a.example', 1, 'verified', '{}')"
        )
    store = SqliteStore(path)
    assert (len(MIGRATIONS),) == store.sqlite.db.execute("PRAGMA user_version").fetchone()
    assert "verified" == (await store.load())["a.example"].status.value
    assert [] == await store.outbox()


def test_newer_schema_is_refused_and_left_untouched(tmp_path: Path) -> None:
    """A database from a newer domainwatch is never modified."""
    path = tmp_path / "new.db"
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version={len(MIGRATIONS) + 1}")
    with pytest.raises(StoreError, match="newer than this domainwatch"):
        SqliteStore(path)


def test_garbage_file_is_a_clear_error(tmp_path: Path) -> None:
    """A file that is not SQLite is reported, not a traceback."""
    path = tmp_path / "junk.db"
    path.write_bytes(b"not a database" * 100)
    with pytest.raises(StoreError, match="cannot use the database"):
        SqliteStore(path)


def test_readonly_never_creates(tmp_path: Path) -> None:
    """status reads offline and does not create a database."""
    with pytest.raises(StoreError, match="no state yet"):
        SqliteStore(tmp_path / "absent.db", readonly=True)
    assert not (tmp_path / "absent.db").exists()


def at_version(path: Path, version: int) -> sqlite3.Connection:
    """A SQLite store as an older domainwatch left it: migrated to `version`, no further."""
    db = sqlite3.connect(path)
    for script in MIGRATIONS[:version]:
        db.executescript(script)
    db.execute(f"PRAGMA user_version={version}")
    return db


async def test_a_domain_verified_at_the_upgrade_was_last_verified_at_its_last_check(tmp_path: Path) -> None:
    """Migration 6 fills in when a domain was last verified: the domains verified now, at their
    last check; the others have no such time (the metric stays absent for them)."""
    path = tmp_path / "state.db"
    db = at_version(path, 5)
    checked = to_micros(T0)
    db.execute(
        "INSERT INTO domains (name, verify, status, since, capabilities, checked_at, sequence) VALUES"
        " ('ok.example.com', 1, 'verified', ?, '{}', ?, 3), ('new.example.com', 1, 'pending', ?, '{}', ?, 1)",
        (checked, checked, checked, checked),
    )
    db.commit()
    db.close()
    store = SqliteStore(path)
    tracks = await store.load()
    assert (T0, None) == (tracks["ok.example.com"].verified_at, tracks["new.example.com"].verified_at)
    await store.close()


async def test_a_dkim_key_stored_before_drift_was_first_seen_at_its_earliest_event(tmp_path: Path) -> None:
    """Migration 8: a DKIM record gets its first-seen time from its earliest stored event, else
    the migration's time; other records, and records never observed, get none."""
    path = tmp_path / "state.db"
    db = at_version(path, 7)
    at = to_micros(T0)
    assert at is not None
    db.execute(
        "INSERT INTO domains (name, verify, status, since, capabilities, checked_at, sequence) VALUES"
        " ('a.example.com', 1, 'verified', ?, '{}', ?, 2)",
        (at, at),
    )
    rows = [("dkim:old", "found"), ("dkim:new", "found"), ("dkim:never", None), ("spf", "found")]
    db.executemany(
        "INSERT INTO records (domain, record, fingerprint, status, misses, stale, last_observation)"
        " VALUES ('a.example.com', ?, 'f', 'verified', 0, 0, ?)",
        rows,
    )
    db.execute(
        "INSERT INTO history (id, domain, sequence, kind, subject, previous, status, at, reason,"
        " observations) VALUES ('e1', 'a.example.com', 1, 'record', 'dkim:old', 'pending', 'verified', ?,"
        " 'found', '{}')",
        (at - 3_600_000_000,),
    )
    db.commit()
    db.close()
    store = SqliteStore(path)
    drift = (await store.load())["a.example.com"].drift
    assert drift["dkim:old"].since == from_micros(at - 3_600_000_000)
    migrated = drift["dkim:new"].since
    assert migrated is not None
    assert migrated > T0  # the migration's own time (now)
    assert drift["dkim:old"].published is None  # no values known yet: the next check's are the baseline
    assert {"dkim:old", "dkim:new"} == set(drift)
    await store.close()
