"""The daemon's state writes, batched: many domains per store transaction.

A transaction per checked domain cost about as much as the check itself (docs/performance.md).
Saves from checks wait here for at most `delay` seconds (or until `max_batch` have gathered) and
are then written together, all or none. The daemon's in-memory state runs ahead of the store by
at most that delay; a crash in between is the same as a crash a moment earlier, because the
next check observes the same records again and derives the same changes. Batches are written
one at a time, in the order they were taken, so a domain's saves reach the store in order.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence

import structlog

from domainwatch.state.events import Event
from domainwatch.store.base import Results, Save, StateStore

log = structlog.get_logger("domainwatch")

MAX_BATCH = 256
DELAY = 0.05  # seconds


class BatchedWrites:
    """Queued saves; each knows the track it replaces (Save.stored), to restore if a write fails."""

    def __init__(
        self,
        store: StateStore,
        on_written: Callable[[list[Event]], None],
        on_failed: Callable[[list[Save]], None],
        observe: Callable[..., None] | None = None,
        *,
        max_batch: int = MAX_BATCH,
        delay: float = DELAY,
    ) -> None:
        self.store, self.on_written, self.on_failed = store, on_written, on_failed
        self.observe = observe  # (seconds, failed=...) of each batch written: the metrics
        self.on_fenced: Callable[[Sequence[Save]], None] | None = None  # saves the store refused
        self.max_batch, self.delay = max_batch, delay
        self._pending: list[Save] = []
        self._timer: asyncio.TimerHandle | None = None
        self._writing = asyncio.Lock()
        self._in_flight: list[Save] = []  # the batch being written: not in the store yet
        self._background: set[asyncio.Task[None]] = set()

    def add(self, save: Save) -> None:
        """Queue a save; a full batch is written soon, without waiting for the delay."""
        self._pending.append(save)
        if len(self._pending) >= self.max_batch:
            self._start_flush()

    def flush_soon(self) -> None:
        """Write what is queued within `delay` seconds (needs a running event loop)."""
        if self._pending and self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.delay, self._start_flush)

    def latest_results(self, domain: str) -> Results | None:
        """The domain's newest results among the queued saves (the store has older ones)."""
        queued = [*self._in_flight, *self._pending]
        return next((s.results for s in reversed(queued) if s.track.name == domain and s.results), None)

    async def flush(self) -> list[list[Event]]:
        """Write everything queued now, in one transaction: the events of each save, in order.

        On failure nothing is written, on_failed gets the batch (so the daemon can restore
        the tracks it replaced) and the error is raised.
        """
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch, self._pending = self._pending, []
        async with self._writing:  # after the batches taken before this one
            if not batch:
                return []
            self._in_flight = batch
            started = time.perf_counter()
            try:
                refused = await self.store.save_many(batch)
            except BaseException:
                self._observe(started, failed=True)
                self.on_failed(batch)
                raise
            finally:
                self._in_flight = []
            self._observe(started, failed=False)
        if refused:  # fenced: another replica holds these domains' slots now (docs/ha.md)
            self.on_failed(list(refused))
            if self.on_fenced is not None:
                self.on_fenced(refused)
        unwritten = {id(save) for save in refused}
        written = [[] if id(save) in unwritten else list(save.events) for save in batch]
        for events in written:
            if events:
                self.on_written(events)
        return written

    def _observe(self, started: float, *, failed: bool) -> None:
        if self.observe is not None:
            self.observe(time.perf_counter() - started, failed=failed)

    def _start_flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()  # (harmless when it is the timer that fired)
            self._timer = None
        task = asyncio.get_running_loop().create_task(self._flush_logged())
        self._background.add(task)  # kept until done: the loop holds tasks only weakly
        task.add_done_callback(self._background.discard)

    async def _flush_logged(self) -> None:
        try:
            await self.flush()
        except Exception:
            log.exception("state_write_failed")
