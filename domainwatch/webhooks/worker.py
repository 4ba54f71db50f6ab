"""The delivery worker: fans out the outbox and delivers due events, per endpoint, in order per
domain, with bounded concurrency; the async shell around policy.py and fanout.py, over the
store's delivery queue."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import uuid
from collections.abc import Callable, Collection, Sequence
from datetime import datetime, timedelta

import aiohttp
import structlog

from domainwatch.config.schema import Config, WebhookConfig
from domainwatch.metrics.exposition import EndpointStats
from domainwatch.metrics.instruments import Metrics
from domainwatch.present.redact import redact_urls
from domainwatch.store.base import Delivery, DeliveryStore, QueueStats
from domainwatch.webhooks.fanout import deliveries_for
from domainwatch.webhooks.payloads import ping_body, signed_headers
from domainwatch.webhooks.policy import Outcome, classify, next_attempt, parse_retry_after

log = structlog.get_logger("domainwatch.webhooks")
PER_ENDPOINT = 8  # deliveries in flight per endpoint (each for a different domain)
ABANDONED_AFTER = timedelta(seconds=5)  # beyond an endpoint's timeout: an attempt no one runs
POLL = 2.0  # seconds: also picks up replays made by `domainwatch webhooks replay`
PURGE_EVERY = timedelta(hours=1)


class WebhookWorker:
    def __init__(
        self,
        config: Config,
        store: DeliveryStore,
        *,
        clock: Callable[[], datetime],
        rng: random.Random | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.config, self.store, self.clock, self.metrics = config, store, clock, metrics
        self.rng = rng or random.Random()  # noqa: S311 (jitter, not security)
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._inflight: set[asyncio.Task[None]] = set()
        self._limits: dict[str, asyncio.Semaphore] = {}
        # The queue as last read (for /metrics and the pages, which read it without waiting).
        self._stats: dict[str, QueueStats] = {}
        self._disabled: dict[str, str] = {}
        self._synced: Config | None = None  # the config whose endpoints the store knows
        # Clustered (docs/ha.md): a replica delivers the events of the domains in its slots, each
        # attempt started under the slot's lease epoch. None: every domain, unfenced.
        self.slots: Callable[[], Sequence[int]] | None = None
        self.fence: Callable[[str], int] | None = None
        self.apply_config(config)

    async def start(self) -> None:
        """After a crash: deliveries left in flight are due again now (same event id). A
        clustered replica recovers only abandoned ones, each round (_recover_abandoned)."""
        if self.slots is None:
            await self.store.recover(self.clock())
        await self.refresh()

    async def take_over(self, slots: Collection[int]) -> None:
        """Slots this replica now holds: deliver their events (daemon.on_slots)."""
        self.wake()

    async def _recover_abandoned(self, now: datetime) -> None:
        """Clustered: an attempt in flight for longer than any endpoint's timeout (and a
        margin) was abandoned by a replica that died or was cut off; due again, same event id.
        An attempt still running is never started twice."""
        if self.slots is None:
            return
        longest = max((w.timeout for w in self.config.webhooks), default=timedelta(0))
        await self.store.recover(now, self._slots(), started_before=now - longest - ABANDONED_AFTER)

    def _slots(self) -> list[int] | None:
        return None if self.slots is None else list(self.slots())

    def apply_config(self, config: Config) -> None:
        """Swap in a config; the store learns its endpoints before the next round."""
        self.config = config
        self._limits = {
            w.name: self._limits.get(w.name) or asyncio.Semaphore(PER_ENDPOINT) for w in config.webhooks
        }
        self.wake()

    async def refresh(self) -> None:
        """Tell the store the config's endpoints (when they changed), and read the queue's state."""
        config = self.config
        if self._synced is not config:
            await self.store.sync_endpoints([(w.name, w.url) for w in config.webhooks])
            self._synced = config
        self._stats, self._disabled = await self.store.queue_stats(), await self.store.disabled()

    @property
    def disabled(self) -> dict[str, str]:
        """Disabled endpoints and why, as last read."""
        return dict(self._disabled)

    @property
    def external_url(self) -> str:
        return f"http://{self.config.server.listen}/"

    async def deliveries(self, state: str | None = None) -> list[Delivery]:
        return await self.store.deliveries(state)

    async def replay(self, event_id: str) -> int:
        """Send an event again to every endpoint it went to; how many deliveries that is."""
        count = await self.store.replay(event_id, self.clock())
        if count:
            self.wake()
        return count

    def wake(self) -> None:
        self._wake.set()

    def enabled(self) -> list[WebhookConfig]:
        return [w for w in self.config.webhooks if w.name not in self._disabled]

    def endpoint_stats(self) -> list[EndpointStats]:
        """Each configured endpoint's queue (for /metrics and the status page), as last read."""
        stats, disabled, now = self._stats, self._disabled, self.clock()
        out = []
        for endpoint in self.config.webhooks:
            queue = stats.get(endpoint.name)
            oldest = queue.oldest_pending if queue else None
            age = max(0.0, (now - oldest).total_seconds()) if oldest else 0.0
            pending, dead = (queue.pending, queue.dead) if queue else (0, 0)
            out.append(EndpointStats(endpoint.name, pending, age, dead, endpoint.name in disabled))
        return out

    async def fan_out(self, now: datetime) -> int:
        """Turn new events into one delivery per subscribed endpoint; how many were queued."""
        entries = await self.store.outbox(slots=self._slots())
        fanned = [(e, deliveries_for(e, self.config.webhooks, self.external_url)) for e in entries]
        if fanned:
            await self.store.fan_out(fanned, now)
        return sum(len(deliveries) for _, deliveries in fanned)

    # -- one round ----------------------------------------------------------------------------
    async def run_once(self, session: aiohttp.ClientSession) -> int:
        """Fan out new events, then attempt every due delivery and wait for them (tests use this)."""
        tasks = await self._start_due(session)
        await asyncio.gather(*tasks)
        await self.refresh()
        return len(tasks)

    async def _start_due(self, session: aiohttp.ClientSession) -> list[asyncio.Task[None]]:
        await self.refresh()
        now = self.clock()
        await self._recover_abandoned(now)
        await self.fan_out(now)
        tasks, slots = [], self._slots()
        for endpoint in self.enabled():
            for delivery in await self.store.due(endpoint.name, now, slots=slots):
                fence = self.fence(delivery.domain) if self.fence is not None else None
                if not await self.store.start_attempt(delivery, now, fence):  # committed before sending
                    continue  # the slot moved on, or another replica has it in flight
                task = asyncio.create_task(self._deliver(session, endpoint, delivery))
                self._inflight.add(task)
                task.add_done_callback(self._inflight.discard)
                tasks.append(task)
        return tasks

    async def _deliver(
        self, session: aiohttp.ClientSession, endpoint: WebhookConfig, delivery: Delivery
    ) -> None:
        async with self._limits[endpoint.name]:
            started = time.perf_counter()
            status, retry_after, error = await self._post(session, endpoint, delivery.event_id, delivery.body)
        outcome = classify(status)
        now = self.clock()
        attempts = delivery.attempts + 1
        next_at = None
        if outcome is Outcome.SUCCESS:
            await self.store.settle(delivery, "delivered", now, next_at=None, status=status, error=None)
        elif outcome is Outcome.GONE:
            await self.store.disable(endpoint.name, "the receiver answered 410 Gone", now)
            self._disabled[endpoint.name] = "the receiver answered 410 Gone"
            await self.store.settle(
                delivery, "pending", now, next_at=now, status=status, error="410 Gone: disabled"
            )
            log.warning("webhook_endpoint_disabled", endpoint=endpoint.name, reason="410 Gone")
        else:
            next_at = next_attempt(
                attempts, now, self.config.webhook_retry_scale, self.rng, parse_retry_after(retry_after, now)
            )
            outcome = Outcome.RETRY if next_at is not None else Outcome.DEAD
            state = "pending" if next_at else "dead"
            await self.store.settle(delivery, state, now, next_at=next_at, status=status, error=error)
        log.info(
            "webhook_attempt",
            endpoint=endpoint.name,
            event_id=delivery.event_id,
            domain=delivery.domain,
            sequence=delivery.sequence,
            attempt=attempts,
            status=status,
            outcome=outcome.value,
            error=error,
            next_attempt_at=next_at.isoformat() if next_at else None,
        )
        if self.metrics is not None:
            self.metrics.observe_delivery(endpoint.name, outcome.value, time.perf_counter() - started)

    async def _post(
        self, session: aiohttp.ClientSession, endpoint: WebhookConfig, event_id: str, body: str
    ) -> tuple[int | None, str | None, str | None]:
        status, retry_after, text = await post_once(session, endpoint, event_id, body, self.clock())
        return status, retry_after, None if status is not None else text

    # -- the loop -----------------------------------------------------------------------------
    async def serve(self) -> None:
        purged_at = self.clock()
        async with aiohttp.ClientSession() as session:
            while not self._stopping.is_set():
                try:
                    await self._start_due(session)
                    if self.clock() - purged_at > PURGE_EVERY:
                        purged_at = self.clock()
                        await self.store.purge_finished(purged_at - self.config.storage.retention)
                except Exception:
                    log.exception("webhook_round_failed")
                    if self.metrics is not None:
                        self.metrics.observe_store_error("deliveries")
                await self._sleep()
            if self._inflight:
                await asyncio.wait(self._inflight, timeout=10)

    async def _sleep(self) -> None:
        names = [w.name for w in self.enabled()]
        try:
            due = await self.store.next_due(names, slots=self._slots()) if names else None
        except Exception:  # the store unreachable: look again after a poll, as after a failed round
            log.warning("webhook_next_due_failed", exc_info=True)
            due = None
        seconds = POLL if due is None else max(0.0, min(POLL, (due - self.clock()).total_seconds()))
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()


async def post_once(
    session: aiohttp.ClientSession, endpoint: WebhookConfig, event_id: str, body: str, now: datetime
) -> tuple[int | None, str | None, str]:
    """POST once, never following redirects: (status, Retry-After, answer text or the error)."""
    headers = signed_headers(event_id, body, endpoint.all_secrets(), now)
    timeout = aiohttp.ClientTimeout(total=endpoint.timeout.total_seconds())
    try:
        async with session.post(
            endpoint.url, data=body.encode(), headers=headers, timeout=timeout, allow_redirects=False
        ) as response:
            text = (await response.read())[:2000].decode("utf-8", "replace")
            return response.status, response.headers.get("Retry-After"), text
    except TimeoutError:
        return None, None, f"no answer within {endpoint.timeout.total_seconds():g}s"
    except (aiohttp.ClientError, OSError, ValueError) as exc:  # its text may quote the URL (a token)
        return None, None, redact_urls(f"{type(exc).__name__}: {exc}")


async def ping(
    session: aiohttp.ClientSession, endpoint: WebhookConfig, now: datetime
) -> tuple[int | None, str]:
    """`webhooks test`: a signed webhook.test event, not queued; (status, answer or error)."""
    status, _, text = await post_once(
        session, endpoint, f"test_{uuid.uuid4().hex}", ping_body(endpoint.name, now), now
    )
    return status, text
