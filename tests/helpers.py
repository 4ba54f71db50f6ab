"""Small helpers for check tests: run a check against a FakeResolver and pick findings."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum

from domainwatch.checks.base import Expectation
from domainwatch.checks.running.runner import check_record
from domainwatch.dns.resolver import Outcome
from domainwatch.model import RecordResult
from domainwatch.testing import FakeResolver

Zone = Mapping[tuple[str, str], Iterable[str] | Outcome]


async def run_check(expect: Expectation, zone: Zone) -> RecordResult:
    return await check_record(expect, FakeResolver(zone))


def codes(result: RecordResult) -> set[StrEnum]:
    return {f.code for f in result.findings}
