"""The registry is the one list of record kinds: each has its own unit-test module, and every
other list that names kinds is made from it."""

from __future__ import annotations

import typing
from pathlib import Path

from domainwatch.checks.base import AnyKind
from domainwatch.checks.registry import KINDS
from domainwatch.config.schema import ProbesConfig
from domainwatch.mcp_server.tools import INSTRUCTIONS
from domainwatch.metrics.selection import LARGE_FLEET_DENY

KIND_TESTS = Path(__file__).resolve().parent / "kinds"


def module_of(kind: AnyKind) -> str:
    """The kind's module under checks/kinds (`spf` for checks/kinds/spf/kind.py)."""
    module: str = kind.evaluate.__module__
    return module.split("domainwatch.checks.kinds.", 1)[1].split(".", 1)[0]


def test_every_kind_has_a_unit_test_module_of_its_own() -> None:
    """The convention (docs/architecture.md): tests/unit/kinds/test_<module>.py."""
    missing = sorted(
        {module_of(k) for k in KINDS} - {p.stem.removeprefix("test_") for p in KIND_TESTS.glob("test_*.py")}
    )
    assert [] == missing


def test_the_lists_that_name_kinds_come_from_the_registry() -> None:
    implied = {k.key for k in KINDS if k.implied is not None}
    (probe_name,) = typing.get_args(ProbesConfig.model_fields["default"].annotation)
    assert implied == set(typing.get_args(probe_name))
    assert {m.name for k in KINDS for m in k.metrics} <= set(LARGE_FLEET_DENY)
    assert all(k.name in INSTRUCTIONS for k in KINDS)
