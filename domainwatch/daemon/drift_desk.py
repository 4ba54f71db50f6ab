"""The daemon's drift chores: maintenance windows (stored, and held by the fleet) and the value
lists history shows for change events (stored once per distinct set, resolved when read)."""

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
        """The events, each change with its before and after value lists beside their digests."""
        wanted = {
            str(e.observations[key])
            for e in events
            if e.kind == CHANGE
            for key in _SETS
            if e.observations.get(key)
        }
        if not wanted:
            return list(events)
        known = {d: self.fleet.recent_sets[d] for d in wanted if d in self.fleet.recent_sets}
        known |= await self.store.value_sets([d for d in wanted if d not in known])
        return [_resolved(e, known) if e.kind == CHANGE else e for e in events]

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


def _resolved(event: Event, bodies: dict[str, str]) -> Event:
    seen = dict(event.observations)
    for key, shown in _SETS.items():
        text = bodies.get(str(seen.get(key)))
        snapshot = from_body(text) if text is not None else None
        seen[shown] = list(snapshot.values) if snapshot is not None else None
    return replace(event, observations=seen)
