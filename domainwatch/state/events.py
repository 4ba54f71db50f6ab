"""Events: the stored, numbered form of status changes (the unit of history and of webhooks).

Each domain numbers its events 1, 2, 3, ... (DomainTrack.sequence is the last number), so a
receiver can order them and see a gap. Numbering happens before anything is written, so
whatever a write carries (history rows, webhook bodies) is built before its transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from domainwatch.state.domain import Change, DomainTrack


@dataclass(frozen=True, slots=True)
class Event:
    id: str
    domain: str
    sequence: int
    kind: str  # "record" | "capability" | "domain"
    subject: str
    previous: str
    status: str
    at: datetime
    reason: str
    observations: Mapping[str, Any]


def number(
    track: DomainTrack, changes: Sequence[Change], new_id: Callable[[datetime], str]
) -> tuple[DomainTrack, list[Event]]:
    """The changes as the domain's next events, and the track that counts them (pure but for
    `new_id`, which draws each event's id from the moment it happened)."""
    if not changes:
        return track, []
    events = [
        Event(
            new_id(change.at),
            change.domain,
            track.sequence + offset,
            change.kind,
            change.subject,
            change.previous.value,
            change.status.value,
            change.at,
            change.reason,
            dict(change.observations),
        )
        for offset, change in enumerate(changes, start=1)
    ]
    return replace(track, sequence=events[-1].sequence), events
