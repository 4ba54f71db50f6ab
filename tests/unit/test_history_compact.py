"""History kept small (fleet/history.py): found values stored once, as value sets, by digest."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from domainwatch.fleet.history import compact
from domainwatch.state.events import Event

T0 = datetime(2026, 12, 7, tzinfo=UTC)
KEY = "v=DKIM1; p=" + "A" * 400


def event(n: int, kind: str, observations: dict[str, object]) -> Event:
    return Event(f"e{n}", "example.com", n, kind, "x", "pending", "verified", T0, "found", observations)


def test_each_distinct_found_list_is_one_set_named_by_every_event() -> None:
    summary = {"observation": "found", "state": "present", "found": [KEY], "findings": []}
    events = [
        event(1, "record", {"dkim:s1": summary}),
        event(2, "capability", {"dkim:s1": summary, "spf": {**summary, "found": []}}),
        event(3, "domain", {"dkim:s1": summary}),
        event(4, "lifecycle", {"by": "ops"}),
    ]
    kept, sets = compact(events)
    (name,) = sets
    assert json.loads(sets[name]) == {"values": [KEY]}
    assert [e.observations["dkim:s1"]["found_set"] for e in kept[:3]] == [name] * 3
    assert all("found" not in e.observations["dkim:s1"] for e in kept[:3])
    assert kept[1].observations["spf"]["found"] == []  # nothing to name: kept as it is
    assert kept[3] is events[3]
    assert (
        sum(len(json.dumps(e.observations)) for e in kept)
        < sum(len(json.dumps(e.observations)) for e in events) / 3
    )
