"""Record checks: one module per record kind, registered here by expectation type.

Adding a record kind means one module with `queries` and `evaluate`, one entry in REGISTRY, a
config section and its planning in plan.py.
"""

from __future__ import annotations

from typing import Any, Protocol

from domainwatch.checks import dkim, dmarc, mx, spf, tracking
from domainwatch.checks.base import Answers, Expectation
from domainwatch.dns.resolver import Query
from domainwatch.model import RecordResult


class CheckModule(Protocol):
    def queries(self, expect: Any, answers: Answers) -> set[Query]: ...

    def evaluate(self, expect: Any, answers: Answers) -> RecordResult: ...


REGISTRY: dict[type[Expectation], CheckModule] = {
    spf.SpfExpectation: spf,
    dkim.DkimExpectation: dkim,
    mx.MxExpectation: mx,
    dmarc.DmarcExpectation: dmarc,
    tracking.TrackingExpectation: tracking,
}


def module_for(expect: Expectation) -> CheckModule:
    return REGISTRY[type(expect)]
