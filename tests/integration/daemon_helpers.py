"""Drive a Daemon through simulated time: each due check runs at its own due time."""

from __future__ import annotations

from datetime import datetime

from domainwatch.daemon.daemon import Daemon
from domainwatch.testing import FakeClock


async def advance(daemon: Daemon, clock: FakeClock, until: datetime) -> int:
    """Run every check falling due up to `until`, in order, moving the clock to each; returns count."""
    checks = 0
    while (due := daemon.schedule.next_due()) is not None and due <= until:
        clock.now = max(clock.now, due)
        checks += await daemon.run_once(clock.now)
    clock.now = until
    return checks


async def step(daemon: Daemon, clock: FakeClock) -> None:
    """Run the next due check, whenever it is."""
    due = daemon.schedule.next_due()
    assert due is not None, "nothing scheduled"
    await advance(daemon, clock, max(clock.now, due))
