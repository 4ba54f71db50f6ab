"""History kept small (pure): an event's observations name the values each record was found
with by their value set (stored once per distinct set, checks/drift.py's digests), not the
values themselves. A domain's status change repeats every record's observation, and a DKIM key
is hundreds of characters: as text, the history was most of the store (docs/performance.md).
The daemon's history readers put the values back (daemon/drift_desk.py)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from domainwatch.checks.drift import digest
from domainwatch.state.events import Event

OBSERVED = ("record", "capability", "domain")  # the kinds whose observations hold records' summaries


def compact(events: Sequence[Event]) -> tuple[list[Event], dict[str, str]]:
    """The events with each summary's `found` list as `found_set`, and the sets they name."""
    sets: dict[str, str] = {}
    out = []
    for event in events:
        if event.kind not in OBSERVED or not any(_found(s) for s in event.observations.values()):
            out.append(event)
            continue
        observations: dict[str, Any] = {}
        for record, summary in event.observations.items():
            if not _found(summary):
                observations[record] = summary
                continue
            text = json.dumps({"values": summary["found"]}, separators=(",", ":"))
            sets[name := digest(text)] = text
            observations[record] = {k: v for k, v in summary.items() if k != "found"} | {"found_set": name}
        out.append(replace(event, observations=observations))
    return out, sets


def _found(summary: object) -> bool:
    return isinstance(summary, dict) and isinstance(summary.get("found"), list) and bool(summary["found"])
