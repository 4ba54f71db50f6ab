"""The faces (web/, mcp_server/, service/) read and write through the service and the daemon's
methods, never the store or the fleet's dictionaries behind the daemon's back. import-linter
holds the imports (pyproject.toml); this holds the attribute reads it cannot see."""

from __future__ import annotations

import re
from pathlib import Path

import domainwatch

PACKAGE = Path(domainwatch.__file__).parent
# The daemon's store, its old dictionaries, and the worker's store: reached only by their owners.
REACHING_IN = re.compile(r"\b(?:daemon\.(?:store|plans|tracks|facts|documents|writes)|worker\.store)\b")


def test_the_faces_never_reach_into_the_daemon_or_the_worker() -> None:
    found = [
        f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}"
        for face in ("web", "mcp_server", "service")
        for path in sorted((PACKAGE / face).rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if REACHING_IN.search(line)
    ]
    assert [] == found


def test_the_pattern_finds_what_it_looks_for() -> None:
    assert REACHING_IN.search("names = sorted(daemon.plans)")
    assert REACHING_IN.search("worker.store.disabled()")
    assert not REACHING_IN.search("daemon.fleet.plans")
