"""The one SPF record to publish instead of what is there (pure): it resolves every error at
once, and it is verified before it is suggested.

The candidate keeps the user's own terms where they are usable (from every published SPF
record: two records are merged), drops what makes receivers return permerror (syntax errors,
includes and redirects to names with no usable SPF record, an include of the domain itself,
`mx` terms naming more than 10 hosts, terms whose targets do not exist), replaces `+all`, and
puts the terms the provider needs first, so no earlier term can match their mail with another
result. Then it is evaluated as a receiver would, over the same answers: it must pass for the
provider (and every `authorize` address) within the limits of RFC 7208 §4.6.4. While it is over
the lookup limit, the user's includes are replaced by the addresses they resolve to
(flattened), the last first. A candidate that still fails is not suggested: the plain record
of the provider's terms is, if that verifies. A candidate needing answers the check does not
have asks for them (`queries`), as the evaluation of the published record does.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from domainwatch.checks.base import Answers
from domainwatch.dns.resolver import Query
from domainwatch.spf.offline import evaluate_text
from domainwatch.spf.syntax import Mechanism, Modifier, is_spf, parse
from domainwatch.spf.types import Evaluation, Reached, Result

MAX_FLATTENED = 40  # addresses one flattened include may stand for; more: it stays an include


@dataclass(frozen=True, slots=True)
class Wanted:
    """What the record must do: its name, the provider's includes, the addresses that must pass,
    and the qualifier of `all`."""

    name: str
    includes: tuple[str, ...]
    networks: tuple[str, ...]  # as terms: ip4:192.0.2.0/24
    samples: tuple[str, ...]  # addresses whose evaluation must give pass
    all_qualifier: str


def candidates(published: Sequence[str], wanted: Wanted, answers: Answers) -> Iterator[str]:
    """The records to try, best first: the repaired one, then it flattened one include at a
    time, then the plain record of the provider's terms."""
    terms = _usable_terms(published, wanted, answers)
    first = [f"include:{d}" for d in wanted.includes] + list(wanted.networks)
    tail = _ending(published, wanted, answers)
    record = _join(first, terms, tail)
    yield record
    for _ in range(10):
        flattened = _flatten_one(terms, answers)
        if flattened is None:
            break
        terms = flattened
        yield _join(first, terms, tail)
    if first:
        yield _join(first, [], f"{wanted.all_qualifier}all")


def verified(published: Sequence[str], wanted: Wanted, answers: Answers) -> tuple[str | None, Query | None]:
    """The first candidate a receiver would accept, or None; or the answer still needed."""
    for text in candidates(published, wanted, answers):
        outcome = _acceptable(text, wanted, answers)
        if isinstance(outcome, Query):
            return None, outcome
        if outcome:
            return text, None
    return None, None


def _acceptable(text: str, wanted: Wanted, answers: Answers) -> bool | Query:
    if len(text) > 2000:  # far beyond what a TXT answer should carry
        return False
    probe = evaluate_text(answers, None, wanted.name, text)
    if isinstance(probe, Query):
        return probe
    if probe.result in (Result.PERMERROR, Result.TEMPERROR) or probe.loops:
        return False
    passing = {r.value for r in first_reached(probe) if r.passing}
    if any(d not in passing for d in wanted.includes):
        return False
    for ip in wanted.samples:
        run = evaluate_text(answers, ip, wanted.name, text)
        if isinstance(run, Query):
            return run
        if run.result is not Result.PASS:
            return False
    return True


def provider_samples(includes: Sequence[str], answers: Answers) -> tuple[str, ...]:
    """An address of each provider include's own pass terms (ip4, ip6), as published: mail from
    there must pass, whatever earlier terms of the record say."""
    out: list[str] = []
    for domain in includes:
        lookup = answers.get(Query.of(domain, "TXT"))
        if lookup is not None and not lookup.outcome.is_error:
            out += _pass_addresses(lookup.records)
    return tuple(dict.fromkeys(out))


# Cached: every domain that includes a provider asks this of the provider's same answer, in
# every round of its check. Bounded (an answer is at most a DNS message, 64 KB).
@functools.lru_cache(maxsize=256)
def _pass_addresses(texts: tuple[str, ...]) -> tuple[str, ...]:
    records = [text for text in texts if is_spf(text)]
    if len(records) != 1:
        return ()
    out = []
    for kind in ("ip4", "ip6"):
        term = next((m for m in parse(records[0]).mechanisms if m.kind == kind and m.network), None)
        if term is not None and term.network is not None and term.qualifier.value == "+":
            out.append(str(term.network.network_address))
    return tuple(out)


def first_reached(probe: Evaluation) -> list[Reached]:
    """Each include as first reached: a later `include:x` after `-include:x` does not count."""
    seen: dict[str, Reached] = {}
    for reached in probe.reached:
        if reached.kind == "include":
            seen.setdefault(reached.value.lower(), reached)
    return list(seen.values())


def _ending(published: Sequence[str], wanted: Wanted, answers: Answers) -> str:
    """How the record ends: the user's `all` (unless it is +all), else their redirect= when
    its target has a usable record, else `all` with the configured qualifier."""
    for text in published:
        if not text.isascii() or not is_spf(text):
            continue
        terms = [t for t in (_term(w) for w in text.split()[1:]) if t is not None]
        ending = next((t for t in terms if isinstance(t, Mechanism) and t.kind == "all"), None)
        if ending is not None and ending.qualifier.value != "+":
            return f"{ending.qualifier.value}all"
        redirect = next((t for t in terms if isinstance(t, Modifier) and t.name == "redirect"), None)
        if ending is None and redirect is not None:
            target = redirect.value.lower()
            if target != wanted.name and "%" not in target and _has_one_spf(target, answers):
                return f"redirect={redirect.value}"
    return f"{wanted.all_qualifier}all"


def _join(first: list[str], terms: list[str], tail: str) -> str:
    return " ".join(["v=spf1", *dict.fromkeys([*first, *terms]), tail])


def _usable_terms(published: Sequence[str], wanted: Wanted, answers: Answers) -> list[str]:
    """The user's terms to keep, in order, from every published SPF record."""
    out: list[str] = []
    for text in published:
        if not text.isascii() or not is_spf(text):
            continue
        for word in text.split()[1:]:
            term = _term(word)
            if term is not None and _keeps(term, wanted, answers):
                out.append(term.text)
    return list(dict.fromkeys(out))


def _term(word: str) -> Mechanism | Modifier | None:
    record = parse(f"v=spf1 {word}")
    return record.terms[0] if len(record.terms) == 1 and not record.errors else None


def _keeps(term: Mechanism | Modifier, wanted: Wanted, answers: Answers) -> bool:
    if isinstance(term, Modifier):
        # redirect= is replaced by the all the fix ends with; exp= and unknown modifiers stay.
        return term.name != "redirect"
    if term.kind == "all":
        return False  # the fix ends with its own
    target = (term.domain_spec or "").lower()
    if term.kind == "include":
        if target in wanted.includes or target == wanted.name:
            return False  # the provider's comes first, with +; the domain itself is a loop
        return "%" in target or _has_one_spf(target, answers)  # a macro cannot be followed
    if term.kind in ("a", "mx", "exists") and target and "%" not in target:
        return _exists(target, term.kind, answers)
    return True


def _has_one_spf(domain: str, answers: Answers) -> bool:
    """A usable include target: exactly one SPF record, without syntax errors (an unknown
    answer keeps the term: the candidate's evaluation asks for it)."""
    lookup = answers.get(Query.of(domain, "TXT"))
    if lookup is None or lookup.outcome.is_error:
        return True
    records = [r for r in lookup.records if is_spf(r)]
    return len(records) == 1 and not parse(records[0]).errors


def _exists(target: str, kind: str, answers: Answers) -> bool:
    """Whether an a/mx/exists term's name has data (a void one costs a void lookup)."""
    rdtypes = {"a": ("A", "AAAA"), "mx": ("MX",), "exists": ("A",)}[kind]
    lookups = [answers.get(Query.of(target, t)) for t in rdtypes]
    if any(lookup is None or lookup.outcome.is_error for lookup in lookups):
        return True
    if kind == "mx":
        mx = lookups[0]
        return mx is not None and 0 < len(mx.records) <= 10
    return any(lookup is not None and lookup.records for lookup in lookups)


def _flatten_one(terms: list[str], answers: Answers) -> list[str] | None:
    """The terms with their last flattenable include replaced by its addresses, or None."""
    for index in range(len(terms) - 1, -1, -1):
        term = _term(terms[index])
        if isinstance(term, Mechanism) and term.kind == "include" and term.qualifier.value == "+":
            networks = _networks_of((term.domain_spec or "").lower(), answers, depth=0)
            if networks is not None and len(networks) <= MAX_FLATTENED:
                return terms[:index] + list(dict.fromkeys(networks)) + terms[index + 1 :]
    return None


def _networks_of(domain: str, answers: Answers, depth: int) -> list[str] | None:
    """The ip4/ip6 terms an include passes for, when that is all it does (no a, mx, exists,
    ptr, macro or redirect anywhere below it), else None."""
    lookup = answers.get(Query.of(domain, "TXT"))
    if depth > 3 or lookup is None or lookup.outcome.is_error:
        return None
    records = [r for r in lookup.records if is_spf(r)]
    if len(records) != 1:
        return None
    record = parse(records[0])
    out: list[str] = []
    for term in record.terms:
        if isinstance(term, Modifier):
            if term.name == "redirect":
                return None
            continue
        if term.kind == "all":
            break
        if term.qualifier.value != "+":
            return None  # a fail term inside changes what passes: not flattenable
        if term.kind in ("ip4", "ip6"):
            out.append(f"{term.kind}:{term.network}")
        elif term.kind == "include" and "%" not in (term.domain_spec or ""):
            nested = _networks_of((term.domain_spec or "").lower(), answers, depth + 1)
            if nested is None:
                return None
            out += nested
        else:
            return None
    return out
