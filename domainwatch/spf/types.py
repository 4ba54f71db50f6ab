"""The vocabulary of an SPF evaluation: results, problems, and the trace."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class Result(enum.StrEnum):
    NONE = "none"
    NEUTRAL = "neutral"
    PASS = "pass"  # noqa: S105 (an SPF result, not a password)
    FAIL = "fail"
    SOFTFAIL = "softfail"
    TEMPERROR = "temperror"
    PERMERROR = "permerror"


class Problem(enum.StrEnum):
    """Why an evaluation ended in permerror or temperror (a closed vocabulary for findings)."""

    SYNTAX = "syntax"
    MULTIPLE_RECORDS = "multiple_records"
    TOO_MANY_LOOKUPS = "too_many_lookups"
    TOO_MANY_VOID = "too_many_void_lookups"
    TOO_MANY_MX = "too_many_mx"
    INCLUDE_NONE = "include_none"
    REDIRECT_NONE = "redirect_none"
    DNS_ERROR = "dns_error"


@dataclass(slots=True)
class Step:
    """One term evaluated: what it was, where, what it cost and what came of it."""

    domain: str
    depth: int
    term: str
    outcome: str
    lookups: list[str] = field(default_factory=list)
    dns_lookups: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "depth": self.depth,
            "term": self.term,
            "outcome": self.outcome,
            "lookups": list(self.lookups),
            "dns_lookups": self.dns_lookups,
        }


@dataclass(slots=True)
class Reached:
    """An include target or ip network reached by the evaluation, and whether it would pass."""

    kind: str  # "include" | "ip4" | "ip6" | "macro"
    value: str
    passing: bool


@dataclass(slots=True)
class Evaluation:
    result: Result = Result.NONE
    explanation: str | None = None
    dns_lookups: int = 0
    void_lookups: int = 0
    trace: list[Step] = field(default_factory=list)
    problem: Problem | None = None
    message: str = ""
    matched: str | None = None
    reached: list[Reached] = field(default_factory=list)
    loops: list[str] = field(default_factory=list)
    uses_ptr: bool = False
