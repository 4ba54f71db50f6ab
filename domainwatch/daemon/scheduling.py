"""When each domain of the fleet is checked next (membership's Scheduling): the interval its
state asks for (state/intervals.py), jittered, as a due time in the daemon's Schedule."""

from __future__ import annotations

import random
from collections.abc import Callable, Container
from datetime import datetime, timedelta

from domainwatch.daemon.schedule import MAX_CATCH_UP, Schedule, jittered, resumed_due
from domainwatch.fleet.fleet import Fleet
from domainwatch.state.intervals import interval_for
from domainwatch.state.rules import Status


class Scheduler:
    def __init__(
        self,
        fleet: Fleet,
        schedule: Schedule,
        rng: random.Random,
        running: Container[str],
        wake: Callable[[], None],
    ) -> None:
        """`running`: the domains being checked now; `wake`: tells the serving loop to look."""
        self.fleet, self.schedule, self.rng, self.running, self.wake = fleet, schedule, rng, running, wake

    def schedule_check(self, name: str, now: datetime, *, immediately: bool = False) -> None:
        interval = self._interval(name)
        if interval is not None:
            self.schedule.put(name, now if immediately else now + jittered(interval, self.rng))
            self.wake()

    def resume_check(self, name: str, checked_at: datetime, now: datetime, *, takeover: bool = False) -> None:
        """Schedule a domain loaded from the store as if the daemon had not stopped: due an
        interval after its last check. One that fell due meanwhile is spread over min(interval,
        5 m), or a pending or temporarily failing one over its recheck interval: a restart of a
        large fleet spreads its checks as before instead of re-checking every domain at once."""
        interval = self._interval(name)
        if interval is None:
            return
        track, settings = self.fleet.tracks[name], self.fleet.plans[name].settings
        if track.status in (Status.PENDING, Status.TEMPORARY_FAILURE):
            catch_up = settings.recheck_interval
        else:
            catch_up = min(interval, MAX_CATCH_UP)
        if takeover:  # a slot taken over (clustered): no later than it has been overdue, so a
            # dead replica's domains are checked again within a lease TTL of when they were due
            catch_up = min(catch_up, max(now - checked_at - interval, timedelta(0)))
        self.schedule.put(name, resumed_due(checked_at, interval, catch_up, now, self.rng))

    def unschedule(self, name: str) -> None:
        self.schedule.discard(name)

    def is_pending(self, name: str) -> bool:
        return name in self.schedule or name in self.running

    def _interval(self, name: str) -> timedelta | None:
        """The domain's interval now; None (and off the schedule) when it is not checked."""
        domain_plan = self.fleet.plans[name]
        interval = interval_for(self.fleet.tracks[name], domain_plan.specs, domain_plan.settings)
        if interval is None:
            self.schedule.discard(name)
        return interval
