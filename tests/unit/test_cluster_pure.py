"""The pure parts of a clustered fleet (docs/ha.md): slots, fair shares, the config's rules, the
owned view /metrics reads, and when a domain taken over is checked."""

from __future__ import annotations

import argparse
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domainwatch.config.schema import Config
from domainwatch.daemon.sharding import shard_of
from domainwatch.state.slots import SLOTS, fair_share, slot_of, to_release

PG = {"storage": {"url": "postgresql://dw@db.example/dw"}}


def test_a_slot_is_prometheus_hashmod_over_1024() -> None:
    for name in ("example.com", "EXAMPLE.com", "mail.example.org", "d0001.example.com"):
        assert slot_of(name) == shard_of(name, SLOTS) == slot_of(name.lower())
        assert 0 <= slot_of(name) < SLOTS


@given(st.sets(st.text(alphabet="abcdefgh0123456789-", min_size=1, max_size=12), min_size=1, max_size=40))
def test_fair_shares_always_sum_to_every_slot(replicas: set[str]) -> None:
    live = sorted(replicas)
    shares = [fair_share(r, live) for r in live]
    assert sum(shares) == SLOTS
    assert max(shares) - min(shares) <= 1


def test_a_replica_not_yet_listed_counts_itself() -> None:
    assert fair_share("new", ["a", "b", "c"]) == 256
    assert fair_share("a", []) == SLOTS


def test_the_highest_slots_are_released_above_the_share() -> None:
    assert to_release([5, 1, 9, 3], 2) == [5, 9]
    assert to_release([1, 2], 2) == []


def test_cluster_settings_are_checked() -> None:
    config = Config.model_validate(
        {**PG, "cluster": {"lease_ttl": "3s", "renew_interval": "1s", "replica_id": "a"}}
    )
    assert config.clustered
    assert config.cluster.replica == "a"
    assert not Config.model_validate({}).clustered
    with pytest.raises(ValueError, match="at least 3s"):
        Config.model_validate({"cluster": {"lease_ttl": "2s", "renew_interval": "500ms"}})
    with pytest.raises(ValueError, match="less than half"):
        Config.model_validate({"cluster": {"lease_ttl": "10s", "renew_interval": "5s"}})
    with pytest.raises(ValueError, match="set total_shards only with SQLite"):
        Config.model_validate({**PG, "sharding": {"shard": 0, "total_shards": 2}})
    with pytest.raises(ValueError, match="replica_id"):
        Config.model_validate({"cluster": {"replica_id": "has space"}})


def test_the_default_replica_id_names_the_host_and_process() -> None:
    replica = Config.model_validate({}).cluster.replica
    assert replica.rsplit("-", 1)[1].isdigit()


def test_the_owned_view_shows_only_the_held_domains() -> None:
    from domainwatch.fleet.fleet import Fleet  # noqa: PLC0415
    from domainwatch.fleet.owned import OwnedView  # noqa: PLC0415
    from domainwatch.state.domain import DomainTrack  # noqa: PLC0415

    now = datetime(2026, 1, 1, tzinfo=UTC)
    fleet = Fleet({n: DomainTrack(n) for n in ("a.example", "b.example")}, {}, lambda _: "id", now)
    view = OwnedView(fleet)
    assert set(view.tracks) == {"a.example", "b.example"}
    fleet.owns = lambda name: name == "a.example"
    assert list(view.tracks) == ["a.example"]
    assert len(view.tracks) == 1
    assert "b.example" not in view.tracks
    assert view.tracks.get("b.example") is None
    assert view.tracks["a.example"] is fleet.tracks["a.example"]


def test_a_domain_taken_over_is_checked_no_later_than_it_was_overdue() -> None:
    """A restart spreads overdue checks over the catch-up; a takeover over no more than the
    domain has been overdue (a dead replica's domains: within a lease TTL of when they were due)."""
    from domainwatch.config.plan import DomainPlan  # noqa: PLC0415
    from domainwatch.daemon.schedule import Schedule  # noqa: PLC0415
    from domainwatch.daemon.scheduling import Scheduler  # noqa: PLC0415
    from domainwatch.fleet.fleet import Fleet  # noqa: PLC0415
    from domainwatch.state.domain import reconcile  # noqa: PLC0415
    from domainwatch.state.intervals import interval_for  # noqa: PLC0415

    now = datetime(2026, 1, 1, 12, tzinfo=UTC)
    config = Config.model_validate(
        {"domains": [{"name": "a.example", "sending": {"spf": {"include": ["p.example"]}}}]}
    )
    plan = DomainPlan.of(config.domains[0], config.defaults, "config", config.probes.implied)
    track = reconcile(None, "a.example", True, plan.specs, now)[0]
    fleet = Fleet({"a.example": track}, {}, lambda _: "id", now)
    fleet.plans["a.example"] = plan
    interval = interval_for(track, plan.specs, plan.settings)
    assert interval is not None
    overdue = timedelta(seconds=3)
    for takeover, bound in ((True, overdue), (False, plan.settings.recheck_interval)):
        schedule = Schedule()
        scheduler = Scheduler(fleet, schedule, random.Random(1), set(), lambda: None)
        dues = []
        for _ in range(50):
            scheduler.resume_check("a.example", now - interval - overdue, now, takeover=takeover)
            dues += [d for _, d in schedule.pop_due_times(now + timedelta(days=1))]
        assert now <= min(dues)
        assert max(dues) <= now + bound
        assert max(dues) > now + bound / 2  # spread, not all at once


def test_shard_flags_are_refused_with_a_postgresql_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from domainwatch.cli.common import load_config  # noqa: PLC0415

    path = tmp_path / "config.yaml"
    path.write_text("storage: {url: 'postgresql://dw@db.example/dw'}\n")
    assert load_config(str(path), argparse.Namespace(shard=0, total_shards=2)) is None
    assert "shared by every replica" in capsys.readouterr().err
    assert load_config(str(path), argparse.Namespace(shard=None, total_shards=None)) is not None
