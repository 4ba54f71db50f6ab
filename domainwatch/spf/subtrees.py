"""Included SPF trees evaluated once and shared between domains (pure).

Most domains of a fleet include the same few providers, so every domain's evaluation walks the
same provider tree over the same answers. An include (or redirect) target's evaluation is a
pure function of what it starts from and what it reads:

- the target, its depth, whether its matches would pass, the client address;
- the evaluation's counts so far (DNS-querying terms and void lookups: the limits are global),
  whether a match was already recorded, whether PTR was already used;
- the answers it reads, in order;
- the sender, only through macros, so a tree that expands any is not kept.

A Subtree records what one start read and did; a later evaluation that starts the same way and
reads equal answers (outcome and records: the evaluator reads nothing else of them) takes the
recorded steps, counts and result instead of evaluating the tree again. Only trees that ended
normally are kept: an abort (a limit, a DNS error, a syntax error) or a missing answer is
evaluated every time.

The names on the evaluation's stack need no check: a tree that reaches a name on the stack
loops, and a loop always ends in the lookup limit's abort. For a kept tree to loop where it is
replayed, the name on the stack would have to lead back to the tree over the same answers
(validated) from a lower count, where the recording, reading the same answers, did not: the
path through a record depends on its answers, the client and the sender only, so it cannot.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from domainwatch.dns.resolver import Outcome, Query
from domainwatch.spf.types import Reached, Result, Step

# (target, depth, passing, client address, DNS terms so far, void lookups so far,
#  nothing matched yet, PTR used yet)
Start = tuple[str, int, bool, object, int, int, bool, bool]
Read = tuple[Query, Outcome, tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class Subtree:
    """What evaluating one include target did, from one start."""

    reads: tuple[Read, ...]
    steps: tuple[Step, ...]  # shared with the evaluation that recorded them: read, never change
    reached: tuple[Reached, ...]
    parent_lookups: tuple[str, ...]  # the target's own TXT lookup, noted on the including step
    dns_lookups: int
    void_lookups: int
    matched: str | None
    uses_ptr: bool
    result: Result
    exp: tuple[str, str] | None


class SubtreeMemo:
    """A bounded map from a tree's start to the last Subtree recorded from it."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._trees: OrderedDict[Start, Subtree] = OrderedDict()

    def get(self, start: Start) -> Subtree | None:
        return self._trees.get(start)

    def put(self, start: Start, tree: Subtree) -> None:
        if start not in self._trees and len(self._trees) >= self.size:
            self._trees.popitem(last=False)  # the oldest
        self._trees[start] = tree
