"""A domain's status over time (pure): a lane for the domain, each capability and each record
over the last 7 days (or since its first event), as segments of one status each, the stale
periods, each change (a link to its history row), each change of what a record publishes (a
diamond, by direction) and the window deadline. The page draws it
as inline SVG (templates/timeline.html); the same data is its table for screen readers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

DAYS = 7
WIDTH, LABELS, LANE, GAP, TOP = 900, 190, 16, 6, 18  # the drawing's geometry (SVG user units)


@dataclass(frozen=True, slots=True)
class Segment:
    start: datetime
    end: datetime
    status: str
    x: float = 0.0
    width: float = 0.0


@dataclass(frozen=True, slots=True)
class Change:
    at: datetime
    event_id: str
    previous: str
    status: str
    x: float = 0.0


@dataclass(frozen=True, slots=True)
class Edit:
    """A change of what the lane's record publishes (a `change` event: drift)."""

    at: datetime
    event_id: str
    direction: str  # weakening | strengthening | mixed | neutral
    reason: str
    x: float = 0.0


@dataclass(slots=True)
class Lane:
    label: str
    segments: list[Segment] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    edits: list[Edit] = field(default_factory=list)
    y: float = 0.0


@dataclass(slots=True)
class Timeline:
    start: datetime
    now: datetime
    end: datetime  # now, or the window deadline when it falls within the next DAYS
    lanes: list[Lane]
    stale: list[Segment]  # periods when lookups failed (drawn hatched over the domain's lane)
    deadline: datetime | None
    deadline_x: float | None = None
    height: float = 0.0
    ticks: list[tuple[float, str]] = field(default_factory=list)  # (x, day label)


def timeline(view: Mapping[str, Any], events: Sequence[Mapping[str, Any]], now: datetime) -> Timeline:
    """The timeline of a domain view (present/views.py) from its history (event_view dicts,
    any order): each lane's status before its first change in the range is that change's
    `previous`; a lane without a change held its current status throughout."""
    ordered = sorted((e for e in events if e.get("at")), key=lambda e: (e["at"], e["sequence"]))
    start = now - timedelta(days=DAYS)
    first = ordered[0] if ordered else None
    if first is not None and first["sequence"] <= 1 and _at(first) > start:
        start = _at(first)  # the domain is younger than the range
    deadline = _parse(view.get("window_deadline"))
    end = deadline if deadline is not None and now < deadline <= now + timedelta(days=DAYS) else now
    current = {"domain": view["status"], **dict(view.get("capabilities") or {})}
    current |= {r["record"]: r["status"] for r in view.get("records") or ()}
    lanes = [_lane(label, status, ordered, start, now) for label, status in current.items()]
    drawn = Timeline(start, now, end, lanes, _stale(ordered, start, now), deadline)
    return _placed(drawn)


def _at(event: Mapping[str, Any]) -> datetime:
    moment = _parse(event["at"])
    assert moment is not None
    return moment


def _parse(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _subject(event: Mapping[str, Any]) -> str | None:
    """The lane an event changes: the domain's, a capability's or a record's."""
    if event["kind"] == "domain":
        return "domain"
    return str(event["subject"]) if event["kind"] in ("capability", "record") else None


def _lane(
    label: str, status: str, events: Sequence[Mapping[str, Any]], start: datetime, now: datetime
) -> Lane:
    mine = [e for e in events if _subject(e) == label and start <= _at(e) <= now]
    lane = Lane(label)
    moment, held = start, (mine[0]["previous"] if mine else status)
    for event in mine:
        at = _at(event)
        if at > moment:
            lane.segments.append(Segment(moment, at, held))
        lane.changes.append(Change(at, event["id"], event["previous"], event["status"]))
        moment, held = at, event["status"]
    if now > moment:
        lane.segments.append(Segment(moment, now, held))
    lane.edits = [
        Edit(_at(e), e["id"], str(e.get("observations", {}).get("direction", "neutral")), str(e["reason"]))
        for e in events
        if e["kind"] == "change" and e["subject"] == label and start <= _at(e) <= now
    ]
    return lane


def _stale(events: Sequence[Mapping[str, Any]], start: datetime, now: datetime) -> list[Segment]:
    periods, began = [], None
    for event in events:
        if event["kind"] != "stale":
            continue
        at = max(_at(event), start)
        if event["subject"] == "entered":
            began = began or at
        elif event["subject"] == "left":
            periods.append(Segment(began or start, at, "stale"))
            began = None
    if began is not None:
        periods.append(Segment(began, now, "stale"))
    return [p for p in periods if p.end > start]


def _placed(drawn: Timeline) -> Timeline:
    """The drawing's coordinates: time runs left to right over WIDTH - LABELS units."""
    span = max((drawn.end - drawn.start).total_seconds(), 1.0)

    def x(moment: datetime) -> float:
        return round(LABELS + (WIDTH - LABELS) * (moment - drawn.start).total_seconds() / span, 1)

    for index, lane in enumerate(drawn.lanes):
        lane.y = TOP + index * (LANE + GAP)
        lane.segments = [
            Segment(s.start, s.end, s.status, x(s.start), max(x(s.end) - x(s.start), 0.5))
            for s in lane.segments
        ]
        lane.changes = [Change(c.at, c.event_id, c.previous, c.status, x(c.at)) for c in lane.changes]
        lane.edits = [Edit(e.at, e.event_id, e.direction, e.reason, x(e.at)) for e in lane.edits]
    drawn.stale = [
        Segment(s.start, s.end, s.status, x(s.start), max(x(s.end) - x(s.start), 0.5)) for s in drawn.stale
    ]
    drawn.deadline_x = (
        x(drawn.deadline) if drawn.deadline is not None and drawn.deadline <= drawn.end else None
    )
    drawn.height = TOP + len(drawn.lanes) * (LANE + GAP)
    day = drawn.start.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    while day < drawn.end:
        drawn.ticks.append((x(day), day.strftime("%b %d")))
        day += timedelta(days=1)
    return drawn
