"""Which domains a listing, a page or an export shows (pure): the filters their callers share."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

from domainwatch.config.plan import DomainPlan
from domainwatch.state.domain import DomainTrack
from domainwatch.state.rules import Status


@dataclass(frozen=True, slots=True)
class DomainFilter:
    """Each set field must hold (AND). `labels`: key -> the values admitted (any of them)."""

    status: Status | None = None
    query: str | None = None  # a part of the name
    source: str | None = None
    since: datetime | None = None  # the current status reached at or after
    labels: Mapping[str, frozenset[str]] = field(default_factory=lambda: MappingProxyType({}))

    def admits(self, name: str, track: DomainTrack, plan: DomainPlan) -> bool:
        if self.status is not None and track.status is not self.status:
            return False
        if self.query and self.query.strip().rstrip(".").lower() not in name:
            return False
        if self.source is not None and plan.source != self.source:
            return False
        if self.since is not None and (track.since is None or track.since < self.since):
            return False
        own = plan.config.labels
        return all(own.get(key) in values for key, values in self.labels.items())


EVERY_DOMAIN = DomainFilter()
