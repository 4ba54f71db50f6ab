"""Running the event loop: uvloop where it is installed (Linux), the standard loop elsewhere.

uvloop lets one core push about 15% more queries through the fast transport (bench/transports.py,
docs/performance.md). The garbage collector is tuned here too, for the same processes.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop  # noqa: PLC0415 (optional: not on every platform)
    except ImportError:
        return None
    return uvloop.new_event_loop


# CPython's defaults (700, 10, 10) scan the whole heap every few hundred thousand allocations: with
# a large fleet's config, plans and state on the heap, that was a third of a check's CPU time
# (docs/performance.md). Collecting the youngest generation every 20,000 container allocations
# and the oldest a hundred times more rarely keeps cyclic garbage bounded at a fraction of it.
GC_THRESHOLDS = (20_000, 50, 100)


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    gc.set_threshold(*GC_THRESHOLDS)
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(coroutine)


def settle() -> None:
    """Call once what was loaded at start-up (config, plans, stored state) is in memory.

    It stays for the life of the process, so the collector stops scanning it (gc.freeze).
    """
    gc.collect()
    gc.freeze()
