"""The daemon in-process on a FakeClock: whole verification stories in simulated time."""

from __future__ import annotations

import asyncio
import dataclasses
import random
import sqlite3
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import pytest

from domainwatch.checks.kinds.mx import MxConfig
from domainwatch.config.loader import parse
from domainwatch.config.plan import DomainPlan
from domainwatch.config.schema import Config
from domainwatch.daemon.daemon import Daemon
from domainwatch.daemon.schedule import shared_cache_age
from domainwatch.dns.cache import SharedLookups
from domainwatch.dns.resolver import Lookup, Outcome, Query
from domainwatch.store.base import Save, Store
from domainwatch.testing import FakeClock, FakeResolver
from tests.integration.daemon_helpers import advance, step
from tests.integration.postgres_stores import StoreMaker, postgres, stores

__all__ = ["postgres", "stores"]  # fixtures

RP = "send.shop.example.com"
GOOD_SPF = "v=spf1 include:amazonses.com ~all"


def config(tmp_path: Path, extra: str = "") -> Config:
    return parse(f"""
storage: {{path: "{tmp_path / "state.db"}"}}
defaults: {{window: 72h, confirm_missing: 2}}
domains:
  - name: shop.example.com
    sending: {{spf: {{include: [amazonses.com]}}}}
    receiving: {{mx: [{{host: mx.example.net, priority: 10}}]}}
{extra}""")


def published() -> FakeResolver:
    return FakeResolver(
        {
            (RP, "TXT"): [GOOD_SPF],
            ("amazonses.com", "TXT"): ["v=spf1 -all"],
            ("shop.example.com", "MX"): ["10 mx.example.net"],
            ("mx.example.net", "A"): ["192.0.2.1"],
            ("_dmarc.shop.example.com", "TXT"): ["v=DMARC1; p=reject; rua=mailto:d@example.com"],
        }
    )


async def make(
    tmp_path: Path, resolver: FakeResolver, stores: StoreMaker, key: str | None = None
) -> tuple[Daemon, FakeClock, Store]:
    clock = FakeClock()
    store = await stores(key)
    daemon = await Daemon.open(config(tmp_path), store, resolver=resolver, clock=clock, rng=random.Random(7))
    return daemon, clock, store


def statuses(daemon: Daemon) -> tuple[str, dict[str, str]]:
    track = daemon.fleet.tracks["shop.example.com"]
    return track.status.value, {k: v.value for k, v in track.capabilities.items()}


async def test_seventy_two_hours_of_absence_on_a_fake_clock(tmp_path: Path, stores: StoreMaker) -> None:
    """Nothing published for 72 hours of 1-minute checks: pending throughout, then failed.

    Every check really runs (resolver, engine, store); only the clock is fake. How long the 72
    simulated hours take is measured by bench/engine_scenario.py, not asserted here.
    """
    resolver = FakeResolver({})
    daemon, clock, store = await make(tmp_path, resolver, stores)
    checks = await advance(daemon, clock, clock.now + timedelta(hours=71, minutes=59))
    assert ("pending", {"receiving": "pending", "sending": "pending"}) == statuses(daemon)
    checks += await advance(daemon, clock, clock.now + timedelta(minutes=5))
    assert ("failed", {"receiving": "failed", "sending": "failed"}) == statuses(daemon)
    assert checks > 4000  # about one a minute (with jitter) for 72 hours
    failed = [e for e in await store.history() if e.kind == "domain" and e.status == "failed"]
    assert 1 == len(failed)
    assert daemon.fleet.tracks["shop.example.com"].records["spf"].since == failed[0].at


async def test_full_cycle_pending_verified_temporary_failure_verified(
    tmp_path: Path, stores: StoreMaker
) -> None:
    """Publish, remove (two misses), restore: every transition recorded, in order."""
    resolver = published()
    daemon, clock, store = await make(tmp_path, resolver, stores)
    await advance(daemon, clock, clock.now)
    assert ("verified", {"receiving": "verified", "sending": "verified"}) == statuses(daemon)
    saved = resolver.data.pop(Query.of(RP, "TXT"))
    await step(daemon, clock)  # one miss: not yet confirmed, re-checked after recheck_interval
    assert "verified" == statuses(daemon)[0]
    assert timedelta(minutes=1.1) >= daemon.schedule.next_due() - clock.now  # type: ignore[operator]
    await step(daemon, clock)
    assert ("temporary_failure", {"receiving": "verified", "sending": "temporary_failure"}) == statuses(
        daemon
    )
    assert (
        await store.load() == daemon.fleet.tracks
    )  # what a restart would read: every record's state and time
    resolver.data[Query.of(RP, "TXT")] = saved
    await step(daemon, clock)
    await step(daemon, clock)  # a check that changes nothing
    assert "verified" == statuses(daemon)[0]
    assert await store.load() == daemon.fleet.tracks
    domain_history = [(e.previous, e.status) for e in reversed(await store.history()) if e.kind == "domain"]
    assert [
        ("not_started", "pending"),
        ("pending", "verified"),
        ("verified", "temporary_failure"),
        ("temporary_failure", "verified"),
    ] == domain_history


async def test_servfail_storm_changes_nothing(tmp_path: Path, stores: StoreMaker) -> None:
    """Hours of SERVFAIL on every name: no status change, only staleness, which the history
    tells as one stale period (entered, then left), numbered in the domain's sequence."""
    resolver = published()
    daemon, clock, store = await make(tmp_path, resolver, stores)
    await advance(daemon, clock, clock.now)
    before = await store.history()
    good = dict(resolver.data)
    for query in resolver.data:
        resolver.data[query] = Outcome.SERVFAIL
    await advance(daemon, clock, clock.now + timedelta(hours=100))
    assert "verified" == statuses(daemon)[0]
    assert daemon.fleet.tracks["shop.example.com"].records["spf"].stale
    resolver.data.update(good)
    await advance(daemon, clock, clock.now + timedelta(minutes=6))
    assert not daemon.fleet.tracks["shop.example.com"].records["spf"].stale
    after = await store.history()
    new = sorted((e for e in after if e.id not in {b.id for b in before}), key=lambda e: e.sequence)
    assert [("stale", "entered"), ("stale", "left")] == [(e.kind, e.subject) for e in new]
    assert "spf" in new[0].reason
    assert [e.status for e in new] == ["verified", "verified"]
    assert new[0].sequence == max(e.sequence for e in before) + 1
    assert new[1].sequence == new[0].sequence + 1


async def test_restart_continues_windows_from_stored_times(tmp_path: Path, stores: StoreMaker) -> None:
    """A new daemon on the same store keeps started_at; the window is not restarted."""
    resolver = FakeResolver({})
    daemon, clock, store = await make(tmp_path, resolver, stores, "state")
    await advance(daemon, clock, clock.now + timedelta(hours=70))
    started_at = daemon.fleet.tracks["shop.example.com"].records["spf"].started_at
    await store.close()
    store2 = await stores("state")
    daemon2 = await Daemon.open(
        config(tmp_path), store2, resolver=resolver, clock=clock, rng=random.Random(1)
    )
    assert daemon.fleet.tracks == daemon2.fleet.tracks
    for name, track in daemon2.fleet.tracks.items():  # in the plan's order, with the plan's strings
        specs = daemon2.fleet.plans[name].specs
        assert [s.record for s in specs] == list(track.records)
        assert all(track.fingerprints[s.record] is s.fingerprint for s in specs)
    await advance(daemon2, clock, clock.now + timedelta(hours=2, minutes=5))
    assert "failed" == statuses(daemon2)[0]
    assert started_at == daemon2.fleet.tracks["shop.example.com"].records["spf"].started_at


async def test_a_restart_keeps_the_schedule_instead_of_checking_everything_at_once(
    tmp_path: Path, stores: StoreMaker
) -> None:
    """Domains checked before a restart are due an interval after that check; a domain added
    while the daemon was down (never checked) is due at once, one whose check is overdue within
    the catch-up spread."""
    daemon, clock, _ = await make(tmp_path, published(), stores, "state")
    await step(daemon, clock)  # verified: next check in 5 minutes (+-10%)
    checked_at = daemon.fleet.tracks["shop.example.com"].checked_at
    assert checked_at is not None
    await daemon.shutdown()
    clock.now += timedelta(minutes=2)
    added = config(
        tmp_path, extra="  - name: new.example.com\n    receiving: {mx: [{host: mx.example.net}]}\n"
    )
    restarted = await Daemon.open(
        added, await stores("state"), resolver=published(), clock=clock, rng=random.Random(3)
    )
    assert ["new.example.com"] == restarted.schedule.pop_due(clock.now)
    assert [] == restarted.schedule.pop_due(checked_at + timedelta(minutes=4.5) - timedelta(seconds=1))
    assert ["shop.example.com"] == restarted.schedule.pop_due(checked_at + timedelta(minutes=5.5))
    await restarted.shutdown()
    clock.now += timedelta(hours=1)
    late = await Daemon.open(
        added, await stores("state"), resolver=published(), clock=clock, rng=random.Random(3)
    )
    assert ["new.example.com"] == late.schedule.pop_due(clock.now)  # never checked: at once
    # Overdue while stopped: due within min(interval, 5 minutes), spread rather than at once.
    assert ["shop.example.com"] == late.schedule.pop_due(clock.now + timedelta(minutes=5))
    await late.shutdown()


async def test_reload_applies_the_domain_diff(tmp_path: Path, stores: StoreMaker) -> None:
    """Added domains start pending, removed ones vanish (kept in the store), changed ones restart."""
    daemon, clock, store = await make(tmp_path, published(), stores)
    await advance(daemon, clock, clock.now)
    added = config(
        tmp_path, extra="  - name: new.example.com\n    receiving: {mx: [{host: mx.example.net}]}\n"
    )
    await daemon.apply_config(added)
    assert "pending" == daemon.fleet.tracks["new.example.com"].status.value
    assert "verified" == statuses(daemon)[0]
    only_new = parse(f"""
storage: {{path: "{tmp_path / "state.db"}"}}
domains:
  - name: new.example.com
    receiving: {{mx: [{{host: mx.example.net}}]}}
""")
    await daemon.apply_config(only_new)
    assert ["new.example.com"] == list(daemon.fleet.tracks)
    assert "shop.example.com" in await store.load(include_removed=True)
    await daemon.apply_config(added)  # it comes back with its stored state
    assert "verified" == statuses(daemon)[0]


async def test_a_record_dropped_from_the_config_leaves_the_store(tmp_path: Path, stores: StoreMaker) -> None:
    """No longer receiving: the MX record's state is deleted, the other records' kept."""
    daemon, clock, store = await make(tmp_path, published(), stores)
    await step(daemon, clock)
    assert "receiving_mx" in (await store.load())["shop.example.com"].records
    sending_only = parse(f"""
storage: {{path: "{tmp_path / "state.db"}"}}
domains:
  - name: shop.example.com
    sending: {{spf: {{include: [amazonses.com]}}}}
""")
    await daemon.apply_config(sending_only)
    await step(daemon, clock)
    stored = (await store.load())["shop.example.com"].records
    assert "receiving_mx" not in stored
    assert stored["spf"].status.value == "verified"


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_verify_action_restarts_a_failed_domain(tmp_path: Path, stores: StoreMaker, seed: int) -> None:
    """failed -> pending with a fresh window, and checked at once."""
    resolver = FakeResolver({})
    daemon, clock, _ = await make(tmp_path, resolver, stores)
    daemon.scheduler.rng.seed(seed)
    await advance(daemon, clock, clock.now + timedelta(hours=73))
    assert "failed" == statuses(daemon)[0]
    await daemon.verify("shop.example.com")
    assert "pending" == statuses(daemon)[0]
    assert ["shop.example.com"] == daemon.schedule.pop_due(clock.now)


class GatedResolver(FakeResolver):
    """Holds every lookup until the test opens the gate: a check stays in flight."""

    def __init__(self, data: FakeResolver) -> None:
        super().__init__()
        self.data = data.data
        self.gate = asyncio.Event()

    async def resolve(self, query: Query) -> Lookup:
        await self.gate.wait()
        return await super().resolve(query)


async def test_reload_during_a_check_rechecks_with_the_new_config(tmp_path: Path, stores: StoreMaker) -> None:
    """A check in flight when its domain's config changes is discarded and the domain re-checked."""
    resolver = GatedResolver(published())
    daemon = await Daemon.open(config(tmp_path), await stores(None), resolver=resolver, rng=random.Random(1))
    serving = asyncio.create_task(daemon.serve())
    try:
        await asyncio.sleep(0.05)
        assert "shop.example.com" in daemon._inflight
        changed = config(tmp_path).model_copy(update={"max_concurrent_checks": 8})
        domain = changed.domains[0]
        assert domain.sending is not None
        new_sending = dataclasses.replace(domain.sending, mx=MxConfig(host="mx.example.net", priority=10))
        changed = changed.model_copy(update={"domains": [dataclasses.replace(domain, sending=new_sending)]})  # type: ignore[type-var]
        await daemon.apply_config(changed)
        resolver.data[Query.of(RP, "MX")] = ("10 mx.example.net",)
        resolver.gate.set()
        for _ in range(100):
            track = daemon.fleet.tracks["shop.example.com"]
            if (
                "return_path_mx" in track.records
                and track.records["return_path_mx"].status.value == "verified"
            ):
                break
            await asyncio.sleep(0.02)
        assert "verified" == daemon.fleet.tracks["shop.example.com"].records["return_path_mx"].status.value
    finally:
        daemon.stop()
        await serving


async def test_domains_share_a_provider_lookup_but_never_across_rounds(
    tmp_path: Path, stores: StoreMaker
) -> None:
    """Two domains including one provider record ask for it once per round, not once per domain;
    a change at the provider is seen by the very next round."""
    resolver = published()
    resolver.data[Query("send.other.example.com", "TXT")] = (GOOD_SPF,)
    extra = "  - name: other.example.com\n    sending: {spf: {include: [amazonses.com]}}\n"
    store = await stores(None)
    clock = FakeClock()
    daemon = await Daemon.open(
        config(tmp_path, extra), store, resolver=resolver, clock=clock, rng=random.Random(7)
    )
    provider = Query("amazonses.com", "TXT")
    await daemon.run_once()
    assert resolver.asked.count(provider) == 1
    assert resolver.asked.count(Query(RP, "TXT")) >= 1  # the domains' own records are asked each time
    resolver.data[provider] = ("v=spf1 ip4:192.0.2.0/24 -all",)
    clock.advance(timedelta(minutes=1))
    await daemon.run_once(clock.now + timedelta(minutes=5))
    assert resolver.asked.count(provider) == 2
    await daemon.shutdown()


def test_shared_answers_never_outlive_half_the_shortest_interval(tmp_path: Path) -> None:
    """A domain checked every 20 s (jitter down to 18 s) shares answers for at most 9 s; the
    configured 25 s applies when every interval is long; authoritative mode shares nothing."""
    fast = parse(
        f'storage: {{path: "{tmp_path / "s.db"}"}}\n'
        "limits: {min_interval: 1s}\n"
        "domains:\n  - {name: a.example.com, pending_interval: 20s, sending: {spf: {include: [x.example]}}}\n"
    )
    plans = [DomainPlan.of(d, fast.defaults).settings for d in fast.domains]
    assert shared_cache_age(fast, plans) == pytest.approx(9.0)
    slow = parse(
        f'storage: {{path: "{tmp_path / "s.db"}"}}\n'
        "domains:\n  - {name: a.example.com, sending: {spf: {include: [x.example]}}}\n"
    )
    assert shared_cache_age(slow, [DomainPlan.of(d, slow.defaults).settings for d in slow.domains]) == 25.0
    authoritative = parse(
        f'storage: {{path: "{tmp_path / "s.db"}"}}\nresolver: {{mode: authoritative}}\n'
        "domains:\n  - {name: a.example.com, sending: {spf: {include: [x.example]}}}\n"
    )
    assert shared_cache_age(authoritative, []) == 0.0


async def test_many_checks_are_written_in_one_transaction(tmp_path: Path, stores: StoreMaker) -> None:
    """Checks that end together share a transaction; the store then holds what memory does."""
    resolver = published()
    extra = "".join(
        f"  - name: d{n}.example.com\n    receiving: {{mx: [{{host: mx.example.net}}]}}\n" for n in range(9)
    )
    store = await stores(None)
    daemon = await Daemon.open(
        config(tmp_path, extra), store, resolver=resolver, clock=FakeClock(), rng=random.Random(7)
    )
    transactions: list[list[Save]] = []
    save_many = store.save_many

    async def counted(saves: Sequence[Save]) -> Sequence[Save]:
        transactions.append(list(saves))
        return await save_many(transactions[-1])

    store.save_many = counted  # type: ignore[method-assign]
    await daemon.run_once()
    assert [len(batch) for batch in transactions] == [10]
    assert {name: track.status for name, track in (await store.load()).items()} == {
        name: track.status for name, track in daemon.fleet.tracks.items()
    }
    await daemon.shutdown()


async def test_a_failed_write_loses_no_event(tmp_path: Path, stores: StoreMaker) -> None:
    """The disk refuses a batch: memory goes back to what is stored, so the next check derives
    the same changes again and their events are written then, not lost."""
    resolver = published()
    store = await stores(None)
    daemon = await Daemon.open(
        config(tmp_path), store, resolver=resolver, clock=FakeClock(), rng=random.Random(7)
    )
    pending = daemon.fleet.tracks["shop.example.com"]
    save_many = store.save_many

    def full_disk(saves: object) -> object:
        raise sqlite3.OperationalError("database or disk is full")

    store.save_many = full_disk  # type: ignore[method-assign,assignment]
    with pytest.raises(sqlite3.OperationalError):
        await daemon.run_once()
    assert daemon.fleet.tracks["shop.example.com"] is pending
    store.save_many = save_many  # type: ignore[method-assign]
    await daemon.run_once(daemon.clock() + timedelta(days=1))
    verified = [e for e in await store.history() if e.kind == "domain" and e.status == "verified"]
    assert len(verified) == 1
    # The check whose write failed is not reused: its results are evaluated and stored again.
    assert (await store.results("shop.example.com"))["spf"]["found"] == [GOOD_SPF]
    await daemon.shutdown()


async def test_a_recheck_with_the_same_answers_reuses_the_stored_results(
    tmp_path: Path, stores: StoreMaker
) -> None:
    """Nothing changed: the check's results are the last ones (not evaluated or written again),
    while its time is stored; a changed record is evaluated and stored at once."""
    resolver = published()
    daemon, clock, store = await make(tmp_path, resolver, stores)
    await step(daemon, clock)
    first, facts = daemon.fleet.observed["shop.example.com"], daemon.fleet.facts["shop.example.com"]
    first_checked = daemon.fleet.tracks["shop.example.com"].checked_at
    stored = await store.results("shop.example.com")
    await step(daemon, clock)
    assert daemon.fleet.observed["shop.example.com"] is first
    assert daemon.fleet.facts["shop.example.com"] is facts
    assert await store.results("shop.example.com") == stored
    assert (await store.load())["shop.example.com"].checked_at == clock.now != first_checked
    assert await store.load() == daemon.fleet.tracks  # every record's time too, as a restart reads it
    resolver.data[Query("_dmarc.shop.example.com", "TXT")] = ("v=DMARC1; p=none",)
    await step(daemon, clock)
    assert daemon.fleet.observed["shop.example.com"] is not first
    assert (await store.results("shop.example.com"))["dmarc"]["found"] == ["v=DMARC1; p=none"]
    assert daemon.fleet.facts["shop.example.com"].fact("dmarc", "dmarc_policy") == "none"
    await daemon.shutdown()


async def test_serving_starts_no_more_checks_than_may_run_at_once(tmp_path: Path, stores: StoreMaker) -> None:
    """At start-up every domain is due: tasks are made only as slots free up, so a large fleet
    neither holds a task per domain nor starves the web requests sharing the loop."""
    extra = "".join(
        f"  - {{name: d{n}.example.com, receiving: {{mx: [{{host: mx.example.net}}]}}}}\n" for n in range(9)
    )
    settings = config(tmp_path, extra).model_copy(update={"max_concurrent_checks": 2})
    published_zone = published()
    daemon = await Daemon.open(
        settings, await stores(None), resolver=published_zone, clock=FakeClock(), rng=random.Random(7)
    )
    most = 0

    class Slow:
        async def resolve(self, query: Query) -> Lookup:
            nonlocal most
            most = max(most, len(daemon._inflight))
            await asyncio.sleep(0.001)
            return await published_zone.resolve(query)

    daemon.shared = SharedLookups(Slow(), lambda: 0.0, 0)
    serving = asyncio.create_task(daemon.serve())
    for _ in range(500):
        if all(track.checked_at is not None for track in daemon.fleet.tracks.values()):
            break
        await asyncio.sleep(0.01)
    daemon.stop()
    await serving
    assert all(track.checked_at is not None for track in daemon.fleet.tracks.values())
    assert most == 2
    await daemon.shutdown()
