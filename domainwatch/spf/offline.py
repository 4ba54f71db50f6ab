"""The evaluator over answers already gathered (pure): what the static SPF check runs, and what
the async shell (shell.py) runs again as each missing answer arrives."""

from __future__ import annotations

import ipaddress
from collections import OrderedDict
from collections.abc import Callable, Mapping

from domainwatch.dns.resolver import Lookup, Outcome, Query
from domainwatch.spf.evaluator import Evaluator, NeedAnswer
from domainwatch.spf.subtrees import SubtreeMemo
from domainwatch.spf.types import Evaluation


def answered_from(
    answers: Mapping[Query, Lookup], read: list[tuple[Query, Lookup]] | None = None
) -> Callable[[Query], Lookup]:
    """The evaluator's lookup over answers gathered so far: a missing one is asked for.

    With `read`, every answer handed out is appended to it, in order.
    """

    def lookup(query: Query) -> Lookup:
        answer = answers.get(query)
        if answer is None:
            raise NeedAnswer(query)
        if read is not None:
            read.append((query, answer))
        return answer

    return lookup


# An offline run is a pure function of (domain, ip) and the answers it read, in order, so a run
# whose answers are all still present (as the same objects) need not be repeated. The static
# check asks the same question twice per check (for its next query, then for the verdict), so
# this halves its work. Bounded: entries are reused within one check, microseconds apart.
_Run = tuple[tuple[tuple[Query, Lookup], ...], "Evaluation | Query"]
_runs: OrderedDict[tuple[str, str | None], _Run] = OrderedDict()
MEMO_SIZE = 4096
# Included trees, shared between domains: a fleet's domains include the same few providers.
SUBTREES = SubtreeMemo(MEMO_SIZE)


def evaluate_offline(answers: Mapping[Query, Lookup], ip: str | None, domain: str) -> Evaluation | Query:
    """The static check's use: evaluate over answers gathered so far, or name the next query.

    The returned Evaluation may be shared with other callers: read it, never change it.
    """
    key = (domain, ip)
    memo = _runs.get(key)
    if memo is not None and _still_valid(memo, answers):
        return memo[1]
    read: list[tuple[Query, Lookup]] = []
    address = ipaddress.ip_address(ip) if ip else None
    outcome: Evaluation | Query
    try:
        evaluator = Evaluator(
            answered_from(answers, read), address, f"postmaster@{domain}", domain, subtrees=SUBTREES
        )
        outcome = evaluator.run(domain)
    except NeedAnswer as need:
        outcome = need.query
    if len(_runs) >= MEMO_SIZE:
        _runs.popitem(last=False)  # the oldest (an OrderedDict: O(1), where a dict's front is not)
    _runs[key] = (tuple(read), outcome)
    return outcome


def _still_valid(memo: _Run, answers: Mapping[Query, Lookup]) -> bool:
    read, outcome = memo
    if isinstance(outcome, Query) and outcome in answers:
        return False  # the answer it was waiting for has come
    return all(answers.get(query) is answer for query, answer in read)


_texts: OrderedDict[tuple[str, str | None, str], _Run] = OrderedDict()


def evaluate_text(
    answers: Mapping[Query, Lookup], ip: str | None, domain: str, text: str
) -> Evaluation | Query:
    """evaluate_offline as if `domain` published `text` as its only TXT record: how receivers
    would read a suggested record, over the answers gathered for the one published."""
    key = (domain, ip, text)
    memo = _texts.get(key)
    if memo is not None and _still_valid(memo, answers):
        return memo[1]
    own = Query.of(domain, "TXT")
    published = Lookup(own, Outcome.ANSWER, (text,))
    read: list[tuple[Query, Lookup]] = []
    fetch = answered_from(answers, read)

    def lookup(query: Query) -> Lookup:
        return published if query == own else fetch(query)

    address = ipaddress.ip_address(ip) if ip else None
    outcome: Evaluation | Query
    try:
        outcome = Evaluator(lookup, address, f"postmaster@{domain}", domain, subtrees=SUBTREES).run(domain)
    except NeedAnswer as need:
        outcome = need.query
    if len(_texts) >= MEMO_SIZE:
        _texts.popitem(last=False)
    _texts[key] = (tuple(read), outcome)
    return outcome
