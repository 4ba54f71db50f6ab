"""When to check what: due times in one heap (not a task per domain), spread by jitter (the
interval each status asks for is a state rule: state/intervals.py).

Pure: the heap and the jitter take `now` and a random source from the caller.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterable
from datetime import datetime, timedelta

from domainwatch.config.domains import Defaults
from domainwatch.config.schema import Config

JITTER = 0.10  # +-10%: spreads a fleet loaded at one moment over the interval


def jittered(interval: timedelta, rng: random.Random) -> timedelta:
    return interval * rng.uniform(1 - JITTER, 1 + JITTER)


MAX_CATCH_UP = timedelta(minutes=5)  # checks that fell due while stopped: spread over at most this


def resumed_due(
    checked_at: datetime, interval: timedelta, catch_up: timedelta, now: datetime, rng: random.Random
) -> datetime:
    """When a domain loaded from the store is next due: an interval after its last check, as if
    the daemon had not stopped; one that fell due meanwhile at a random moment of the next
    `catch_up` (a restart after an hour would otherwise check the whole fleet at once)."""
    due = min(checked_at + jittered(interval, rng), now + interval)  # a clock set back
    if due > now:
        return due
    return now + catch_up * rng.random()


class Schedule:
    """Due times of domains; stale heap entries are skipped lazily when popped."""

    def __init__(self) -> None:
        self._heap: list[tuple[datetime, str]] = []
        self._due: dict[str, datetime] = {}

    def __len__(self) -> int:
        return len(self._due)

    def __contains__(self, name: str) -> bool:
        return name in self._due

    def put(self, name: str, due: datetime) -> None:
        self._due[name] = due
        heapq.heappush(self._heap, (due, name))

    def discard(self, name: str) -> None:
        self._due.pop(name, None)

    def pop_due(self, now: datetime, limit: int | None = None) -> list[str]:
        """Domains due at or before `now` (at most `limit`), earliest first; they leave the
        schedule, the others stay due."""
        return [name for name, _ in self.pop_due_times(now, limit)]

    def pop_due_times(self, now: datetime, limit: int | None = None) -> list[tuple[str, datetime]]:
        """pop_due, with when each was due."""
        out: list[tuple[str, datetime]] = []
        while self._heap and self._heap[0][0] <= now and (limit is None or len(out) < limit):
            due, name = heapq.heappop(self._heap)
            if self._due.get(name) == due:
                del self._due[name]
                out.append((name, due))
        return out

    def backlog(self, now: datetime) -> tuple[int, float]:
        """How many domains are due at `now`, and how late the earliest of them is (seconds)."""
        earliest = self.next_due()
        if earliest is None or earliest > now:
            return 0, 0.0
        return sum(1 for due in self._due.values() if due <= now), (now - earliest).total_seconds()

    def next_due(self) -> datetime | None:
        while self._heap and self._due.get(self._heap[0][1]) != self._heap[0][0]:
            heapq.heappop(self._heap)
        return self._heap[0][0] if self._heap else None


def shared_cache_age(config: Config, settings: Iterable[Defaults]) -> float:
    """How long third-party answers are shared, in seconds (pure).

    `resolver.shared_cache`, but never more than half the shortest interval any domain can be
    checked at (jitter included), so no check sees an answer fetched for the previous round.
    Authoritative mode asks each domain's own servers: nothing to share.
    """
    if config.resolver.mode != "recursive":
        return 0.0
    intervals = [
        interval
        for s in settings
        for interval in (s.interval, s.pending_interval, s.recheck_interval, s.failed_interval)
    ]
    wanted = config.resolver.shared_cache.total_seconds()
    if not intervals:
        return wanted
    return min(wanted, min(intervals).total_seconds() * (1 - JITTER) / 2)
