"""A per-nameserver query rate limit, so a large fleet never floods a resolver."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class RateLimiter:
    """Spaces acquisitions at least 1/rate seconds apart (a leaky bucket without burst).

    Smooth spacing rather than bursts: resolvers' own rate limits (RRL, per-client quotas) react
    to bursts, and the scheduler already spreads checks over time.
    """

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self._spacing = 1.0 / rate
        self._clock = clock
        self._next = 0.0

    def reserve(self) -> float:
        """Claim the next slot; returns how long to wait for it (pure bookkeeping, no sleep)."""
        now = self._clock()
        slot = max(now, self._next)
        self._next = slot + self._spacing
        return slot - now

    async def acquire(self) -> None:
        delay = self.reserve()
        if delay > 0:
            await asyncio.sleep(delay)
