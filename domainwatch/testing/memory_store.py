"""A Store kept in memory: for tests of code above the store, and the second implementation the
store contract suite (tests/unit/test_store_contract.py) runs against. Nothing survives the
process. The engine is synchronous; MemoryStore runs its calls inline behind the async Store."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from domainwatch.state.domain import DomainTrack
from domainwatch.state.events import Event
from domainwatch.state.facts import DomainFacts
from domainwatch.state.windows import MAX_WINDOWS, MaintenanceWindow
from domainwatch.store.base import (
    Delivery,
    DocumentWrite,
    NewDelivery,
    OutboxEntry,
    QueueStats,
    Results,
    Save,
    StoredAnswer,
    StoredDocument,
    StoreError,
)
from domainwatch.store.engine import EngineStore
from domainwatch.store.rows import set_values, to_micros


@dataclass
class _Domain:
    track: DomainTrack
    facts: DomainFacts | None = None
    results: dict[str, dict[str, Any]] | None = None
    removed_at: datetime | None = None


@dataclass
class _Queued:
    delivery: Delivery
    in_flight: bool = False
    finished_at: datetime | None = None


class MemoryEngine:
    def __init__(self) -> None:
        self._domains: dict[str, _Domain] = {}
        self._history: dict[str, Event] = {}
        self._outbox: dict[str, OutboxEntry] = {}
        self._queue: dict[tuple[str, str], _Queued] = {}
        self._endpoints: dict[str, tuple[str, str | None]] = {}  # name -> (url, disabled reason)
        self._documents: dict[str, StoredDocument] = {}
        self._answers: dict[str, StoredAnswer] = {}
        self._days: dict[str, dict[str, int]] = {}  # day -> status -> domains
        self._sets: dict[str, tuple[str, int]] = {}  # value sets, digest -> (body, used_at)
        self._windows: dict[str, MaintenanceWindow] = {}
        self._open = True

    @property
    def is_open(self) -> bool:
        return self._open

    def close(self) -> None:
        self._open = False

    # -- state --------------------------------------------------------------------------------
    def load(self, *, include_removed: bool = False) -> dict[str, DomainTrack]:
        return {name: d.track for name, d in self._domains.items() if include_removed or d.removed_at is None}

    def facts(self, distill: Callable[[Results], DomainFacts]) -> dict[str, DomainFacts]:
        return {
            name: d.facts if d.facts is not None else distill(d.results or {})
            for name, d in self._domains.items()
            if d.removed_at is None
        }

    def results(self, domain: str) -> dict[str, dict[str, Any]]:
        stored = self._domains.get(domain)
        return copy.deepcopy(stored.results or {}) if stored else {}

    def track(self, name: str) -> DomainTrack | None:
        stored = self._domains.get(name)
        return stored.track if stored else None

    def documents(self) -> dict[str, StoredDocument]:
        return dict(self._documents)

    def answer(self, key: str) -> StoredAnswer | None:
        return self._answers.get(key)

    def purge_answers(self, before: datetime) -> int:
        gone = [k for k, a in self._answers.items() if a.created_at < before]
        for key in gone:
            del self._answers[key]
        return len(gone)

    def save_many(self, saves: Sequence[Save]) -> None:
        before = (
            copy.copy(self._domains),
            dict(self._history),
            dict(self._outbox),
            dict(self._documents),
            dict(self._answers),
            dict(self._sets),
        )
        try:
            for save in saves:
                self._save(save)
        except BaseException:  # all or none
            self._domains, self._history, self._outbox, self._documents, self._answers, self._sets = before
            raise

    def _save(self, save: Save) -> None:
        for digest, body, used in set_values(save):
            kept = self._sets.get(digest)
            self._sets[digest] = (kept[0] if kept else body, max(used, kept[1] if kept else 0))
        old = self._domains.get(save.track.name)
        results = {k: v for k, v in (old.results or {}).items() if k in save.track.records} if old else {}
        results.update({k: copy.deepcopy(dict(v)) for k, v in (save.results or {}).items()})
        facts = save.facts if save.facts is not None else (old.facts if old else None)
        self._domains[save.track.name] = _Domain(save.track, facts, results)
        if save.write is not None:
            self._write(save.track.name, save.write)
        for event in save.events:
            self._history[event.id] = event
            payload = (save.payloads or {}).get(event.id)
            if payload is not None:
                self._outbox[event.id] = OutboxEntry(event.id, event.domain, event.sequence, payload)

    def _write(self, name: str, write: DocumentWrite) -> None:
        if write.document is None:
            self._documents.pop(name, None)
        else:
            self._documents[name] = write.document
        self._domains[name].removed_at = write.removed_at
        if write.answer is not None:
            if write.answer.key in self._answers:
                raise ValueError(f"an answer is already kept for {write.answer.key!r}")
            self._answers[write.answer.key] = write.answer

    def mark_removed(self, names: Sequence[str], now: datetime) -> None:
        for name in names:
            stored = self._domains.get(name)
            if stored is not None and stored.removed_at is None:
                stored.removed_at = now

    def purge_removed(self, before: datetime) -> list[str]:
        names = [n for n, d in self._domains.items() if d.removed_at is not None and d.removed_at < before]
        for name in names:
            del self._domains[name]
            self._history = {k: e for k, e in self._history.items() if e.domain != name}
            self._outbox = {k: e for k, e in self._outbox.items() if e.domain != name}
            self._queue = {k: q for k, q in self._queue.items() if q.delivery.domain != name}
        return names

    # -- history ------------------------------------------------------------------------------
    def history(self, domain: str | None = None, *, limit: int = 1000) -> list[Event]:
        events = [e for e in self._history.values() if domain is None or e.domain == domain]
        return sorted(events, key=lambda e: (e.at, e.sequence, e.id), reverse=True)[:limit]

    def iter_history(self, since: datetime | None = None, batch: int = 500) -> Iterator[Event]:
        events = [e for e in self._history.values() if since is None or e.at >= since]
        yield from sorted(events, key=lambda e: (e.at, e.domain, e.sequence))

    def save_day_counts(self, day: str, counts: Mapping[str, int]) -> None:
        self._days[day] = dict(counts)

    def day_counts(self, since: str) -> dict[str, dict[str, int]]:
        return {day: dict(counts) for day, counts in sorted(self._days.items()) if day >= since}

    def purge_history(self, before: datetime) -> int:
        cutoff = before.strftime("%Y-%m-%d")
        self._days = {day: counts for day, counts in self._days.items() if day >= cutoff}
        keep = set(self._outbox) | {k[1] for k, q in self._queue.items() if q.delivery.state != "delivered"}
        gone = [k for k, e in self._history.items() if e.at < before and k not in keep]
        for key in gone:
            del self._history[key]
        self._windows = {k: w for k, w in self._windows.items() if w.ends_at >= before}
        named = {d.published for s in self._domains.values() for d in s.track.drift.values()}
        named |= {d.pinned for s in self._domains.values() for d in s.track.drift.values()}
        used = to_micros(before) or 0
        self._sets = {k: v for k, v in self._sets.items() if k in named or v[1] >= used}
        return len(gone)

    def value_sets(self, digests: Sequence[str]) -> dict[str, str]:
        return {d: self._sets[d][0] for d in digests if d in self._sets}

    def windows(self) -> list[MaintenanceWindow]:
        return sorted(self._windows.values(), key=lambda w: (w.ends_at, w.id))

    def save_window(self, window: MaintenanceWindow) -> None:
        if len(self._windows) >= MAX_WINDOWS:
            raise StoreError(f"at most {MAX_WINDOWS} maintenance windows are kept")
        self._windows[window.id] = window

    def delete_window(self, window_id: str) -> bool:
        return self._windows.pop(window_id, None) is not None

    # -- deliveries ---------------------------------------------------------------------------
    def outbox(self, limit: int = 1000) -> list[OutboxEntry]:
        entries = sorted(
            self._outbox.values(), key=lambda o: (self._history[o.event_id].at, o.sequence, o.event_id)
        )
        return entries[:limit]

    def fan_out(self, fanned: Sequence[tuple[OutboxEntry, Sequence[NewDelivery]]], now: datetime) -> None:
        for entry, deliveries in fanned:
            for new in deliveries:
                key = (new.endpoint, entry.event_id)
                if key not in self._queue:
                    delivery = Delivery(
                        new.endpoint, entry.event_id, entry.domain, entry.sequence, new.type, new.body,
                        "pending", 0, now, None, None, now,
                    )  # fmt: skip
                    self._queue[key] = _Queued(delivery)
            self._outbox.pop(entry.event_id, None)

    def _heads(self) -> list[_Queued]:
        """Per (endpoint, domain), its oldest pending delivery, if not in flight."""
        oldest: dict[tuple[str, str], _Queued] = {}
        for queued in self._queue.values():
            d = queued.delivery
            key = (d.endpoint, d.domain)
            if d.state == "pending" and (key not in oldest or d.sequence < oldest[key].delivery.sequence):
                oldest[key] = queued
        return [q for q in oldest.values() if not q.in_flight]

    def due(self, endpoint: str, now: datetime, limit: int = 100) -> list[Delivery]:
        heads = [
            q.delivery
            for q in self._heads()
            if q.delivery.endpoint == endpoint and q.delivery.next_attempt_at <= now
        ]
        return sorted(heads, key=lambda d: (d.next_attempt_at, d.created_at))[:limit]

    def next_due(self, endpoints: Sequence[str]) -> datetime | None:
        times = [q.delivery.next_attempt_at for q in self._heads() if q.delivery.endpoint in endpoints]
        return min(times, default=None)

    def start_attempt(self, delivery: Delivery, now: datetime) -> None:
        queued = self._queue[(delivery.endpoint, delivery.event_id)]
        queued.in_flight = True
        queued.delivery = replace(queued.delivery, attempts=queued.delivery.attempts + 1)

    def settle(
        self,
        delivery: Delivery,
        state: str,
        now: datetime,
        *,
        next_at: datetime | None,
        status: int | None,
        error: str | None,
    ) -> None:
        queued = self._queue[(delivery.endpoint, delivery.event_id)]
        queued.in_flight = False
        queued.finished_at = now if state != "pending" else None
        queued.delivery = replace(
            queued.delivery,
            state=state,
            next_attempt_at=next_at or queued.delivery.next_attempt_at,
            last_status=status,
            last_error=error,
        )

    def recover(self, now: datetime) -> int:
        stuck = [q for q in self._queue.values() if q.in_flight]
        for queued in stuck:
            queued.in_flight = False
            queued.delivery = replace(queued.delivery, next_attempt_at=now)
        return len(stuck)

    def replay(self, event_id: str, now: datetime) -> int:
        again = [
            q
            for (_, e), q in self._queue.items()
            if e == event_id and q.delivery.state in ("dead", "delivered")
        ]
        for queued in again:
            queued.in_flight, queued.finished_at = False, None
            queued.delivery = replace(queued.delivery, state="pending", attempts=0, next_attempt_at=now)
        return len(again)

    def deliveries(self, state: str | None = None, limit: int = 1000) -> list[Delivery]:
        found = [q.delivery for q in self._queue.values() if state is None or q.delivery.state == state]
        return sorted(found, key=lambda d: (d.created_at, d.sequence, d.event_id, d.endpoint))[:limit]

    def sync_endpoints(self, endpoints: Sequence[tuple[str, str]]) -> None:
        for name, url in endpoints:
            known = self._endpoints.get(name)
            self._endpoints[name] = (url, known[1] if known and known[0] == url else None)

    def disable(self, name: str, reason: str, now: datetime) -> None:
        if name in self._endpoints:
            self._endpoints[name] = (self._endpoints[name][0], reason)

    def disabled(self) -> dict[str, str]:
        return {name: reason for name, (_, reason) in self._endpoints.items() if reason is not None}

    def queue_stats(self) -> dict[str, QueueStats]:
        out: dict[str, QueueStats] = {}
        for endpoint in sorted({q.delivery.endpoint for q in self._queue.values()}):
            mine = [q.delivery for q in self._queue.values() if q.delivery.endpoint == endpoint]
            pending = [d.created_at for d in mine if d.state == "pending"]
            dead = sum(d.state == "dead" for d in mine)
            out[endpoint] = QueueStats(len(pending), min(pending, default=None), dead)
        return out

    def purge_finished(self, before: datetime) -> int:
        gone = [
            k
            for k, q in self._queue.items()
            if q.delivery.state == "delivered" and q.finished_at is not None and q.finished_at < before
        ]
        for key in gone:
            del self._queue[key]
        return len(gone)


class MemoryStore(EngineStore):
    def __init__(self) -> None:
        super().__init__(MemoryEngine(), thread=None)
