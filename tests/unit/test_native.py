"""Which build runs: the modules mypyc compiles, and how the process tells (runtime/native.py)."""

from __future__ import annotations

import importlib
import os
from importlib.machinery import EXTENSION_SUFFIXES

import pytest

from domainwatch.metrics.instruments import Metrics
from domainwatch.runtime.native import MODULES, compiled, compiled_modules

pytestmark = pytest.mark.unit


def test_each_listed_module_exists_and_says_whether_it_runs_compiled() -> None:
    for name in MODULES:
        module = importlib.import_module(name)
        assert (name in compiled_modules()) == str(module.__file__).endswith(tuple(EXTENSION_SUFFIXES))
    assert compiled() == (compiled_modules() == list(MODULES))


@pytest.mark.skipif("DOMAINWATCH_EXPECT_COMPILED" not in os.environ, reason="set by scripts/test-tiers.sh")
def test_the_tier_runs_the_build_it_says() -> None:
    """`make test`'s compiled tier runs every listed module compiled, its interpreted tier none:
    a tier that silently ran the other build would prove nothing about its own."""
    expected = os.environ["DOMAINWATCH_EXPECT_COMPILED"] == "1"
    assert (list(MODULES) if expected else []) == compiled_modules()


def test_build_info_names_the_build() -> None:
    registry = Metrics().registry
    labels = {"version", "revision", "compiled"}
    (sample,) = [s for m in registry.collect() if m.name == "domainwatch_build" for s in m.samples]
    assert labels == set(sample.labels)
    assert str(compiled()).lower() == sample.labels["compiled"]
