"""The API's reads, as the daemon answers them (a mixin of Daemon): the fleet's state, and the
store for what the fleet does not hold (results not seen since start-up, history, counts)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

from domainwatch.daemon.drift_desk import DriftDesk
from domainwatch.fleet.fleet import Fleet
from domainwatch.present.views import domain_view
from domainwatch.runtime.clock import Clock
from domainwatch.state.events import Event
from domainwatch.store.base import Results, Store, StoredAnswer


class ApiReads:
    fleet: Fleet
    store: Store
    drift: DriftDesk
    clock: Clock

    # -- the API's reads ----------------------------------------------------------------------
    async def results(self, name: str) -> Results:
        """The domain's latest results: as this replica saw them, else as stored."""
        known = self.fleet.known_results(name)
        return known if known is not None else await self.store.results(name)

    async def view(self, name: str) -> dict[str, Any]:
        """The domain as the API and the pages show it."""
        results = await self.results(name)
        return domain_view(self.fleet.tracks[name], self.fleet.plans[name], results)

    async def history(self, name: str | None, limit: int) -> list[Event]:
        return await self.drift.with_values(await self.store.history(name, limit=limit))

    def history_since(self, since: datetime | None) -> AsyncIterator[Event]:
        return self.drift.stream_with_values(self.store.iter_history(since))

    async def day_counts(self, days: int) -> dict[str, dict[str, int]]:
        """The fleet's domains by status per day, the last `days` days (today's as last counted)."""
        since = (self.clock() - timedelta(days=days - 1)).strftime("%Y-%m-%d")
        return await self.store.day_counts(since)

    async def kept_answer(self, key: str) -> StoredAnswer | None:
        """The answer kept for an Idempotency-Key."""
        return await self.store.answer(key)

    @property
    def store_open(self) -> bool:
        return self.store.is_open
