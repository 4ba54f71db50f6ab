"""Which domains a listing, a page or an export shows, and in what order (pure): the filters
their callers share, and keyset pages: a cursor holds the sort key of the last domain shown, so
the last page costs what the first does (no offset to skip through)."""

from __future__ import annotations

import base64
import binascii
import heapq
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

from domainwatch.config.plan import DomainPlan
from domainwatch.state.domain import DomainTrack, window_deadline
from domainwatch.state.facts import DomainFacts
from domainwatch.state.rules import Status

SORTS = ("name", "status", "status_since", "checked_at", "window_deadline")
ORDERS = ("asc", "desc")
CAPABILITIES = ("sending", "receiving")
_RANK = {status: rank for rank, status in enumerate(Status)}
_NO_FACTS = DomainFacts()
Key = tuple[int, float | int | str, str]  # (0 with a value, 1 without; the value; the name)


@dataclass(frozen=True, slots=True)
class DomainFilter:
    """Each set field must hold (AND); a set of values admits any of them (OR)."""

    statuses: frozenset[Status] = frozenset()
    query: str | None = None  # a part of the name
    source: str | None = None
    since: datetime | None = None  # the current status reached at or after
    labels: Mapping[str, frozenset[str]] = field(default_factory=lambda: MappingProxyType({}))
    capabilities: frozenset[str] = frozenset()
    findings: frozenset[str] = frozenset()  # error or warning finding codes

    def __post_init__(self) -> None:
        # Normalised once, not for each of the fleet's domains it is matched against.
        if self.query is not None:
            object.__setattr__(self, "query", self.query.strip().rstrip(".").lower() or None)

    def admits(self, name: str, track: DomainTrack, plan: DomainPlan, facts: DomainFacts | None) -> bool:
        if self.statuses and track.status not in self.statuses:
            return False
        if self.query and self.query not in name:
            return False
        if self.source is not None and plan.source != self.source:
            return False
        if self.since is not None and (track.since is None or track.since < self.since):
            return False
        if self.capabilities and not self.capabilities & track.capabilities.keys():
            return False
        if self.findings and not self.findings.intersection((facts or _NO_FACTS).codes):
            return False
        own = plan.config.labels
        return all(own.get(key) in values for key, values in self.labels.items())


EVERY_DOMAIN = DomainFilter()


@dataclass(frozen=True, slots=True)
class Page:
    sort: str = "name"
    order: str = "asc"
    limit: int = 1000
    offset: int = 0
    after: Key | None = None  # from a cursor: the key of the last domain of the previous page


def _moment(moment: datetime | None, name: str) -> Key:
    return (0, moment.timestamp(), name) if moment is not None else (1, 0, name)


KeyOf = Callable[[str, DomainTrack, DomainPlan], Key]
# Each sort's key of a domain; domains without the value (never checked) come last.
_KEYS: dict[str, KeyOf] = {
    "name": lambda name, track, plan: (0, "", name),
    "status": lambda name, track, plan: (0, _RANK[track.status], name),
    "status_since": lambda name, track, plan: _moment(track.since, name),
    "checked_at": lambda name, track, plan: _moment(track.checked_at, name),
    "window_deadline": lambda name, track, plan: _moment(
        window_deadline(track, plan.specs, plan.rules), name
    ),
}


def key_of(sort: str) -> KeyOf:
    return _KEYS[sort]


def sort_key(sort: str, name: str, track: DomainTrack, plan: DomainPlan) -> Key:
    """A domain's place in a sort (key_of(sort), for one domain)."""
    return _KEYS[sort](name, track, plan)


def page_of(keys: Sequence[Key], page: Page) -> tuple[list[str], Key | None]:
    """One page of the domains whose keys are given (in any order), in the page's order, and
    the key to continue after (None: the last page). `after` starts past that key, else
    `offset` skips. Only the page is ordered (a heap of offset + limit), never the whole fleet:
    the last page costs what the first does."""
    ascending = page.order == "asc"
    after = page.after
    if after is not None:
        keys = [k for k in keys if k > after] if ascending else [k for k in keys if k < after]
    wanted = page.offset + page.limit
    chosen = heapq.nsmallest(wanted, keys) if ascending else heapq.nlargest(wanted, keys)
    chunk = chosen[page.offset :]
    more = len(keys) > wanted
    return [key[2] for key in chunk], chunk[-1] if more and chunk else None


def cursor_of(page: Page, key: Key) -> str:
    """An opaque cursor: the sort, the order and the key to continue after."""
    text = json.dumps([page.sort, page.order, *key], separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def read_cursor(text: str, sort: str, order: str) -> Key:
    """The key a cursor holds, or ValueError (not ours, or made for another sort or order)."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise ValueError("not a cursor this server gave") from exc
    if not (isinstance(raw, list) and len(raw) == 5 and raw[:2] == [sort, order]):
        raise ValueError("made for another sort or order: ask the first page again")
    bucket, value, name = raw[2:]
    if bucket not in (0, 1) or not isinstance(value, int | float | str) or not isinstance(name, str):
        raise ValueError("not a cursor this server gave")
    return (bucket, value, name)
