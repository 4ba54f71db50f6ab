"""Webhook delivery end to end in-process: the daemon's changes reach a real verifying receiver."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from pydantic import BaseModel, ConfigDict

from domainwatch.config.loader import parse
from domainwatch.config.schema import Config
from domainwatch.daemon.daemon import Daemon
from domainwatch.dns.resolver import Query
from domainwatch.metrics.exposition import Exposition
from domainwatch.metrics.instruments import Metrics
from domainwatch.store.sqlite import SqliteStore
from domainwatch.testing import FakeClock, FakeResolver
from domainwatch.webhooks.policy import MAX_ATTEMPTS
from domainwatch.webhooks.worker import WebhookWorker
from tests.integration.receiver import Receiver, new_secret

SCALE = 0.0001  # the 80-hour retry schedule in about 30 seconds of fake time


def zone() -> FakeResolver:
    return FakeResolver(
        {
            ("send.a.example.com", "TXT"): ["v=spf1 include:p.example.net ~all"],
            ("send.b.example.com", "TXT"): ["v=spf1 include:p.example.net ~all"],
            ("p.example.net", "TXT"): ["v=spf1 -all"],
        }
    )


def config(tmp_path: Path, hooks: str, scale: float = SCALE, extra: str = "") -> Config:
    return parse(f"""{extra}
storage: {{path: "{tmp_path / "state.db"}"}}
defaults: {{confirm_missing: 1, interval: 10s, pending_interval: 5s, recheck_interval: 5s}}
limits: {{min_interval: 1ms, min_recheck_interval: 1ms, min_window: 1ms, min_probe_interval: 1ms}}
webhook_retry_scale: {scale}
webhooks:
{hooks}
domains:
  - name: a.example.com
    sending: {{spf: {{include: [p.example.net]}}}}
  - name: b.example.com
    sending: {{spf: {{include: [p.example.net]}}}}
""")


def hook(receiver: Receiver, name: str = "ops", **extra: Any) -> str:
    """One webhooks entry as YAML flow text; keyword arguments override the defaults."""
    entry = {
        "name": name,
        "url": receiver.url,
        "secrets": receiver.secrets,
        "events": ["domain.status_changed", "record.status_changed"],
        "timeout": "1s",
        **extra,
    }
    return "  - " + json.dumps(entry)


class Harness:
    def __init__(
        self, tmp_path: Path, hooks: str, resolver: FakeResolver | None = None, extra: str = ""
    ) -> None:
        self.clock = FakeClock(datetime.now(UTC))  # near real time: receivers check signature age
        self.resolver = resolver or zone()
        self.config = config(tmp_path, hooks, extra=extra)
        self.store = SqliteStore(self.config.storage.location.target)
        self.metrics = Metrics()

    async def start(self) -> Harness:
        self.daemon = await Daemon.open(
            self.config,
            self.store,
            resolver=self.resolver,
            clock=self.clock,
            rng=random.Random(1),
            metrics=self.metrics,
        )
        self.worker = WebhookWorker(
            self.config, self.store, clock=self.clock, rng=random.Random(2), metrics=self.metrics
        )
        self.exposition = Exposition(self.metrics.registry, self.daemon.fleet, self.worker)
        self.daemon.fleet.listeners.append(self.exposition)
        await self.worker.start()
        return self

    async def pump(self, session: aiohttp.ClientSession, seconds: float) -> None:
        """Run checks and deliveries for `seconds` of fake time, each at its due moment."""
        end = self.clock.now + timedelta(seconds=seconds)
        while True:
            await self.daemon.run_once(self.clock.now)
            await self.worker.run_once(session)
            names = [w.name for w in self.worker.enabled()]
            dues = [
                d for d in (self.daemon.schedule.next_due(), await self.worker.store.next_due(names)) if d
            ]
            upcoming = min(dues, default=end)
            if upcoming > end:
                break
            self.clock.now = max(self.clock.now, upcoming)
        self.clock.now = end

    async def events(self, *kinds: str) -> list[str]:
        return [e.id for e in reversed(await self.store.history()) if e.kind in kinds]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    server = await Receiver([new_secret()]).start()
    yield server
    await server.stop()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


async def test_every_change_arrives_signed_and_in_order(
    tmp_path: Path, receiver: Receiver, session: aiohttp.ClientSession
) -> None:
    """Each domain and record change is delivered once, verified, in sequence order per domain."""
    harness = await Harness(tmp_path, hook(receiver)).start()
    await harness.pump(session, 5)
    assert set(await harness.events("domain", "record")) == set(receiver.ids())
    for domain in ("a.example.com", "b.example.com"):
        sequences = receiver.sequences(domain)
        assert sorted(sequences) == sequences
    first = receiver.received[0]
    assert first.headers["User-Agent"].startswith("domainwatch/")
    assert "application/json" == first.headers["Content-Type"]
    verified = next(
        r.body
        for r in receiver.received
        if r.body["type"] == "domain.status_changed" and r.body["data"]["status"] == "verified"
    )
    assert {
        "domain",
        "status",
        "previous_status",
        "since",
        "window_deadline",
        "capabilities",
        "records",
        "sequence",
    } <= set(verified["data"])
    assert "spf" == verified["data"]["records"][0]["record"]
    assert 0 == receiver.unsigned


async def test_receiver_outage_then_recovery_loses_nothing(
    tmp_path: Path, receiver: Receiver, session: aiohttp.ClientSession
) -> None:
    """500s for a while: everything arrives later, in order per domain, ids unique."""
    harness = await Harness(tmp_path, hook(receiver)).start()
    receiver.fail(500, times=12)
    await harness.pump(session, 2)
    harness.resolver.data.pop(Query.of("send.a.example.com", "TXT"))  # more changes while it is down
    await harness.pump(session, 60)
    assert set(await harness.events("domain", "record")) == set(receiver.ids())
    assert len(receiver.ids()) == len(set(receiver.ids()))
    assert "temporary_failure" in {r.body["data"]["status"] for r in receiver.received}
    for domain in ("a.example.com", "b.example.com"):
        assert sorted(receiver.sequences(domain)) == receiver.sequences(domain)
    assert 0 == len(receiver.script)


async def test_retry_after_is_honoured(
    tmp_path: Path, receiver: Receiver, session: aiohttp.ClientSession
) -> None:
    """A 503 with Retry-After: 120 is not retried before two minutes, however short the schedule."""
    harness = await Harness(tmp_path, hook(receiver)).start()
    receiver.fail(503, times=1, **{"Retry-After": "120"})
    await harness.daemon.run_once()
    await harness.worker.run_once(session)
    waiting = await harness.worker.store.deliveries("pending")
    retried = [d for d in waiting if d.attempts == 1]
    assert 1 == len(retried)
    assert retried[0].next_attempt_at >= harness.clock.now + timedelta(seconds=120)


async def test_dead_letter_then_replay(
    tmp_path: Path, receiver: Receiver, session: aiohttp.ClientSession
) -> None:
    """After the last attempt the event is dead-lettered (kept, counted); replay delivers it."""
    harness = await Harness(
        tmp_path, hook(receiver, domains=["a.example.com"], events=["domain.status_changed"])
    ).start()
    receiver.fail(500, times=MAX_ATTEMPTS)
    await harness.pump(session, 60)
    dead = await harness.worker.store.deliveries("dead")
    assert 1 == len(dead)
    assert MAX_ATTEMPTS == dead[0].attempts
    assert (await harness.worker.store.queue_stats())["ops"].dead == 1
    assert dead[0].event_id not in receiver.ids()  # the later event went on without it
    assert 1 == await harness.worker.store.replay(dead[0].event_id, harness.clock.now)
    await harness.worker.run_once(session)
    assert dead[0].event_id == receiver.ids()[-1]


async def test_410_disables_the_endpoint_until_its_url_changes(
    tmp_path: Path, receiver: Receiver, session: aiohttp.ClientSession
) -> None:
    """410 Gone: disabled (metric), nothing more sent; a new URL in the config re-enables it."""
    harness = await Harness(tmp_path, hook(receiver)).start()
    receiver.fail(410, times=100)
    await harness.pump(session, 60)
    assert {"ops": "the receiver answered 410 Gone"} == await harness.worker.store.disabled()
    attempts = 100 - len(receiver.script)
    harness.resolver.data.pop(Query.of("send.a.example.com", "TXT"))  # more events: none is sent
    await harness.pump(session, 60)
    assert (attempts, []) == (100 - len(receiver.script), receiver.ids())
    receiver.script.clear()
    assert (
        harness.metrics.registry.get_sample_value(
            "domainwatch_webhook_endpoint_disabled", {"endpoint": "ops"}
        )
        == 1
    )
    moved = config(tmp_path, hook(receiver).replace("/hook", "/hook?v=2"))
    harness.daemon.config_path = None
    harness.worker.apply_config(moved)
    await harness.pump(session, 60)
    assert {} == await harness.worker.store.disabled()
    assert set(await harness.events("domain", "record")) == set(receiver.ids())


@pytest.mark.parametrize("known", ["old", "new"])
async def test_secret_rotation(tmp_path: Path, session: aiohttp.ClientSession, known: str) -> None:
    """Two secrets sign every request: a receiver knowing either one verifies it."""
    old, new = new_secret(), new_secret()
    receiver = await Receiver([old if known == "old" else new]).start()
    try:
        harness = await Harness(tmp_path, hook(receiver, secrets=[old, new])).start()
        await harness.pump(session, 5)
        assert receiver.ids()
        assert 0 == receiver.unsigned
        assert 2 == len(receiver.received[0].headers["webhook-signature"].split(" "))
    finally:
        await receiver.stop()


class AmAlert(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: str
    labels: dict[str, str]
    annotations: dict[str, str]
    startsAt: str  # noqa: N815 (Alertmanager's field names)
    endsAt: str  # noqa: N815
    generatorURL: str  # noqa: N815
    fingerprint: str


class AmPayload(BaseModel):
    """Alertmanager's webhook payload, version 4 (prometheus/alertmanager notify/webhook)."""

    model_config = ConfigDict(extra="forbid")
    version: str
    groupKey: str  # noqa: N815
    truncatedAlerts: int  # noqa: N815
    status: str
    receiver: str
    groupLabels: dict[str, str]  # noqa: N815
    commonLabels: dict[str, str]  # noqa: N815
    commonAnnotations: dict[str, str]  # noqa: N815
    externalURL: str  # noqa: N815
    alerts: list[AmAlert]


async def test_alertmanager_format(tmp_path: Path, session: aiohttp.ClientSession) -> None:
    """format: alertmanager posts Alertmanager v4 bodies: firing on failures, resolved on verified."""
    receiver = await Receiver([], verify=False).start()
    try:
        harness = await Harness(
            tmp_path, hook(receiver, secrets=[], format="alertmanager", events=["domain.status_changed"])
        ).start()
        await harness.pump(session, 5)
        harness.resolver.data.pop(Query.of("send.a.example.com", "TXT"))
        await harness.pump(session, 60)
        bodies = [AmPayload.model_validate(r.body) for r in receiver.received]
        assert ["resolved", "resolved", "firing"] == [b.status for b in bodies]
        assert "4" == bodies[0].version
        firing = bodies[-1].alerts[0]
        assert ("a.example.com", "temporary_failure") == (
            firing.labels["domain"],
            firing.annotations["status"],
        )
        assert (
            firing.labels
            == next(b for b in bodies if b.groupLabels["domain"] == "a.example.com").alerts[0].labels
        )
    finally:
        await receiver.stop()


@pytest.mark.parametrize("status", [302, 404, 500])
async def test_non_2xx_is_retried_and_redirects_not_followed(
    tmp_path: Path, receiver: Receiver, session: aiohttp.ClientSession, status: int
) -> None:
    """3xx, 4xx (but 410) and 5xx all mean "try again later"."""
    harness = await Harness(tmp_path, hook(receiver, events=["domain.status_changed"])).start()
    receiver.fail(status, times=2, **({"Location": "http://127.0.0.1:9/elsewhere"} if status == 302 else {}))
    await harness.pump(session, 30)
    assert set(await harness.events("domain")) == set(receiver.ids())
    assert (
        harness.metrics.registry.get_sample_value(
            "domainwatch_webhook_deliveries_total", {"endpoint": "ops", "outcome": "retry"}
        )
        == 2
    )


async def test_unanswered_request_times_out_and_is_retried(
    tmp_path: Path, receiver: Receiver, session: aiohttp.ClientSession
) -> None:
    """A receiver that never answers costs one timeout; the event is retried."""
    harness = await Harness(tmp_path, hook(receiver, events=["domain.status_changed"], timeout="1s")).start()
    receiver.hanging = True
    await harness.daemon.run_once()
    await harness.worker.run_once(session)
    retried = [d for d in await harness.worker.store.deliveries("pending") if d.attempts]
    assert retried
    assert "no answer within 1s" == retried[0].last_error
    receiver.hanging = False
    await harness.pump(session, 30)
    assert set(await harness.events("domain")) == set(receiver.ids())


async def test_the_worker_outlives_a_store_that_fails_between_rounds(tmp_path: Path) -> None:
    """PostgreSQL restarting, say: the look for the next due delivery fails; the worker logs it,
    waits a poll, and carries on (it once ended there, and no webhook went out again)."""
    config = parse(
        "webhooks: [{name: ops, url: 'http://127.0.0.1:9/hook', secret: 'whsec_"
        + "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldC0x'}]\n"
    )
    store = SqliteStore(tmp_path / "state.db")
    worker = WebhookWorker(config, store, clock=lambda: datetime(2026, 1, 1, tzinfo=UTC))
    calls = 0
    next_due = store.next_due

    async def failing_once(endpoints: Any, slots: Any = None) -> datetime | None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise OSError("connection refused")
        return await next_due(endpoints)

    store.next_due = failing_once  # type: ignore[method-assign]
    await worker.start()
    serving = asyncio.create_task(worker.serve())
    for _ in range(100):
        if calls >= 2:
            break
        worker.wake()
        await asyncio.sleep(0.05)
    assert calls >= 2
    assert not serving.done()
    worker.stop()
    await serving
    await store.close()
