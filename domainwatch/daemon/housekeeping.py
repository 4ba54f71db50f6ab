"""What the daemon does beside checking, on its own clock: forget what retention lets go (hourly),
and keep the fleet's domains by status per day (every few minutes: the overview's chart reads
those rows, never the history). A store that refuses is logged and counted, and tried again at
the next turn; checking goes on."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import structlog

from domainwatch.config.schema import Config
from domainwatch.fleet.fleet import Fleet
from domainwatch.metrics.instruments import Metrics
from domainwatch.state.fleet import status_counts
from domainwatch.store.base import Store

log = structlog.get_logger("domainwatch")

PURGE_EVERY = timedelta(hours=1)
COUNT_EVERY = timedelta(minutes=10)
KEEP_ANSWERS = timedelta(hours=24)  # how long a create's answer is kept for Idempotency-Key retries


class Housekeeping:
    def __init__(
        self, store: Store, fleet: Fleet, config: Callable[[], Config], metrics: Metrics | None, now: datetime
    ) -> None:
        self.store, self.fleet, self.config, self.metrics = store, fleet, config, metrics
        self.purged = now  # the first purge an hour after start-up
        self.counted: datetime | None = None  # the first count at once

    async def tick(self, now: datetime) -> None:
        if now - self.purged > PURGE_EVERY:
            self.purged = now
            await self._guarded("purge", self._purge(now))
        if self.counted is None or now - self.counted > COUNT_EVERY:
            self.counted = now
            await self._guarded(
                "counts", self.store.save_day_counts(now.strftime("%Y-%m-%d"), status_counts(self.fleet))
            )

    async def _purge(self, now: datetime) -> None:
        storage = self.config().storage
        await self.store.purge_history(now - storage.history_retention)
        await self.store.purge_removed(now - storage.retention)
        await self.store.purge_answers(now - KEEP_ANSWERS)

    async def _guarded(self, operation: str, work: Awaitable[object]) -> None:
        try:
            await work
        except Exception:
            log.exception(f"store_{operation}_failed")
            if self.metrics is not None:
                self.metrics.observe_store_error(operation)
