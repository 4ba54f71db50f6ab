"""The evaluator's side that asks DNS (Evaluator's base): each question within the limits of
RFC 7208 §4.6.4 (DNS-querying terms, void lookups, names per mechanism), the addresses of a
host, and the client's validated names (§5.5). Pure, like the evaluator: `lookup` answers from
what is known or raises the evaluator's NeedAnswer.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Callable

from domainwatch.dns.resolver import Lookup, Outcome, Query
from domainwatch.spf.macros import IPAddress
from domainwatch.spf.subtrees import Read
from domainwatch.spf.syntax import Mechanism
from domainwatch.spf.types import Evaluation, Problem, Result, Step

MAX_DNS_TERMS = 10  # §4.6.4
MAX_VOID = 2  # §4.6.4
MAX_NAMES = 10  # MX names per mx mechanism (permerror beyond), PTR names per ptr (ignored beyond)
LookupFn = Callable[[Query], Lookup]


class Abort(Exception):  # noqa: N818 (ends the evaluation with a result, not an error)
    """The evaluation's result is decided (a DNS error, a limit, bad syntax): stop here."""

    def __init__(self, result: Result, problem: Problem, message: str) -> None:
        super().__init__(message)
        self.result, self.problem, self.message = result, problem, message


class Lookups:
    """What Evaluator sets up, and the DNS questions its terms ask through it."""

    lookup: LookupFn
    ip: IPAddress | None
    out: Evaluation
    _reads: list[list[Read]]  # what the included trees being recorded read (subtrees.py)

    def _addresses(self, host: str, step: Step, *, count_void: bool) -> list[IPAddress]:
        types = ("A", "AAAA") if self.ip is None else ("A",) if self.ip.version == 4 else ("AAAA",)
        found: list[IPAddress] = []
        void = True
        for rdtype in types:
            answer = self._ask(Query(host, rdtype), step)
            if answer.outcome.is_error:
                raise Abort(
                    Result.TEMPERROR, Problem.DNS_ERROR, f"{rdtype} lookup of {host}: {answer.outcome.value}"
                )
            void &= answer.outcome.is_void
            found += [a for a in map(parse_address, answer.records) if a is not None]
        if void and count_void:
            self._void(step)
        return found

    def _in(self, mech: Mechanism, address: IPAddress) -> bool:
        if self.ip is None or address.version != self.ip.version:
            return False
        length = mech.cidr4 if address.version == 4 else mech.cidr6
        network = ipaddress.ip_network(
            f"{address}/{length if length is not None else address.max_prefixlen}", strict=False
        )
        return self.ip in network

    def _validated_names(self, step: Step | None) -> list[str]:
        """§5.5: PTR names of <ip> (first 10) that resolve back to <ip>; DNS errors skip names."""
        if self.ip is None:
            return []
        answer = self._ask(Query(self.ip.reverse_pointer, "PTR"), step)
        if answer.outcome is not Outcome.ANSWER:
            return []
        names = []
        for name in answer.records[:MAX_NAMES]:
            check = self._ask(Query(name, "A" if self.ip.version == 4 else "AAAA"), step)
            if any(parse_address(r) == self.ip for r in check.records):
                names.append(name)
        return names

    def _validated_name(self, domain: str) -> str:
        """%{p}: the validated name equal to, else under, <domain>; else any; else "unknown"."""
        names = self._validated_names(None)
        for candidate in (
            [n for n in names if n == domain],
            [n for n in names if n.endswith("." + domain)],
            names,
        ):
            if candidate:
                return candidate[0]
        return "unknown"

    def _count_term(self, step: Step) -> None:
        self.out.dns_lookups += 1
        step.dns_lookups = self.out.dns_lookups
        if self.out.dns_lookups > MAX_DNS_TERMS:
            step.outcome = "limit exceeded"
            raise Abort(
                Result.PERMERROR, Problem.TOO_MANY_LOOKUPS, f"more than {MAX_DNS_TERMS} DNS-querying terms"
            )

    def _void(self, step: Step) -> None:
        self.out.void_lookups += 1
        if self.out.void_lookups > MAX_VOID:
            step.outcome = "void lookup limit exceeded"
            raise Abort(Result.PERMERROR, Problem.TOO_MANY_VOID, f"more than {MAX_VOID} void lookups")

    def _ask(self, query: Query, step: Step | None = None) -> Lookup:
        answer = self.lookup(query)  # may raise NeedAnswer: the shell resolves it and runs us again
        if step is not None:
            step.lookups.append(f"{query.rdtype} {query.name}: {answer.outcome.value}")
        for reads in self._reads:
            reads.append((query, answer.outcome, answer.records))
        return answer


@functools.lru_cache(maxsize=65536)
def parse_address(value: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None
