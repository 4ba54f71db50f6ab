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
    frees what is dropped later, such as a reloaded config's old plans), and collects from here
    on, inside a gc_paused() block too. A command that loads a fleet runs its start-up in such a
    block: each collection on the way scanned what was built so far again (1.3 s of a
    100,000-domain start-up), and start-up makes no cyclic garbage to find (a full collection
    before freezing took 1.4 s and found nothing), so nothing is collected first either."""
    gc.freeze()
    gc.enable()


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No collections while building a large acyclic structure (a parsed config; a command's
    whole start-up, which settle() ends)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
