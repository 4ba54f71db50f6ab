"""A clustered daemon's duties beside checking (docs/ha.md): renewing its slot leases, taking
over and letting go of domains as slots move, following the other replicas' writes, and doing
the API writes they hand it.

The daemon stays the one that checks; this is the shell around it that talks to the cluster.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Sequence
from typing import Protocol

import structlog

from domainwatch.config.schema import Config
from domainwatch.daemon.cluster import Leases, LeaseStore
from domainwatch.daemon.drift_desk import DriftDesk
from domainwatch.daemon.handoff import Command, CommandStore, Handoff
from domainwatch.daemon.membership import Membership
from domainwatch.daemon.startup import FirstRound
from domainwatch.fleet.fleet import Fleet
from domainwatch.metrics.cluster import ClusterMetrics
from domainwatch.state.domain import DomainTrack
from domainwatch.store.base import Changed, Save
from domainwatch.store.batched import BatchedWrites

log = structlog.get_logger("domainwatch")
FOLLOW_EVERY = 1.0  # seconds between looks at the rows other replicas changed
LOOKBACK = 5_000_000  # microseconds: a row's change time is set before its transaction commits
WINDOWS_EVERY = 5  # follow rounds between reloads of the maintenance windows
PURGE_EVERY = 600  # follow rounds between purges of answered handed-off writes (10 minutes)


Load = Callable[[Sequence[str]], Awaitable[dict[str, DomainTrack]]]  # these domains, as stored


class ClusterStore(LeaseStore, CommandStore, Protocol):
    async def database_now(self) -> int: ...
    async def changed_since(
        self, since: int, wanted: Callable[[str, int], bool] | None = None
    ) -> Changed: ...
    async def purge_commands(self) -> int: ...
    async def load_named(self, names: Sequence[str]) -> dict[str, DomainTrack]: ...


class Host(Protocol):
    """What a replica asks of its daemon."""

    config: Config
    members: Membership
    fleet: Fleet
    writes: BatchedWrites
    drift: DriftDesk
    first_round: FirstRound
    on_slots: list[Callable[[Collection[int]], Awaitable[None]]]

    def wake(self) -> None: ...
    async def take_over(self, names: Collection[str], load: Load) -> None: ...
    async def execute(self, command: Command) -> Command: ...


class Replica:
    def __init__(self, daemon: Host, store: ClusterStore, metrics: ClusterMetrics | None) -> None:
        self.daemon, self.store, self.metrics = daemon, store, metrics
        self.leases = Leases(store, daemon.config.cluster, metrics)
        self.leases.gained, self.leases.lost = self._gained, self._lost
        self.handoff = Handoff(store, self.leases.replica, lambda: list(self.leases.held), daemon.execute)
        self._since = 0
        self._seen: dict[str, int] = {}  # the rows last looked at -> their change time
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._rounds = 0
        members = daemon.members
        members.owns, members.fence = self.leases.owns, self.leases.fence
        daemon.fleet.owns = self.leases.owns
        daemon.writes.on_fenced = self._fenced

    async def mark(self) -> None:
        """Before the daemon loads the store: where following the others' writes starts."""
        self._since = await self.store.database_now() - LOOKBACK

    async def join(self) -> None:
        """After the daemon applied its config (holding no slot, showing every domain as
        stored): a first share of the slots, taken over as any later one is."""
        await self.leases.renew()
        # Renewed from now on, while the takeover loads and plans its domains (at 100,000
        # domains that takes longer than a lease TTL).
        self._tasks = [asyncio.create_task(self.leases.run(self._stopping, first_after=True))]
        await self.leases.settle()
        log.info("replica_joined", replica=self.leases.replica, slots=len(self.leases.held))

    def start(self) -> None:
        if not self._tasks:  # (joined already: renewing)
            self._tasks = [asyncio.create_task(self.leases.run(self._stopping))]
        self._tasks += [
            asyncio.create_task(self._moving()),
            asyncio.create_task(self._follow_loop()),
            asyncio.create_task(self.handoff.serve(self._stopping)),
        ]

    async def _moving(self) -> None:
        """Slots taken over and let go, in order; a failure (the store, while loading a slot's
        domains) gives the slots up until the next renewal takes them again."""
        while True:
            try:
                await self.leases.moves()
            except Exception:
                log.exception("slot_move_failed")
                self.leases.forget_all()

    async def stop(self) -> None:
        self._stopping.set()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.leases.step_down()

    def holds(self, name: str) -> bool:
        return self.leases.owns(name)

    async def hand_off(self, name: str, command: Command) -> Command:
        """A write of another replica's domain, done by it; then its result followed here."""
        answer = await self.handoff.send(self.leases.slot(name), command)
        await self.follow()
        return answer

    # -- slots coming and going ---------------------------------------------------------------
    def _names_in(self, slots: Collection[int]) -> list[str]:
        wanted = set(slots)
        return [n for n in self.daemon.fleet.plans if self.leases.slot(n) in wanted]

    async def _gained(self, slots: Collection[int]) -> None:
        await self.daemon.take_over(self._names_in(slots), self.store.load_named)
        for listener in self.daemon.on_slots:
            await listener(slots)
        self.daemon.fleet.reshaped()
        self.daemon.wake()

    async def _lost(self, slots: Collection[int]) -> None:
        names = self._names_in(slots)
        self.daemon.members.lose(names)
        for name in names:  # readiness waits only for the domains this replica still holds
            self.daemon.first_round.discard(name)
        self.daemon.fleet.reshaped()

    def _fenced(self, refused: Collection[Save]) -> None:
        for save in refused:
            log.warning(
                "write_fenced",
                domain=save.track.name,
                slot=self.leases.slot(save.track.name),
                epoch=save.fence,
            )
        if self.metrics is not None:
            self.metrics.fenced_writes.inc(len(refused))

    # -- the other replicas' writes -----------------------------------------------------------
    async def follow(self) -> None:
        """Read the rows the others changed lately: looking LOOKBACK back each time (a row's time
        is set before its transaction commits), reading again only those changed since, and
        never this replica's own."""
        seen, owns = self._seen, self.leases.owns
        changed = await self.store.changed_since(self._since, lambda n, c: seen.get(n) != c and not owns(n))
        self._since = max(self._since, changed.newest - LOOKBACK)
        self._seen = changed.stamps
        self.daemon.members.follow(changed)

    async def _follow_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.follow()
                self._rounds += 1
                if self._rounds % WINDOWS_EVERY == 0:
                    await self.daemon.drift.load()
                if self._rounds % PURGE_EVERY == 0:
                    await self.store.purge_commands()
            except Exception as exc:  # the store unreachable: try again next round
                log.warning("follow_failed", error=" ".join(str(exc).split())[:300])
            await asyncio.sleep(FOLLOW_EVERY)
