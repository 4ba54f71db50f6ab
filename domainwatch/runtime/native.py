"""The modules a build compiles with mypyc, and whether this process runs them compiled.

mypyc turns a type-annotated module into a C extension, which Python imports in place of the
source of the same name. These are the modules the profiles of a check and of the daemon's
steady round name (docs/performance.md). Each also runs as plain Python, the fallback wherever
no compiler was at hand.
The list is read by the wheel's build hook (hatch_build.py) and by scripts/compile.py.
"""

from __future__ import annotations

from importlib.machinery import EXTENSION_SUFFIXES
from importlib.util import find_spec

MODULES: tuple[str, ...] = (
    # The DNS path: the codec, the transport, the shared-answer cache, batches, their counters.
    "domainwatch.dns.batch",
    "domainwatch.dns.cache",
    "domainwatch.dns.fast.codec",
    "domainwatch.dns.fast.transport",
    "domainwatch.metrics.dns_stats",
    "domainwatch.runtime.entropy",
    # A domain's check and what it changes: the runner, SPF's text, the status rules, drift.
    "domainwatch.checks.running.runner",
    "domainwatch.spf.macros",
    "domainwatch.spf.syntax",
    "domainwatch.state.domain",
    "domainwatch.state.drift",
    "domainwatch.state.rules",
    "domainwatch.fleet.fleet",
)


def compiled_modules() -> list[str]:
    """The modules of MODULES that this process imports as extensions."""
    return [name for name in MODULES if _is_extension(name)]


def compiled() -> bool:
    """Whether every module of MODULES runs compiled (build_info's `compiled` label)."""
    return len(compiled_modules()) == len(MODULES)


def _is_extension(name: str) -> bool:
    spec = find_spec(name)
    origin = spec.origin if spec is not None else None
    return origin is not None and origin.endswith(tuple(EXTENSION_SUFFIXES))
