"""What the CLI says about long work, on stderr (stdout stays the results): a progress bar on a
terminal (tqdm; never on a pipe, never with --quiet), the max_qps notice before a slow pass, and
the summary line after it."""

from __future__ import annotations

import shutil
import sys
from collections import Counter
from collections.abc import Sequence
from typing import TextIO

from domainwatch.checks.base import Expectation
from domainwatch.checks.registry import kind_of
from domainwatch.model import DomainReport

NOTICE_SECONDS = 10.0  # a pass at least this long at max_qps is announced


class Progress:
    """A bar of `total` steps on stderr when it is a terminal and `enabled`; else nothing. No
    total (a history of unknown length): a running count."""

    def __init__(self, total: int | None, unit: str, *, enabled: bool, stream: TextIO | None = None) -> None:
        stream = stream or sys.stderr
        self._bar = None
        if enabled and stream.isatty():
            from tqdm import tqdm  # noqa: PLC0415 (only a terminal ever shows one)

            # A terminal that reports no size (a bare pseudo-terminal) would hide the bar.
            size = shutil.get_terminal_size((80, 24))
            self._bar = tqdm(
                total=total, unit=unit, file=stream, leave=False, ncols=size.columns, nrows=size.lines
            )

    def advance(self, steps: int = 1) -> None:
        if self._bar is not None:
            self._bar.update(steps)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def planned_queries(work: Sequence[tuple[str, Sequence[Expectation]]]) -> int:
    """The queries a pass asks at least: each record's first round (pure)."""
    return sum(len(kind_of(e.record).queries(e, {})) for _, expectations in work for e in expectations)


def qps_notice(domains: int, queries: int, max_qps: float) -> str | None:
    """What to say before a pass that `resolver.max_qps` makes slow, or None."""
    if max_qps <= 0 or queries / max_qps < NOTICE_SECONDS:
        return None
    seconds = queries / max_qps
    return (
        f"{domains:,} domains need at least {seconds:,.0f} s at max_qps {max_qps:g}; "
        "raise it when you use your own resolver"
    )


def summary(reports: Sequence[DomainReport], seconds: float) -> str:
    """The pass in one line: domains by verdict, records by state, time taken."""
    verdicts = Counter(r.header for r in reports)
    states = Counter(record.state.value for r in reports for record in r.records)
    domains = ", ".join(f"{verdicts[h]:,} {h.lower()}" for h in ("OK", "NEEDS ATTENTION", "LOOKUP FAILED"))
    records = ", ".join(f"{states[s]:,} {s}" for s in ("present", "missing", "wrong", "error"))
    plural = "" if len(reports) == 1 else "s"
    return f"{len(reports):,} domain{plural} in {seconds:.1f} s: {domains}; records: {records}"
