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
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import MappingProxyType

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
DIGEST_BYTES = 12  # of a value set's digest (checks/drift.py: 24 hexadecimal digits)
_NONE = bytes(DIGEST_BYTES)
_IDS: dict[tuple[str, ...], tuple[str, ...]] = {}
NO_RECORDS: Mapping[str, RecordDrift] = MappingProxyType({})


class DriftTable(Mapping[str, RecordDrift]):
    """A domain's drift, packed: every record's digest in one bytes object and its first-seen
    time in one tuple; a record with more to remember (a pin, a role, a weakening) kept whole.
    Half a million RecordDrift objects with their digests cost 96 MB at 100,000 domains; packed
    they cost about a quarter of that (docs/performance.md)."""

    __slots__ = ("_digests", "_extra", "_ids", "_since")

    def __init__(self, drift: Mapping[str, RecordDrift]) -> None:
        plain = {r: d for r, d in drift.items() if _packable(d)}
        ids = tuple(plain)
        self._ids = _IDS.setdefault(ids, ids) if len(_IDS) < 4096 else ids  # a fleet has a few
        self._digests = b"".join(bytes.fromhex(d.published) if d.published else _NONE for d in plain.values())
        self._since = tuple(d.since for d in plain.values())
        extra = {r: d for r, d in drift.items() if r not in plain}
        self._extra = extra or None

    def __getitem__(self, record: str) -> RecordDrift:
        if self._extra is not None and record in self._extra:
            return self._extra[record]
        try:
            index = self._ids.index(record)
        except ValueError:
            raise KeyError(record) from None
        raw = self._digests[index * DIGEST_BYTES : (index + 1) * DIGEST_BYTES]
        return RecordDrift(raw.hex() if raw != _NONE else None, self._since[index])

    def __iter__(self) -> Iterator[str]:
        yield from self._ids
        yield from self._extra or ()

    def __len__(self) -> int:
        return len(self._ids) + len(self._extra or ())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DriftTable) and self._ids is other._ids:  # the same records, in order
            return (self._digests, self._since, self._extra) == (other._digests, other._since, other._extra)
        return isinstance(other, Mapping) and dict(self.items()) == dict(other.items())

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"DriftTable({dict(self.items())!r})"


def remembers_more(drift: Mapping[str, RecordDrift]) -> bool:
    """Whether some record holds more than its digest and time (a pin, a role, a weakening):
    its findings then depend on the config and the time, not only on the answers."""
    if isinstance(drift, DriftTable):
        return drift._extra is not None
    return any(not _packable(d) for d in drift.values())


def _packable(drift: RecordDrift) -> bool:
    """Only a digest and a time: what nearly every record holds."""
    if drift.pinned is not None or drift.role != ACTIVE or drift.role_since or drift.weakened_at:
        return False
    published = drift.published
    return published is None or (len(published) == 2 * DIGEST_BYTES and _is_hex(published))


def _is_hex(text: str) -> bool:
    try:
        bytes.fromhex(text)
    except ValueError:
        return False
    return True


def packed(drift: Mapping[str, RecordDrift]) -> Mapping[str, RecordDrift]:
    """The drift as a DriftTable (an empty one as the shared empty mapping)."""
    return DriftTable(drift) if drift else NO_RECORDS


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
