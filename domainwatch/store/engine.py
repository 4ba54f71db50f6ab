"""A synchronous store engine behind the async Store.

SQLite's engine (sqlite_engine.py) and the in-memory one (domainwatch.testing) are plain
synchronous code. EngineStore puts one behind the async Store protocol: SQLite's calls run on
one thread of the store's own, in the order they were made, so a write never blocks the event
loop and there is still exactly one writer; the in-memory engine's calls run inline.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, ParamSpec, Protocol, TypeVar

from domainwatch.state.domain import DomainTrack
from domainwatch.state.events import Event
from domainwatch.state.facts import DomainFacts
from domainwatch.state.windows import MaintenanceWindow
from domainwatch.store.base import (
    Delivery,
    NewDelivery,
    OutboxEntry,
    QueueStats,
    Results,
    Save,
    StoredAnswer,
    StoredDocument,
)

P = ParamSpec("P")
T = TypeVar("T")


class Engine(Protocol):
    """The Store's operations, synchronous (each as documented on store.base.Store)."""

    @property
    def is_open(self) -> bool: ...

    def close(self) -> None: ...

    def iter_history(self, since: datetime | None = None, batch: int = 500) -> Iterator[Event]: ...

    def load(self, *, include_removed: bool = False) -> dict[str, DomainTrack]: ...
    def facts(self, distill: Callable[[Results], DomainFacts]) -> dict[str, DomainFacts]: ...
    def results(self, domain: str) -> dict[str, dict[str, Any]]: ...
    def track(self, name: str) -> DomainTrack | None: ...
    def documents(self) -> dict[str, StoredDocument]: ...
    def answer(self, key: str) -> StoredAnswer | None: ...
    def purge_answers(self, before: datetime) -> int: ...
    def save_many(self, saves: Sequence[Save]) -> None: ...
    def mark_removed(self, names: Sequence[str], now: datetime) -> None: ...
    def purge_removed(self, before: datetime) -> list[str]: ...
    def value_sets(self, digests: Sequence[str]) -> dict[str, str]: ...
    def windows(self) -> list[MaintenanceWindow]: ...
    def save_window(self, window: MaintenanceWindow) -> None: ...
    def delete_window(self, window_id: str) -> bool: ...
    def history(self, domain: str | None = None, *, limit: int = 1000) -> list[Event]: ...
    def purge_history(self, before: datetime) -> int: ...
    def save_day_counts(self, day: str, counts: Mapping[str, int]) -> None: ...
    def day_counts(self, since: str) -> dict[str, dict[str, int]]: ...
    def outbox(self, limit: int = 1000) -> list[OutboxEntry]: ...
    def fan_out(self, fanned: Sequence[tuple[OutboxEntry, Sequence[NewDelivery]]], now: datetime) -> None: ...
    def due(self, endpoint: str, now: datetime, limit: int = 100) -> list[Delivery]: ...
    def next_due(self, endpoints: Sequence[str]) -> datetime | None: ...
    def start_attempt(self, delivery: Delivery, now: datetime) -> None: ...
    def settle(
        self,
        delivery: Delivery,
        state: str,
        now: datetime,
        *,
        next_at: datetime | None,
        status: int | None,
        error: str | None,
    ) -> None: ...
    def recover(self, now: datetime) -> int: ...
    def replay(self, event_id: str, now: datetime) -> int: ...
    def deliveries(self, state: str | None = None, limit: int = 1000) -> list[Delivery]: ...
    def sync_endpoints(self, endpoints: Sequence[tuple[str, str]]) -> None: ...
    def disable(self, name: str, reason: str, now: datetime) -> None: ...
    def disabled(self) -> dict[str, str]: ...
    def queue_stats(self) -> dict[str, QueueStats]: ...
    def purge_finished(self, before: datetime) -> int: ...


class EngineStore:
    """An Engine as a Store: on a thread of its own (`thread` names it), or inline (None)."""

    def __init__(self, engine: Engine, *, thread: str | None) -> None:
        self.engine = engine
        self._executor = ThreadPoolExecutor(1, thread_name_prefix=thread) if thread else None

    async def _call(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        if self._executor is None:
            return fn(*args, **kwargs)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args, **kwargs))

    @property
    def is_open(self) -> bool:
        return self.engine.is_open

    async def close(self) -> None:
        await self._call(self.engine.close)
        if self._executor is not None:
            self._executor.shutdown(wait=False)

    async def iter_history(self, since: datetime | None = None, batch: int = 500) -> AsyncIterator[Event]:
        """The engine's iterator, advanced a batch at a time on the store's thread."""
        events = self.engine.iter_history(since, batch)
        try:
            while chunk := await self._call(lambda: list(itertools.islice(events, batch))):
                for event in chunk:
                    yield event
        finally:
            await self._call(getattr(events, "close", lambda: None))

    async def load(self, *, include_removed: bool = False) -> dict[str, DomainTrack]:
        return await self._call(self.engine.load, include_removed=include_removed)

    async def facts(self, distill: Callable[[Results], DomainFacts]) -> dict[str, DomainFacts]:
        return await self._call(self.engine.facts, distill)

    async def results(self, domain: str) -> dict[str, dict[str, Any]]:
        return await self._call(self.engine.results, domain)

    async def track(self, name: str) -> DomainTrack | None:
        return await self._call(self.engine.track, name)

    async def documents(self) -> dict[str, StoredDocument]:
        return await self._call(self.engine.documents)

    async def answer(self, key: str) -> StoredAnswer | None:
        return await self._call(self.engine.answer, key)

    async def purge_answers(self, before: datetime) -> int:
        return await self._call(self.engine.purge_answers, before)

    async def save_many(self, saves: Sequence[Save]) -> Sequence[Save]:
        await self._call(self.engine.save_many, saves)
        return ()  # one daemon per file: no leases to fence

    async def mark_removed(self, names: Sequence[str], now: datetime) -> None:
        return await self._call(self.engine.mark_removed, names, now)

    async def purge_removed(self, before: datetime) -> list[str]:
        return await self._call(self.engine.purge_removed, before)

    async def history(self, domain: str | None = None, *, limit: int = 1000) -> list[Event]:
        return await self._call(self.engine.history, domain, limit=limit)

    async def value_sets(self, digests: Sequence[str]) -> dict[str, str]:
        return await self._call(self.engine.value_sets, digests)

    async def windows(self) -> list[MaintenanceWindow]:
        return await self._call(self.engine.windows)

    async def save_window(self, window: MaintenanceWindow) -> None:
        return await self._call(self.engine.save_window, window)

    async def delete_window(self, window_id: str) -> bool:
        return await self._call(self.engine.delete_window, window_id)

    async def purge_history(self, before: datetime) -> int:
        return await self._call(self.engine.purge_history, before)

    async def save_day_counts(self, day: str, counts: Mapping[str, int]) -> None:
        return await self._call(self.engine.save_day_counts, day, counts)

    async def day_counts(self, since: str) -> dict[str, dict[str, int]]:
        return await self._call(self.engine.day_counts, since)

    # `slots` and `fence` scope a clustered replica's work (PostgreSQL); a file has one daemon.
    async def outbox(self, limit: int = 1000, slots: Sequence[int] | None = None) -> list[OutboxEntry]:
        return await self._call(self.engine.outbox, limit)

    async def fan_out(
        self, fanned: Sequence[tuple[OutboxEntry, Sequence[NewDelivery]]], now: datetime
    ) -> None:
        return await self._call(self.engine.fan_out, fanned, now)

    async def due(
        self, endpoint: str, now: datetime, limit: int = 100, slots: Sequence[int] | None = None
    ) -> list[Delivery]:
        return await self._call(self.engine.due, endpoint, now, limit)

    async def next_due(self, endpoints: Sequence[str], slots: Sequence[int] | None = None) -> datetime | None:
        return await self._call(self.engine.next_due, endpoints)

    async def start_attempt(self, delivery: Delivery, now: datetime, fence: int | None = None) -> bool:
        await self._call(self.engine.start_attempt, delivery, now)
        return True

    async def settle(
        self,
        delivery: Delivery,
        state: str,
        now: datetime,
        *,
        next_at: datetime | None,
        status: int | None,
        error: str | None,
    ) -> None:
        return await self._call(
            self.engine.settle, delivery, state, now, next_at=next_at, status=status, error=error
        )

    async def recover(
        self, now: datetime, slots: Sequence[int] | None = None, started_before: datetime | None = None
    ) -> int:
        return await self._call(self.engine.recover, now)

    async def replay(self, event_id: str, now: datetime) -> int:
        return await self._call(self.engine.replay, event_id, now)

    async def deliveries(self, state: str | None = None, limit: int = 1000) -> list[Delivery]:
        return await self._call(self.engine.deliveries, state, limit)

    async def sync_endpoints(self, endpoints: Sequence[tuple[str, str]]) -> None:
        return await self._call(self.engine.sync_endpoints, endpoints)

    async def disable(self, name: str, reason: str, now: datetime) -> None:
        return await self._call(self.engine.disable, name, reason, now)

    async def disabled(self) -> dict[str, str]:
        return await self._call(self.engine.disabled)

    async def queue_stats(self) -> dict[str, QueueStats]:
        return await self._call(self.engine.queue_stats)

    async def purge_finished(self, before: datetime) -> int:
        return await self._call(self.engine.purge_finished, before)
