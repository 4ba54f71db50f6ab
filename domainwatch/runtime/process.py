"""Process-wide knobs, set once by the entry point (cli/main.py) and by nothing else: the garbage
collector's thresholds and logging. The event loop is chosen where it is made (aio.py)."""

from __future__ import annotations

from domainwatch.runtime import gctune
from domainwatch.runtime.logs import configure_logging


def set_up(log_format: str, log_level: str) -> None:
    gctune.tune()
    configure_logging(log_format, log_level)
