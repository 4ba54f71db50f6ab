"""The daemon's drift chores: maintenance windows (stored, and held by the fleet), and the value
lists the history names by value set (a change's before and after, each record's found values:
stored once per distinct list, resolved when read)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import replace

from domainwatch.checks.drift import from_body
from domainwatch.fleet.fleet import Fleet
from domainwatch.state.drift import CHANGE
from domainwatch.state.events import Event
from domainwatch.state.windows import MaintenanceWindow
from domainwatch.store.base import Store

_SETS = {"before_set": "before", "after_set": "after"}


class DriftDesk:
    def __init__(self, store: Store, fleet: Fleet) -> None:
        self.store, self.fleet = store, fleet

    async def load(self) -> None:
        self.fleet.windows = await self.store.windows()

    async def add_window(self, window: MaintenanceWindow) -> None:
        await self.store.save_window(window)
        await self.load()

    async def delete_window(self, window_id: str) -> bool:
        deleted = await self.store.delete_window(window_id)
        await self.load()
        return deleted

    async def with_values(self, events: Sequence[Event]) -> list[Event]:
        """The events with the values their observations name by value set: each change's
        before and after lists, each record summary's found values (fleet/history.py)."""
        wanted = {name for e in events for name in _named(e)}
        if not wanted:
            return list(events)
        known = {d: self.fleet.recent_sets[d] for d in wanted if d in self.fleet.recent_sets}
        known |= await self.store.value_sets([d for d in wanted if d not in known])
        values = {d: list(p.values) for d, text in known.items() if (p := from_body(text)) is not None}
        return [_resolved(e, values) if _named(e) else e for e in events]

    async def stream_with_values(
        self, events: AsyncIterator[Event], batch: int = 500
    ) -> AsyncIterator[Event]:
        chunk: list[Event] = []
        async for event in events:
            chunk.append(event)
            if len(chunk) >= batch:
                for resolved in await self.with_values(chunk):
                    yield resolved
                chunk = []
        for resolved in await self.with_values(chunk):
            yield resolved


def _named(event: Event) -> list[str]:
    seen = event.observations
    if event.kind == CHANGE:
        return [str(seen[key]) for key in _SETS if seen.get(key)]
    return [str(s["found_set"]) for s in seen.values() if isinstance(s, dict) and s.get("found_set")]


def _resolved(event: Event, values: dict[str, list[str]]) -> Event:
    seen = dict(event.observations)
    if event.kind == CHANGE:
        for key, shown in _SETS.items():
            seen[shown] = values.get(str(seen.get(key)))
        return replace(event, observations=seen)
    for record, summary in seen.items():
        if isinstance(summary, dict) and summary.get("found_set"):
            seen[record] = {**summary, "found": values.get(str(summary["found_set"]), [])}
    return replace(event, observations=seen)
