"""Start-up as the log tells it (docs/operations.md, start-up events): `startup_loading`,
`store_loaded`, `first_round_progress` every 10 s while a fresh fleet is checked the first
time, and `ready`. FirstRound is the pure part: which domains still wait, and the ETA."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import structlog

log = structlog.get_logger("domainwatch")

PROGRESS_EVERY = 10.0  # seconds between two first_round_progress lines
LOOK_EVERY = 0.25  # how often readiness is looked at (a set's length: nothing to save)


@dataclass(slots=True)
class FirstRound:
    """The domains that had never been checked when the daemon started: it is ready (/readyz)
    once each has been. A restart on a checked store has none and is ready at once."""

    waiting: set[str] = field(default_factory=set)
    total: int = 0

    @classmethod
    def of(cls, names: Iterable[str]) -> FirstRound:
        waiting = set(names)
        return cls(waiting, len(waiting))

    def discard(self, name: str) -> None:
        self.waiting.discard(name)

    @property
    def done(self) -> bool:
        return not self.waiting

    def progress(self, elapsed: float) -> dict[str, int | float | None]:
        """checked, total and the seconds left at the pace so far (None before the first)."""
        checked = self.total - len(self.waiting)
        eta = round(elapsed / checked * len(self.waiting), 1) if checked else None
        return {"checked": checked, "total": self.total, "eta_seconds": eta}


async def report_start(
    first_round: Callable[[], FirstRound],
    started: float,
    every: float = PROGRESS_EVERY,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Log the first round's progress every `every` seconds, then `ready` once (a task for the
    daemon's life: it ends when ready). `started`: the clock() when start-up began."""
    round_started = told = clock()
    while not first_round().done:
        await asyncio.sleep(min(every, LOOK_EVERY))
        now = clock()
        if not first_round().done and now - told >= every:
            told = now
            log.info("first_round_progress", **first_round().progress(now - round_started))
    log.info("ready", seconds=round(clock() - started, 2))
