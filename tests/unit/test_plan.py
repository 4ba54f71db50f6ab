"""Planning: the fingerprints stored with each record must not change between versions."""

from __future__ import annotations

from pathlib import Path

from domainwatch.checks.plan import dataclass_repr, fingerprint, plan
from domainwatch.config import load

EXAMPLE = Path(__file__).parents[2] / "config.example.yaml"


def test_the_fingerprint_repr_is_the_dataclass_repr() -> None:
    """Every kind of expectation the example config plans (each record kind, with and without
    optional values): the fast repr is exactly repr(), so stored fingerprints still match."""
    expectations = [e for domain in load(EXAMPLE, env={}).domains for e in plan(domain)]
    assert {type(e).__name__ for e in expectations} >= {
        "SpfExpectation",
        "DkimExpectation",
        "MxExpectation",
        "DmarcExpectation",
        "TrackingExpectation",
    }
    for expect in expectations:
        assert dataclass_repr(expect) == repr(expect)


def test_a_fingerprint_is_pinned() -> None:
    """A fingerprint written by an earlier version: changing how it is made restarts every
    record's verification on upgrade."""
    spf = next(e for e in plan(load(EXAMPLE, env={}).domains[0]) if e.record == "spf")
    assert fingerprint(spf) == PINNED_SPF


PINNED_SPF = "351cd9b88cda5dd1"  # domainwatch 0.x, before dataclass_repr
