"""Reverse DNS of the domain's sending IPs (`sending.ips`, at most 16): a PTR record for each,
and forward-confirmed (FCrDNS): a name the PTR gives resolves back to the IP. Gmail and Yahoo
ask it of every sender; the IP's owner (the provider, for a shared IP) publishes the PTR, so a
finding names it rather than giving a record to publish. Advisory unless `compliance:` asks."""

from __future__ import annotations

import enum
import ipaddress
from dataclasses import dataclass
from typing import Annotated

from pydantic import Field

from domainwatch.checks.base import (
    Answers,
    Expectation,
    FactMetric,
    PlannedDomain,
    RecordKind,
    Section,
    lookup_error,
)
from domainwatch.dns.resolver import Lookup, Query
from domainwatch.model import Finding, RecordResult, RecordState, Severity

MAX_IPS = 16
MAX_NAMES = 4  # PTR names followed forward, each one query: a PTR set is the IP owner's to size
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class Code(enum.StrEnum):
    PTR_MISSING = "ptr_missing"
    FCRDNS_MISMATCH = "fcrdns_mismatch"


@dataclass(frozen=True, slots=True)
class ReverseDnsExpectation(Expectation):
    ip: str = ""


def _forward(name: str, ip: str) -> Query:
    return Query.of(name, "AAAA" if ":" in ip else "A")


def _names(lookup: Lookup) -> list[str]:
    return [r.rstrip(".").lower() for r in lookup.records[:MAX_NAMES]]


def queries(expect: ReverseDnsExpectation, answers: Answers) -> set[Query]:
    ptr = answers.get(Query.of(expect.name, "PTR"))
    if ptr is None:
        return {Query.of(expect.name, "PTR")}
    if ptr.outcome.is_error:
        return set()
    return {q for q in (_forward(n, expect.ip) for n in _names(ptr)) if q not in answers}


def evaluate(expect: ReverseDnsExpectation, answers: Answers) -> RecordResult:
    ptr = answers.get(Query.of(expect.name, "PTR"))
    if ptr is None or ptr.outcome.is_error:
        return _result(expect, RecordState.ERROR, (), [lookup_error(ptr)] if ptr else [], ptr_found=None)
    names = _names(ptr)
    if not names:
        message = (
            f"{expect.ip} has no PTR record: ask its owner (your provider, for a shared IP) to publish one"
        )
        finding = Finding(Code.PTR_MISSING, Severity.ERROR, message)
        return _result(expect, RecordState.MISSING, (), [finding], ptr_found=0)
    forward = [answers.get(_forward(n, expect.ip)) for n in names]
    if any(f is not None and f.outcome.is_error for f in forward):
        failed = next(f for f in forward if f is not None and f.outcome.is_error)
        return _result(expect, RecordState.ERROR, tuple(names), [lookup_error(failed)], ptr_found=1)
    wanted = ipaddress.ip_address(expect.ip)
    confirmed = any(_same_ip(record, wanted) for f in forward if f is not None for record in f.records)
    if not confirmed:
        message = f"{expect.ip} has PTR {', '.join(names)}, which does not resolve back to {expect.ip}"
        finding = Finding(Code.FCRDNS_MISMATCH, Severity.ERROR, message, found=names[0])
        return _result(expect, RecordState.WRONG, tuple(names), [finding], ptr_found=1, fcrdns=0)
    return _result(expect, RecordState.PRESENT, tuple(names), [], ptr_found=1, fcrdns=1)


def _same_ip(text: str, wanted: IpAddress) -> bool:
    try:
        return ipaddress.ip_address(text) == wanted
    except ValueError:
        return False


def _result(
    expect: ReverseDnsExpectation,
    state: RecordState,
    found: tuple[str, ...],
    findings: list[Finding],
    *,
    ptr_found: int | None,
    fcrdns: int = 0,
) -> RecordResult:
    facts: dict[str, str | int] = {} if ptr_found is None else {"ptr_found": ptr_found, "fcrdns": fcrdns}
    return RecordResult(
        expect.record, expect.name, "PTR", state, expect.required, None, found, tuple(findings), facts
    )


def plan(domain: PlannedDomain, own: list[IpAddress]) -> list[Expectation]:
    return [
        ReverseDnsExpectation(f"reverse_dns:{ip}", ip.reverse_pointer, False, str(ip)) for ip in own[:MAX_IPS]
    ]


KIND = RecordKind(
    name="reverse_dns",
    section=Section.SENDING,
    key="ips",
    model=Annotated[list[IpAddress], Field(max_length=MAX_IPS)] | None,
    default=None,
    capability="sending",
    rdtype="PTR",
    plan=plan,
    queries=queries,
    evaluate=evaluate,
    codes=Code,
    enables=False,
    metrics=(
        FactMetric("domainwatch_sending_ip_ptr", "1 when the sending IP has a PTR record", "ptr_found", "ip"),
        FactMetric(
            "domainwatch_sending_ip_fcrdns",
            "1 when the sending IP's PTR name resolves back to it",
            "fcrdns",
            "ip",
        ),
    ),
)
