"""The status timeline (present/timeline.py): lanes built from a scripted history (a flap, a
stale period, a deadline) hold exactly the statuses the history says, in order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from domainwatch.present.timeline import timeline

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def event(n: int, hours_ago: float, kind: str, subject: str, change: str) -> dict[str, Any]:
    """`change`: "previous>status"."""
    previous, _, status = change.partition(">")
    at = (NOW - timedelta(hours=hours_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "id": f"e{n}",
        "sequence": n,
        "kind": kind,
        "subject": subject,
        "previous": previous,
        "status": status,
        "at": at,
    }


HISTORY = [
    event(1, 30, "domain", "a.example", "not_started>pending"),
    event(2, 30, "record", "spf", "not_started>pending"),
    event(3, 29, "record", "spf", "pending>verified"),
    event(4, 29, "domain", "a.example", "pending>verified"),
    event(5, 5, "record", "spf", "verified>temporary_failure"),
    event(6, 5, "domain", "a.example", "verified>temporary_failure"),
    event(7, 4.9, "record", "spf", "temporary_failure>verified"),
    event(8, 4.9, "domain", "a.example", "temporary_failure>verified"),
    event(9, 3, "stale", "entered", "verified>verified"),
    event(10, 2, "stale", "left", "verified>verified"),
    event(11, 1, "record", "spf", "verified>temporary_failure"),
    event(12, 1, "domain", "a.example", "verified>temporary_failure"),
]
VIEW = {
    "name": "a.example",
    "status": "temporary_failure",
    "window_deadline": (NOW + timedelta(hours=71)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    "capabilities": {"sending": "verified"},
    "records": [
        {"record": "spf", "status": "temporary_failure"},
        {"record": "dkim:s1", "status": "verified"},
    ],
}


def test_each_lane_follows_its_history() -> None:
    drawn = timeline(VIEW, list(reversed(HISTORY)), NOW)  # newest first, as the API gives it
    lanes = {lane.label: [s.status for s in lane.segments] for lane in drawn.lanes}
    assert ["pending", "verified", "temporary_failure", "verified", "temporary_failure"] == lanes["domain"]
    assert lanes["spf"] == lanes["domain"]
    assert ["verified"] == lanes["sending"] == lanes["dkim:s1"]  # no change in range: held throughout
    assert NOW - timedelta(hours=30) == drawn.start  # younger than 7 days: since its first event
    assert [("e5", "temporary_failure")] == [
        (c.event_id, c.status) for c in drawn.lanes[2].changes if c.event_id == "e5"
    ]


def test_stale_periods_and_the_deadline_are_placed() -> None:
    drawn = timeline(VIEW, HISTORY, NOW)
    [stale] = drawn.stale
    assert (NOW - timedelta(hours=3), NOW - timedelta(hours=2)) == (stale.start, stale.end)
    assert drawn.deadline is not None
    assert drawn.deadline_x is not None
    assert drawn.end == drawn.deadline  # within 7 days: the range reaches it
    xs = [s.x for s in drawn.lanes[0].segments]
    assert xs == sorted(xs)


def test_a_domain_without_history_holds_its_status() -> None:
    drawn = timeline({"name": "b.example", "status": "verified", "records": []}, [], NOW)
    assert [["verified"]] == [[s.status for s in lane.segments] for lane in drawn.lanes]
    assert NOW - timedelta(days=7) == drawn.start


def test_changes_of_what_a_record_publishes_are_diamonds_on_its_lane() -> None:
    """A `change` event (drift) marks its record's lane, by direction; the statuses stand."""
    drift = event(13, 0.5, "change", "dkim:s1", "verified>verified") | {
        "reason": "weakening: dkim_key_shorter",
        "observations": {"direction": "weakening"},
    }
    drawn = timeline(VIEW, [*HISTORY, drift], NOW)
    lanes = {lane.label: lane for lane in drawn.lanes}
    assert [("e13", "weakening")] == [(e.event_id, e.direction) for e in lanes["dkim:s1"].edits]
    assert ["verified"] == [s.status for s in lanes["dkim:s1"].segments]
    assert lanes["dkim:s1"].edits[0].x > lanes["spf"].changes[-1].x  # placed in time
    assert not lanes["spf"].edits
