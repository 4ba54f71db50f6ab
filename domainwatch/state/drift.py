"""What drift remembers of one record between checks (stored with the record's state).

`published` names the last conclusive snapshot of what the record publishes (its value set,
stored once per distinct set: fleet/drift.py makes them); `since` is when that snapshot was first
seen, continuously since (a DKIM key's first-seen time, a `next` key's readiness clock);
`pinned` the snapshot a pin holds the record to; `role` the DKIM role it was last checked under
and `role_since` when it took that role; `weakened_at` its last weakening change.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
CHANGE = "change"  # the Event.kind of a record.changed event
ACKNOWLEDGED = "acknowledged"  # the Event.kind of a pin's acknowledgement
ACTIVE = "active"
ROLES = (ACTIVE, "next", "retiring")


@dataclass(frozen=True, slots=True)
class RecordDrift:
    published: str | None = None
    since: datetime | None = None
    pinned: str | None = None
    role: str = ACTIVE
    role_since: datetime | None = None
    weakened_at: datetime | None = None


NO_DRIFT = RecordDrift()


def _micros(moment: datetime | None) -> int | None:
    return None if moment is None else (moment - _EPOCH) // _MICROSECOND


def _moment(value: object) -> datetime | None:
    return _EPOCH + int(value) * _MICROSECOND if isinstance(value, int) else None


def drift_json(drift: RecordDrift) -> str | None:
    """The stored form (None: nothing known yet, so no column to write)."""
    if drift == NO_DRIFT:
        return None
    kept = {
        "published": drift.published,
        "since": _micros(drift.since),
        "pinned": drift.pinned,
        "role": drift.role if drift.role != ACTIVE else None,
        "role_since": _micros(drift.role_since),
        "weakened_at": _micros(drift.weakened_at),
    }
    return json.dumps({k: v for k, v in kept.items() if v is not None}, sort_keys=True)


@functools.lru_cache(maxsize=4096)
def drift_from_json(text: str | None) -> RecordDrift:
    """A stored column (None or unreadable: nothing known). Cached: many records store the same
    (a migration's first-seen time, and no values yet)."""
    if not text:
        return NO_DRIFT
    try:
        kept = json.loads(text)
    except ValueError:
        return NO_DRIFT
    if not isinstance(kept, dict):
        return NO_DRIFT
    published, pinned, role = kept.get("published"), kept.get("pinned"), kept.get("role")
    return RecordDrift(
        published if isinstance(published, str) else None,
        _moment(kept.get("since")),
        pinned if isinstance(pinned, str) else None,
        role if role in ROLES else ACTIVE,
        _moment(kept.get("role_since")),
        _moment(kept.get("weakened_at")),
    )
