"""The storage seam: what every store keeps and answers, and the values that cross it.

A store is a pure sink and a reader: everything it writes (states, events, webhook bodies) is
built before the write, and it calls nothing back. SQLite (sqlite.py) is the implementation the
daemon uses; domainwatch.testing.MemoryStore is another, and tests/store_contract.py is the one
suite both pass. A store for another database is one module that passes it too.

Writes are atomic per call: a `save_many` writes every save or none, and each delivery step is
committed before the next (so a crash re-sends a delivery rather than losing it).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from domainwatch.state.domain import DomainTrack
from domainwatch.state.events import Event
from domainwatch.state.facts import DomainFacts
from domainwatch.state.windows import MaintenanceWindow

Results = Mapping[str, Mapping[str, Any]]  # record id -> RecordResult.as_dict()


class StoreError(Exception):
    """The store cannot be used (unreadable, corrupt, or from a newer domainwatch)."""


def check_schema(where: str, version: int, current: int, *, readonly: bool) -> bool:
    """Whether a store at schema `version` needs migrating to `current`; StoreError when it is
    newer than this domainwatch, or when a reader (`readonly`) finds it not migrated yet."""
    if version > current:
        newer = f"schema version {version} is newer than this domainwatch ({current})"
        raise StoreError(f"{where}: {newer}; upgrade domainwatch")
    if readonly and version != current:
        raise StoreError(f"{where}: schema version {version}; start the daemon once to migrate")
    return version < current


@dataclass(frozen=True, slots=True)
class StoredDocument:
    """An API-managed domain's document, as written (config/document.py)."""

    name: str
    body: Mapping[str, Any]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    """The answer to a create call, kept under its Idempotency-Key so a retry gets it again."""

    key: str  # the caller's token name and the key it sent
    request: str  # a digest of the request body: the same key with another body is refused
    status: int
    body: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class DocumentWrite:
    """What an API write changes beside the domain's state, in the same transaction."""

    document: StoredDocument | None  # the domain's document now; None: it has none (any more)
    removed_at: datetime | None = None  # deleted: no longer current (kept for storage.retention)
    answer: StoredAnswer | None = None


@dataclass(frozen=True, slots=True)
class Save:
    """One domain's new state, the events that led to it and (after a check) its results."""

    track: DomainTrack
    events: Sequence[Event] = ()
    results: Results | None = None
    # Webhook body snapshots by event id (only events to be delivered), kept in the outbox.
    payloads: Mapping[str, Mapping[str, Any]] | None = None
    facts: DomainFacts | None = None  # distilled from `results`
    # The domain's state as stored before this save, when known: rows it already holds need
    # not be written again, and only a record it has and the new state lacks needs deleting.
    stored: DomainTrack | None = None
    write: DocumentWrite | None = None  # an API create, update or delete, or a config takeover
    # Value sets (fleet/drift.py) first seen by this save, digest -> body; kept once each.
    value_sets: Mapping[str, str] | None = None
    # The lease epoch of the domain's slot this state was made under (a clustered replica's
    # writes): the store refuses the save when the slot has another epoch now (docs/ha.md).
    fence: int | None = None


@dataclass(frozen=True, slots=True)
class LeaseRound:
    """What one renewal left this replica holding: slot -> epoch, and the live replicas."""

    held: dict[int, int]
    live: tuple[str, ...]
    released: tuple[int, ...] = ()  # given up to replicas below their share


@dataclass(slots=True)
class Changed:
    """Domains whose rows changed since a time: their state, facts and documents (None: none
    any more), and the newest change time seen (where the next look starts)."""

    tracks: dict[str, DomainTrack] = field(default_factory=dict)
    facts: dict[str, DomainFacts] = field(default_factory=dict)
    removed: set[str] = field(default_factory=set)
    documents: dict[str, StoredDocument | None] = field(default_factory=dict)
    newest: int = 0
    stamps: dict[str, int] = field(default_factory=dict)  # every name looked at -> its change time


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """An event's webhook body, waiting to be fanned out to the endpoints that want it."""

    event_id: str
    domain: str
    sequence: int
    payload: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class NewDelivery:
    endpoint: str
    type: str
    body: str  # the exact bytes every attempt sends (and signs)


@dataclass(frozen=True, slots=True)
class Delivery:
    endpoint: str
    event_id: str
    domain: str
    sequence: int
    type: str
    body: str
    state: str  # pending | delivered | dead
    attempts: int
    next_attempt_at: datetime
    last_status: int | None
    last_error: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class QueueStats:
    pending: int
    oldest_pending: datetime | None
    dead: int


class StateStore(Protocol):
    async def load(self, *, include_removed: bool = False) -> dict[str, DomainTrack]:
        """Every domain's state (removed ones too if asked), records in their stored order."""

    async def facts(self, distill: Callable[[Results], DomainFacts]) -> dict[str, DomainFacts]:
        """Every current domain's facts; `distill` makes them from the stored results where a
        store from before facts were kept has none."""

    async def results(self, domain: str) -> dict[str, dict[str, Any]]:
        """The domain's last stored result per record."""

    async def track(self, name: str) -> DomainTrack | None:
        """One domain's state, current or removed (a name created again after a delete)."""

    async def documents(self) -> dict[str, StoredDocument]:
        """The documents of API-managed domains, by name."""

    async def answer(self, key: str) -> StoredAnswer | None:
        """The answer kept for an idempotency key."""

    async def purge_answers(self, before: datetime) -> int:
        """Forget answers kept since before `before`."""

    async def save_many(self, saves: Sequence[Save]) -> Sequence[Save]:
        """Write the saves in order, all or none, except the fenced ones: a save whose `fence`
        is not its slot's lease epoch now is refused, unwritten. The refused saves."""

    async def mark_removed(self, names: Sequence[str], now: datetime) -> None:
        """Stop treating these domains as current (their state is kept until purged)."""

    async def purge_removed(self, before: datetime) -> list[str]:
        """Forget domains removed before `before`, with their history and deliveries."""

    async def value_sets(self, digests: Sequence[str]) -> dict[str, str]:
        """The stored value sets of these digests (those known), digest -> body."""

    async def windows(self) -> list[MaintenanceWindow]:
        """Every stored maintenance window, by when it ends."""

    async def save_window(self, window: MaintenanceWindow) -> None:
        """Keep a maintenance window (at most MAX_WINDOWS: StoreError beyond)."""

    async def delete_window(self, window_id: str) -> bool:
        """Forget a window; whether there was one."""


class HistoryStore(Protocol):
    async def history(self, domain: str | None = None, *, limit: int = 1000) -> list[Event]:
        """The newest events first (of one domain, or of all)."""

    def iter_history(self, since: datetime | None = None, batch: int = 500) -> AsyncIterator[Event]:
        """Every event since `since`, oldest first, in constant memory."""

    async def purge_history(self, before: datetime) -> int:
        """Forget events older than `before`, except those still to be delivered (and the day
        counts of days before it, the windows that ended before it, and the value sets nothing
        names any more)."""

    async def save_day_counts(self, day: str, counts: Mapping[str, int]) -> None:
        """The fleet's domains by status on `day` (YYYY-MM-DD, UTC), replacing that day's."""

    async def day_counts(self, since: str) -> dict[str, dict[str, int]]:
        """day -> status -> domains, for the days from `since` on."""


class DeliveryStore(Protocol):
    """The webhook queue: the outbox of new events, and per endpoint their deliveries."""

    async def outbox(self, limit: int = 1000, slots: Sequence[int] | None = None) -> list[OutboxEntry]:
        """Events waiting to be fanned out, oldest first (of the domains in `slots`, when
        given: a clustered replica's; state/slots.py)."""

    async def fan_out(
        self, fanned: Sequence[tuple[OutboxEntry, Sequence[NewDelivery]]], now: datetime
    ) -> None:
        """Queue each event's deliveries and take it off the outbox, all atomically (an
        endpoint's existing delivery of an event is kept)."""

    async def due(
        self, endpoint: str, now: datetime, limit: int = 100, slots: Sequence[int] | None = None
    ) -> list[Delivery]:
        """Deliveries to attempt now: of each domain only its oldest pending one."""

    async def next_due(self, endpoints: Sequence[str], slots: Sequence[int] | None = None) -> datetime | None:
        """When the next attemptable delivery falls due (heads of line only)."""

    async def start_attempt(self, delivery: Delivery, now: datetime, fence: int | None = None) -> bool:
        """Mark in flight and count the attempt (committed before the request is sent); False
        (nothing marked) when `fence` is not the domain's slot's lease epoch any more, or
        another replica has it in flight."""

    async def settle(
        self,
        delivery: Delivery,
        state: str,
        now: datetime,
        *,
        next_at: datetime | None,
        status: int | None,
        error: str | None,
    ) -> None:
        """Record an attempt's result: delivered, pending again (at next_at), or dead."""

    async def recover(
        self, now: datetime, slots: Sequence[int] | None = None, started_before: datetime | None = None
    ) -> int:
        """After a crash: deliveries left in flight are due again now (same event id). A
        clustered replica's share (`slots`), and only attempts started before `started_before`
        (abandoned by a replica that died)."""

    async def replay(self, event_id: str, now: datetime) -> int:
        """Send an event again to every endpoint it went to (dead-lettered or delivered)."""

    async def deliveries(self, state: str | None = None, limit: int = 1000) -> list[Delivery]:
        """Deliveries (in one state, or all), oldest first."""

    async def sync_endpoints(self, endpoints: Sequence[tuple[str, str]]) -> None:
        """Know each endpoint (name, url); a changed URL re-enables a disabled one."""

    async def disable(self, name: str, reason: str, now: datetime) -> None: ...

    async def disabled(self) -> dict[str, str]:
        """Disabled endpoints and why."""

    async def queue_stats(self) -> dict[str, QueueStats]:
        """Per endpoint with deliveries: pending count, oldest pending, dead letters."""

    async def purge_finished(self, before: datetime) -> int:
        """Forget deliveries delivered before `before` (dead letters are kept)."""


class Store(StateStore, HistoryStore, DeliveryStore, Protocol):
    @property
    def is_open(self) -> bool: ...

    async def close(self) -> None: ...
