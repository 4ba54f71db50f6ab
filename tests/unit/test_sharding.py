"""Sharding: Prometheus' hashmod, an exact partition, and each replica keeping to its shard."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

from domainwatch.config.loader import parse
from domainwatch.daemon.daemon import Daemon
from domainwatch.daemon.sharding import owns, shard_of
from domainwatch.store.sqlite import SqliteStore
from domainwatch.testing import FakeClock, FakeResolver


def test_matches_prometheus_hashmod() -> None:
    """The last 8 bytes of MD5, big-endian, modulo N: hashmod's definition."""
    name = "updates.example.com"
    expected = int.from_bytes(hashlib.md5(name.encode()).digest()[8:], "big") % 7
    assert expected == shard_of(name, 7)
    assert shard_of("Updates.Example.COM", 7) == shard_of(name, 7)


def test_three_shards_partition_ten_thousand_domains_exactly() -> None:
    """Every domain has exactly one owner, and the shards are about equal."""
    names = [f"d{n}.example.com" for n in range(10_000)]
    owned = [[n for n in names if owns(n, shard, 3)] for shard in range(3)]
    assert sorted(names) == sorted(n for part in owned for n in part)
    for first in range(3):
        for second in range(first + 1, 3):
            assert not set(owned[first]) & set(owned[second])
    assert all(3000 < len(part) < 3700 for part in owned)


def test_one_shard_owns_everything() -> None:
    """total_shards 1 (the default) is no sharding."""
    assert owns("anything.example.com", 0, 1)


async def test_daemon_checks_stores_and_exports_only_its_shard(tmp_path: Path) -> None:
    """A replica builds plans only for its shard's domains."""
    domains = "".join(
        f"  - {{name: d{n}.example.com, receiving: {{mx: [{{host: mx.example.net}}]}}}}\n" for n in range(60)
    )
    config = parse(f"sharding: {{shard: 1, total_shards: 3}}\nstorage: {{path: x}}\ndomains:\n{domains}")
    daemon = await Daemon.open(
        config, SqliteStore(":memory:"), resolver=FakeResolver({}), clock=FakeClock(), rng=random.Random(1)
    )
    expected = {d.name for d in config.domains if shard_of(d.name, 3) == 1}
    assert expected == set(daemon.fleet.plans) == set(daemon.fleet.tracks)
