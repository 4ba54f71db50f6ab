"""Reload when the config file's content changes (`reload.watch_interval`), as SIGHUP does: a
Kubernetes ConfigMap mounted as a directory is updated in place by swapping a symlink, and the
process is told nothing. A broken file keeps the running config, with the errors logged."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

Sleep = Callable[[float], Awaitable[None]]
IDLE = 60.0  # seconds between looks at the setting while watching is off


class ConfigWatch:
    def __init__(
        self, path: str, interval: Callable[[], float], reload: Callable[[], Awaitable[object]]
    ) -> None:
        self.path, self.interval, self.reload = path, interval, reload
        self._stat = _stat(path)
        self._digest = _digest(path)

    async def run(self, sleep: Sleep = asyncio.sleep) -> None:
        while True:
            seconds = self.interval()
            await sleep(seconds if seconds > 0 else IDLE)
            if seconds > 0:
                await self.look()

    async def look(self) -> bool:
        """Reload if the content changed since the last look; whether it did."""
        stat = _stat(self.path)
        if stat == self._stat:
            return False  # the same file, unchanged: no need to read it
        self._stat = stat
        digest = _digest(self.path)
        if digest is None or digest == self._digest:
            return False
        self._digest = digest
        await self.reload()
        return True


def _stat(path: str) -> tuple[int, int, int] | None:
    try:
        found = os.stat(path)  # follows the symlink a mounted ConfigMap swaps
    except OSError:
        return None
    return found.st_ino, found.st_size, found.st_mtime_ns


def _digest(path: str) -> bytes | None:
    try:
        return hashlib.sha256(Path(path).read_bytes()).digest()
    except OSError:
        return None  # mid-swap, or gone: look again next time
