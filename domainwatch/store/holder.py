"""Which process holds a store: the daemon takes an exclusive lock on `<store>.lock` for its
life (a second daemon on the same file refuses to start), and offline commands that replace
the store (`store restore`) refuse while it is held. The lock is the kernel's (flock): it goes
with the process, however the process ends, so a kill -9 leaves no stale lock behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from domainwatch.store.base import StoreError


def lock_path(store_path: str) -> Path:
    return Path(f"{store_path}.lock")


@contextlib.contextmanager
def holding(store_path: str) -> Iterator[None]:
    """Hold the store for the block, or raise StoreError naming the process that does."""
    fd = _open(store_path)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StoreError(f"{store_path}: {_holder_text(fd)} holds this store") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)  # releases the lock


def holder(store_path: str) -> str | None:
    """Who holds the store now ("the daemon (pid 1234)"), or None when no one does."""
    if not lock_path(store_path).exists():
        return None
    fd = _open(store_path)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _holder_text(fd)
        return None
    finally:
        os.close(fd)


def _open(store_path: str) -> int:
    try:
        return os.open(lock_path(store_path), os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise StoreError(f"{lock_path(store_path)}: {exc.strerror}") from None


def _holder_text(fd: int) -> str:
    text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    return f"a domainwatch daemon (pid {text})" if text.isdigit() else "a domainwatch daemon"
