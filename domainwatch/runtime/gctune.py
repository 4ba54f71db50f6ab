"""The garbage collector, tuned for a process holding a large fleet's state.

CPython's defaults (700, 10, 10) scan the whole heap every few hundred thousand allocations. With
a large fleet's config, plans and state on the heap that was a third of a check's CPU time, and
half of reading a 30,000-domain config (docs/performance.md). Reference counting frees almost
everything domainwatch drops; the collector is only for cycles, so it can run far more rarely.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

# The youngest generation every 20,000 container allocations, the oldest a hundred times rarer:
# cyclic garbage stays bounded at a fraction of the heap.
THRESHOLDS = (20_000, 50, 100)


def tune() -> None:
    gc.set_threshold(*THRESHOLDS)


def settle() -> None:
    """Call once what start-up loads (config, plans, stored state) is in memory: it stays for
    the life of the process, so the collector stops scanning it (gc.freeze; refcounting still
    frees what is dropped later, such as a reloaded config's old plans). Only the youngest generation
    is collected first: collecting the next one too scanned about a million objects at 100,000
    domains, 0.85 s of start-up, to find 10 garbage objects (start-up leaves next to none: the
    config is parsed with the collector off and refcounting frees the rest), which now stay
    frozen instead."""
    gc.collect(0)
    gc.freeze()


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No collections while building a large acyclic structure (a parsed config)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
