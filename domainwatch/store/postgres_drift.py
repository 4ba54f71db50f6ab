"""The drift tables of PostgresStore: value sets and maintenance windows (SQLite's twins are in
sqlite_engine.py)."""

from __future__ import annotations

from collections.abc import Sequence

from domainwatch.state.windows import MAX_WINDOWS, MaintenanceWindow
from domainwatch.store.base import StoreError
from domainwatch.store.postgres_deliveries import DeliveryQueue
from domainwatch.store.rows import window_from_row, window_values

# Value sets last written before the history's cutoff that no record's drift names (purge_history).
UNNAMED_SETS = (
    "DELETE FROM value_sets WHERE used_at < %s AND digest NOT IN ("
    " SELECT drift::jsonb->>'published' FROM records WHERE drift::jsonb->>'published' IS NOT NULL"
    " UNION SELECT drift::jsonb->>'pinned' FROM records WHERE drift::jsonb->>'pinned' IS NOT NULL)"
)


class DriftTables(DeliveryQueue):
    """Value sets and maintenance windows, on PostgresStore's pool."""

    async def value_sets(self, digests: Sequence[str]) -> dict[str, str]:
        rows = await self._rows(
            "SELECT digest, body FROM value_sets WHERE digest = ANY(%s)", (list(digests),)
        )
        return dict(rows)

    async def windows(self) -> list[MaintenanceWindow]:
        rows = await self._rows("SELECT body FROM maintenance_windows ORDER BY ends_at, id")
        return [window_from_row(body) for (body,) in rows]

    async def save_window(self, window: MaintenanceWindow) -> None:
        async with self.transaction() as conn:
            # One writer of windows at a time, so the bound holds under concurrent API calls.
            await conn.execute("LOCK TABLE maintenance_windows IN SHARE ROW EXCLUSIVE MODE")
            cursor = await conn.execute("SELECT COUNT(*) FROM maintenance_windows")
            row = await cursor.fetchone()
            if row is not None and row[0] >= MAX_WINDOWS:
                raise StoreError(f"at most {MAX_WINDOWS} maintenance windows are kept")
            await conn.execute(
                "INSERT INTO maintenance_windows (id, body, ends_at) VALUES (%s, %s, %s)",
                window_values(window),
            )

    async def delete_window(self, window_id: str) -> bool:
        return await self._change("DELETE FROM maintenance_windows WHERE id = %s", (window_id,)) > 0
