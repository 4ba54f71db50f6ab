"""The fleet as readers see it: a read-only view of every domain's state, and the listener the
owner of that state (the daemon) tells of each change, so readers keep no scan of their own."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Protocol

from domainwatch.state.domain import DomainTrack, RecordSpec
from domainwatch.state.facts import DomainFacts
from domainwatch.state.rules import Rules


class Shape(Protocol):
    """What the config fixes about a domain's records (checks' DomainPlan is one)."""

    @property
    def specs(self) -> Sequence[RecordSpec]: ...

    @property
    def rules(self) -> Rules: ...

    @property
    def labels(self) -> Mapping[str, str]: ...  # the owner labels

    @property
    def compliance(self) -> Sequence[str]: ...  # the bulk-sender rule sets it is judged against


class FleetView(Protocol):
    """Read-only: a domain is exported when it has both a track and a shape (this replica
    checks it), in the order of `tracks`."""

    @property
    def tracks(self) -> Mapping[str, DomainTrack]: ...

    @property
    def plans(self) -> Mapping[str, Shape]: ...

    @property
    def facts(self) -> Mapping[str, DomainFacts]: ...

    @property
    def shard(self) -> tuple[int, int]: ...  # (this shard, how many)

    @property
    def last_reload_ok(self) -> bool: ...

    @property
    def last_reload_success_at(self) -> datetime: ...


class FleetListener(Protocol):
    def domains_changed(self, names: Iterable[str]) -> None:
        """These domains' track, shape or facts were replaced."""

    def fleet_changed(self) -> None:
        """Domains came, went or moved: read everything again."""


def status_counts(fleet: FleetView) -> Counter[str]:
    """The domains this replica exports (a track and a plan) by current status: what the
    overview counts, /metrics exports and the day's counts keep."""
    plans = fleet.plans
    return Counter(track.status.value for name, track in fleet.tracks.items() if name in plans)
