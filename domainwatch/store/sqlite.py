"""The SQLite store: the embedded default (`storage.path`, or a `sqlite:` storage URL).

The engine (sqlite_engine.py) is synchronous; its calls run on one thread of the store's own,
in order, so the event loop never waits on the disk and there is one writer.
"""

from __future__ import annotations

from pathlib import Path

from domainwatch.store.engine import EngineStore
from domainwatch.store.sqlite_engine import SqliteEngine


class SqliteStore(EngineStore):
    def __init__(self, path: str | Path, *, readonly: bool = False) -> None:
        """Open (creating and migrating) the database; `readonly` never creates or changes it."""
        self.path = str(path)
        self.sqlite = SqliteEngine(path, readonly=readonly)
        super().__init__(self.sqlite, thread="sqlite-store")
