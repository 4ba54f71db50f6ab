"""The stored state of a domain as a plain dict: what `status --format json` prints and what the
JSON API serves (one shape for both, so they always tell the same truth)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from domainwatch.state.domain import DomainTrack, RecordSpec, is_stale, window_deadline
from domainwatch.state.rules import RecordTrack, Rules


def iso(moment: datetime | None) -> str | None:
    """RFC 3339 in UTC with a Z, to the second: what people and Grafana read."""
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def domain_view(
    track: DomainTrack, specs: tuple[RecordSpec, ...], rules: Rules, results: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    """A domain's status, capabilities and records, with each record's last observation."""
    return {
        "name": track.name,
        "status": track.status.value,
        "status_since": iso(track.since),
        "window_deadline": iso(window_deadline(track, specs, rules)),
        "stale": is_stale(track, specs),
        "checked_at": iso(track.checked_at),
        "capabilities": {name: status.value for name, status in track.capabilities.items()},
        "records": [
            record_view(spec, track.records.get(spec.record, RecordTrack()), results.get(spec.record, {}))
            for spec in specs
        ],
    }


def record_view(spec: RecordSpec, record: RecordTrack, result: Mapping[str, Any]) -> dict[str, Any]:
    view: dict[str, Any] = {
        "record": spec.record,
        "status": record.status.value,
        "state": result.get("state"),
        "required": spec.capability is not None,
        "capability": spec.capability,
        "name": result.get("name"),
        "type": result.get("type"),
        "expected": result.get("expected"),
        "found": result.get("found", []),
        "findings": result.get("findings", []),
        "status_since": iso(record.since),
        "started_at": iso(record.started_at),
        "missing_since": iso(record.missing_since),
        "consecutive_misses": record.misses,
        "stale": record.stale,
        "checked_at": iso(record.checked_at),
    }
    if "nameservers" in result:
        view["nameservers"] = result["nameservers"]
    return view
