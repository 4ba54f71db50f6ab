"""Upgrading from domainwatch 0.1: its store (tests/data/upgrade/store-0.1.db, written by 0.1 for
config.yaml beside it) opens, migrates, and no record restarts."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

from domainwatch.config.loader import parse
from domainwatch.config.plan import DomainPlan
from domainwatch.daemon.daemon import Daemon
from domainwatch.store.sqlite import SqliteStore
from domainwatch.testing import FakeClock, FakeResolver

DATA = Path(__file__).resolve().parents[1] / "data" / "upgrade"


async def test_a_store_written_by_0_1_keeps_every_verification(tmp_path: Path) -> None:
    shutil.copy(DATA / "store-0.1.db", tmp_path / "state.db")
    config = parse((DATA / "config.yaml").read_text().replace("state.db", str(tmp_path / "state.db")))
    before = await SqliteStore(tmp_path / "state.db").load()
    statuses = {name: (t.status, {r: s.status for r, s in t.records.items()}) for name, t in before.items()}
    history = len(await SqliteStore(tmp_path / "state.db").history())
    assert {"shop.example.com", "news.example.com", "idle.example.com"} == set(before)

    daemon = await Daemon.open(
        config, SqliteStore(tmp_path / "state.db"), resolver=FakeResolver(), clock=FakeClock()
    )
    daemon.scheduler.rng = random.Random(1)
    after = {
        name: (t.status, {r: s.status for r, s in t.records.items()})
        for name, t in daemon.fleet.tracks.items()
    }
    assert statuses == after
    assert history == len(await daemon.store.history())  # no event: nothing restarted
    for name, track in (await SqliteStore(tmp_path / "state.db").load()).items():
        current = {s.record: s.fingerprint for s in DomainPlan.of(config.domain(name), config.defaults).specs}  # type: ignore[arg-type]
        assert current == dict(track.fingerprints)  # the stored ones are current now
    await daemon.shutdown()


async def test_a_changed_expectation_still_restarts_after_the_upgrade(tmp_path: Path) -> None:
    """The legacy digest is compared, not trusted: an SPF include changed while upgrading restarts
    that record (and only it)."""
    shutil.copy(DATA / "store-0.1.db", tmp_path / "state.db")
    text = (DATA / "config.yaml").read_text().replace("state.db", str(tmp_path / "state.db"))
    config = parse(text.replace("include: [amazonses.com], authorize", "include: [mailgun.org], authorize"))
    daemon = await Daemon.open(
        config, SqliteStore(tmp_path / "state.db"), resolver=FakeResolver(), clock=FakeClock()
    )
    restarted = [
        e.subject for e in await daemon.store.history(limit=100) if e.reason == "expectation changed"
    ]
    assert ["spf"] == restarted
    assert "verified" == daemon.fleet.tracks["shop.example.com"].records["return_path_mx"].status.value
    await daemon.shutdown()
