"""This replica's share of a clustered fleet (docs/ha.md): the slot leases it renews in the
shared store, and what it is told to do when slots come and go.

A lease is valid here until `lease_ttl` after the renewal that set it was *sent*: the store's
expiry is later than that, so this replica stops starting checks of a slot before any other
may take it. Every write of a domain's state carries its slot's epoch (`fence`), and the store
refuses one whose slot has a newer epoch: a paused replica's late writes never land.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Collection, Sequence
from typing import Protocol

import structlog

from domainwatch.config.schema import ClusterConfig
from domainwatch.metrics.cluster import ClusterMetrics
from domainwatch.state.slots import slot_of
from domainwatch.store.base import LeaseRound

log = structlog.get_logger("domainwatch")
NOT_HELD = -1  # the fence of a write made without the slot's lease: never an epoch, always refused

SlotsChanged = Callable[[Collection[int]], Awaitable[None]]


class LeaseStore(Protocol):
    async def renew_leases(self, replica: str, ttl: float, *, claim: bool = False) -> LeaseRound: ...
    async def release_leases(self, replica: str) -> None: ...


class Leases:
    def __init__(self, store: LeaseStore, config: ClusterConfig, metrics: ClusterMetrics | None) -> None:
        self.store, self.metrics = store, metrics
        self.replica = config.replica
        self.ttl, self.interval = config.lease_ttl.total_seconds(), config.renew_interval.total_seconds()
        self.held: dict[int, int] = {}  # slot -> epoch
        self.valid_until = 0.0  # time.monotonic() when the held leases may have run out
        self.live: tuple[str, ...] = ()
        self.gained: SlotsChanged | None = None
        self.lost: SlotsChanged | None = None
        self._slots: dict[str, int] = {}  # name -> slot, made once per name
        self._moves: asyncio.Queue[tuple[list[int], list[int]]] = asyncio.Queue()
        self._claim = True  # the next renewal gives the slots still held here new epochs

    # -- reading ------------------------------------------------------------------------------
    def slot(self, name: str) -> int:
        slot = self._slots.get(name)
        if slot is None:
            slot = self._slots[name] = slot_of(name)
        return slot

    def owns(self, name: str) -> bool:
        """Whether the domain's slot is this replica's (what it exports; series move only when
        slots move)."""
        return self.slot(name) in self.held

    def fence(self, name: str) -> int:
        """The epoch a write of the domain now carries: NOT_HELD when its lease may have run out."""
        if time.monotonic() >= self.valid_until:
            return NOT_HELD
        return self.held.get(self.slot(name), NOT_HELD)

    @property
    def reachable(self) -> bool:
        """The last renewal reached the store, and its leases have not run out."""
        return time.monotonic() < self.valid_until

    # -- renewing -----------------------------------------------------------------------------
    async def renew(self) -> None:
        """One round: renew, take, release; tell the daemon which slots it lost and gained."""
        sent = time.monotonic()
        try:
            renewed = await self.store.renew_leases(self.replica, self.ttl, claim=self._claim)
        except Exception as exc:  # the store unreachable: keep what we hold until it runs out
            self._count("error")
            log.warning("lease_renewal_failed", error=" ".join(str(exc).split())[:300])
            if time.monotonic() >= self.valid_until and self.held:
                self._change({})
            return
        before = self.held
        taken = [s for s, e in before.items() if renewed.held.get(s) != e and s not in renewed.released]
        self._count("lost" if taken else "ok")
        if taken:
            log.warning("slots_lost", slots=len(taken), first=min(taken))
        self.valid_until, self._claim = sent + self.ttl, False
        self.live = renewed.live
        self._change(renewed.held)

    def _change(self, held: dict[int, int]) -> None:
        """Hold these leases from now on; what moved is told to the daemon in order (moves()),
        apart from the renewals, which a takeover of many domains must never hold up."""
        before = self.held
        if not held:  # everything let go here: whatever is still in flight must not land
            self._claim = True
        lost = [s for s, e in before.items() if held.get(s) != e]
        gained = [s for s, e in held.items() if before.get(s) != e]
        self.held = dict(held)
        if self.metrics is not None:
            self.metrics.slots_owned.set(len(held))
        if lost or gained:
            self._moves.put_nowait((lost, gained))
            moved = {"held": len(held), "lost": len(lost), "gained": len(gained)}
            log.info("slots_moved", **moved, replicas=len(self.live))

    def forget_all(self) -> None:
        """Let every slot go here (the daemon could not take them over): the next renewal
        finds them still this replica's and takes them over again."""
        self._change({})

    async def settle(self) -> None:
        """Tell the daemon of every move so far (start-up: before the first round)."""
        while not self._moves.empty():
            await self._tell(*self._moves.get_nowait())

    async def moves(self) -> None:
        """Tell the daemon of each move as it comes, in order: lost slots before gained ones."""
        while True:
            await self._tell(*await self._moves.get())

    async def _tell(self, lost: Sequence[int], gained: Sequence[int]) -> None:
        if lost and self.lost is not None:
            await self.lost(lost)
        if gained and self.gained is not None:
            await self.gained(gained)

    async def run(self, stopping: asyncio.Event, *, first_after: bool = False) -> None:
        """Renew every renew_interval until `stopping` (the first one at once, or after an
        interval when one was just made)."""
        if first_after:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), timeout=self.interval)
        while not stopping.is_set():
            await self.renew()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), timeout=self.interval)

    async def step_down(self) -> None:
        """Shutting down: free every slot at once (the others take them at their next round)."""
        self.held, self.valid_until = {}, 0.0
        try:
            await self.store.release_leases(self.replica)
        except Exception as exc:  # they run out by themselves
            log.warning("lease_release_failed", error=" ".join(str(exc).split())[:300])

    def _count(self, result: str) -> None:
        if self.metrics is not None:
            self.metrics.renewals.labels(result).inc()
