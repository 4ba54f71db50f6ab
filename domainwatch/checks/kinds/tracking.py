"""The open/click tracking CNAME (advisory: it never counts toward a capability)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from pydantic.dataclasses import dataclass as schema

from domainwatch.checks.base import Answers, Expectation, PlannedDomain, RecordKind, Section
from domainwatch.checks.kinds import cname
from domainwatch.checks.kinds.cname import CnameExpectation
from domainwatch.fields import SECTION_CONFIG, DomainName, RelativeHost
from domainwatch.model import RecordResult


class Code(enum.StrEnum):
    TRACKING_MISSING = "tracking_missing"
    TRACKING_WRONG = "tracking_wrong"


@schema(frozen=True, slots=True, config=SECTION_CONFIG)
class TrackingConfig:
    """`tracking`: the host (under the domain) that must be a CNAME to the tracking provider."""

    host: RelativeHost
    cname: DomainName


@dataclass(frozen=True, slots=True)
class TrackingExpectation(CnameExpectation):
    """The tracking host's CNAME (its own class: fingerprints stored by 0.1 name it)."""


def evaluate(expect: TrackingExpectation, answers: Answers) -> RecordResult:
    return cname.evaluate(expect, answers, Code.TRACKING_MISSING, Code.TRACKING_WRONG)


def plan(domain: PlannedDomain, own: TrackingConfig) -> list[Expectation]:
    return [TrackingExpectation("tracking", f"{own.host}.{domain.name}", False, own.cname)]


KIND = RecordKind(
    name="tracking",
    section=Section.DOMAIN,
    key="tracking",
    model=TrackingConfig | None,
    default=None,
    capability="sending",
    rdtype="CNAME",
    plan=plan,
    queries=cname.queries,
    evaluate=evaluate,
    codes=Code,
    diagnose=cname.diagnose,
    publish=cname.publish,
    drift=cname.DRIFT,
)
