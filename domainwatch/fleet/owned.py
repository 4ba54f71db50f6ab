"""The part of a clustered fleet a replica exports (pure): the domains in the slots it holds.

Every replica keeps the whole fleet's state (its pages and API answer for all of it), but a
domain's series come from one replica at a time, the holder of its slot, so a fleet's sums
(`domainwatch_domains`, alert counts) add up across replicas without duplicates.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime

from domainwatch.fleet.fleet import Fleet
from domainwatch.state.domain import DomainTrack
from domainwatch.state.facts import DomainFacts
from domainwatch.state.fleet import Shape


class _OwnedTracks(Mapping[str, DomainTrack]):
    def __init__(self, fleet: Fleet) -> None:
        self.fleet = fleet

    def _owns(self, name: str) -> bool:
        owns = self.fleet.owns
        return owns is None or owns(name)

    def __getitem__(self, name: str) -> DomainTrack:
        if not self._owns(name):
            raise KeyError(name)
        return self.fleet.tracks[name]

    def __iter__(self) -> Iterator[str]:
        return (name for name in self.fleet.tracks if self._owns(name))

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self.fleet.tracks and self._owns(name)


class OwnedView:
    """The fleet as /metrics reads it (a FleetView): only the domains this replica holds."""

    def __init__(self, fleet: Fleet) -> None:
        self.fleet = fleet
        self._tracks = _OwnedTracks(fleet)

    @property
    def tracks(self) -> Mapping[str, DomainTrack]:
        return self._tracks if self.fleet.owns is not None else self.fleet.tracks

    @property
    def plans(self) -> Mapping[str, Shape]:
        return self.fleet.plans

    @property
    def facts(self) -> Mapping[str, DomainFacts]:
        return self.fleet.facts

    @property
    def shard(self) -> tuple[int, int]:
        return self.fleet.shard

    @property
    def last_reload_ok(self) -> bool:
        return self.fleet.last_reload_ok

    @property
    def last_reload_success_at(self) -> datetime:
        return self.fleet.last_reload_success_at
