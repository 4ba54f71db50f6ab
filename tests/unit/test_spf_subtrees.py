"""Shared included trees (spf/subtrees.py) change nothing: over random graphs of SPF records,
evaluating many domains with one memo gives exactly what evaluating each alone gives: the
result, the counts, every trace step, what was reached, loops, and the next query to ask."""

from __future__ import annotations

import ipaddress

from hypothesis import given, settings
from hypothesis import strategies as st

from domainwatch.dns.resolver import Lookup, Outcome, Query
from domainwatch.spf.evaluator import Evaluator, NeedAnswer
from domainwatch.spf.subtrees import SubtreeMemo
from domainwatch.spf.types import Evaluation
from tests.examples import examples

SHARED = ["p1.test", "p2.test", "p3.test", "p4.test"]  # the providers every domain may include
DOMAINS = ["x1.test", "x2.test", "x3.test"]
NAMES = SHARED + DOMAINS
CLIENTS = [None, "192.0.2.1", "198.51.100.7", "2001:db8::1"]

PLAIN = [
    "ip4:192.0.2.0/24",
    "ip4:198.51.100.7",
    "ip6:2001:db8::/32",
    "a",
    "mx",
    "ptr",
    "-all",
    "~all",
    "?all",
    "include:%{d}.p1.test",
    "exists:%{i}.p2.test",
    "exp=p3.test",
]


def terms(below: list[str]) -> st.SearchStrategy[str]:
    """Terms of a record that may include or redirect to the names in `below` (so that most
    graphs end, as real ones do; a loop back up comes from `redirect=%{o}` and `a:`/`mx:`)."""
    targets = below or ["nowhere.test"]
    pointing = st.sampled_from(["include:", "redirect=", "-include:", "?include:"]).flatmap(
        lambda prefix: st.sampled_from(targets).map(lambda name: prefix + name)
    )
    naming = st.sampled_from(["a:", "mx:", "exists:"]).flatmap(
        lambda prefix: st.sampled_from(NAMES).map(lambda name: prefix + name)
    )
    loops = st.sampled_from(["include:x1.test", "redirect=%{o}"])
    return st.one_of(pointing, pointing, naming, st.sampled_from(PLAIN), loops)


def txt_answers(below: list[str]) -> st.SearchStrategy[tuple[str, ...]]:
    return st.one_of(
        st.lists(terms(below), max_size=4).map(lambda words: ("v=spf1 " + " ".join(words),)),
        st.lists(terms(below), max_size=4).map(lambda words: ("v=spf1 " + " ".join(words),)),
        st.just(("v=spf1 -all", "v=spf1 +all")),  # two records: permerror
        st.just(("not spf",)),
    )


outcomes = st.sampled_from([Outcome.ANSWER] * 12 + [Outcome.NXDOMAIN, Outcome.NODATA, Outcome.SERVFAIL])


@st.composite
def zones(draw: st.DrawFn) -> dict[Query, Lookup]:
    """Answers for every name's TXT, A, AAAA and MX; some left out (asked for: NeedAnswer)."""
    answers: dict[Query, Lookup] = {}
    for index, name in enumerate(NAMES):
        below = SHARED[index + 1 :] if name in SHARED else SHARED
        for rdtype, values in (
            ("TXT", txt_answers(below)),
            ("A", st.just(("192.0.2.1",))),
            ("AAAA", st.just(("2001:db8::1",))),
            ("MX", st.sampled_from([("10 p1.test",), ("0 .",), ("10 p2.test", "20 x1.test")])),
        ):
            if draw(st.integers(0, 29)) == 0:
                continue  # not answered yet
            query = Query(name, rdtype)
            outcome = draw(outcomes)
            records = draw(values) if outcome is Outcome.ANSWER else ()
            answers[query] = Lookup(query, outcome, records)
    return answers


def evaluate(
    answers: dict[Query, Lookup], domain: str, ip: str | None, memo: SubtreeMemo | None
) -> Evaluation | Query:
    def lookup(query: Query) -> Lookup:
        answer = answers.get(query)
        if answer is None:
            raise NeedAnswer(query)
        return answer

    address = ipaddress.ip_address(ip) if ip else None
    try:
        return Evaluator(lookup, address, f"postmaster@{domain}", domain, subtrees=memo).run(domain)
    except NeedAnswer as need:
        return need.query


@settings(max_examples=examples(500))
@given(
    st.lists(zones(), min_size=1, max_size=3),
    st.lists(st.tuples(st.sampled_from(DOMAINS), st.sampled_from(CLIENTS)), min_size=1, max_size=12),
)
def test_sharing_included_trees_changes_nothing(
    answer_sets: list[dict[Query, Lookup]], runs: list[tuple[str, str | None]]
) -> None:
    """Every evaluation, in any order, over answers that change between them (as between
    rounds), with trees recorded by other domains' evaluations."""
    memo = SubtreeMemo()
    for answers in answer_sets:
        for domain, ip in runs:
            alone = evaluate(answers, domain, ip, None)
            shared = evaluate(answers, domain, ip, memo)
            assert shared == alone, (domain, ip)


def test_a_shared_tree_is_replayed_not_evaluated_again() -> None:
    """The second domain that includes a provider reads the provider's answers, but its steps
    come from the first domain's evaluation."""
    answers = {
        Query("x1.test", "TXT"): Lookup(
            Query("x1.test", "TXT"), Outcome.ANSWER, ("v=spf1 include:p1.test -all",)
        ),
        Query("x2.test", "TXT"): Lookup(
            Query("x2.test", "TXT"), Outcome.ANSWER, ("v=spf1 include:p1.test -all",)
        ),
        Query("p1.test", "TXT"): Lookup(
            Query("p1.test", "TXT"), Outcome.ANSWER, ("v=spf1 ip4:192.0.2.0/24 include:p2.test ~all",)
        ),
        Query("p2.test", "TXT"): Lookup(Query("p2.test", "TXT"), Outcome.ANSWER, ("v=spf1 a:p2.test -all",)),
        Query("p2.test", "A"): Lookup(Query("p2.test", "A"), Outcome.ANSWER, ("198.51.100.1",)),
    }
    memo = SubtreeMemo()
    first = evaluate(answers, "x1.test", "203.0.113.9", memo)
    second = evaluate(answers, "x2.test", "203.0.113.9", memo)
    assert isinstance(first, Evaluation)
    assert isinstance(second, Evaluation)
    assert second.trace[1] is first.trace[1]  # p1.test's first step, shared
    assert second.trace[0] is not first.trace[0]  # each domain's own step is its own
    assert second == evaluate(answers, "x2.test", "203.0.113.9", None)


def spf(name: str, text: str) -> tuple[Query, Lookup]:
    return Query(name, "TXT"), Lookup(Query(name, "TXT"), Outcome.ANSWER, (text,))


def test_a_tree_that_expands_the_sender_is_not_shared() -> None:
    """%{o} is each domain's own: a provider that names it is evaluated for every domain."""
    answers = dict(
        [
            spf("x1.test", "v=spf1 include:p1.test ~all"),
            spf("x2.test", "v=spf1 include:p1.test ~all"),
            spf("p1.test", "v=spf1 exists:%{o} -all"),
        ]
    )
    answers[Query("x1.test", "A")] = Lookup(Query("x1.test", "A"), Outcome.ANSWER, ("192.0.2.9",))
    answers[Query("x2.test", "A")] = Lookup(Query("x2.test", "A"), Outcome.NXDOMAIN)
    memo = SubtreeMemo()
    first = evaluate(answers, "x1.test", "203.0.113.9", memo)
    second = evaluate(answers, "x2.test", "203.0.113.9", memo)
    assert isinstance(first, Evaluation)
    assert isinstance(second, Evaluation)
    assert (first.result.value, second.result.value) == ("pass", "softfail")
    assert second == evaluate(answers, "x2.test", "203.0.113.9", None)


def test_a_tree_recorded_around_a_replayed_one_reads_its_answers_too() -> None:
    """p1's tree, recorded while p2's inside it was replayed, still depends on p2's answer: when
    that changes, p1 is evaluated again."""
    answers = dict(
        [
            spf("x0.test", "v=spf1 include:p4.test -all"),
            spf("p4.test", "v=spf1 include:p2.test -all"),  # p2 at depth 2 after one term
            spf("x1.test", "v=spf1 include:p1.test -all"),
            spf("x2.test", "v=spf1 include:p1.test -all"),
            spf("p1.test", "v=spf1 include:p2.test -all"),
            spf("p2.test", "v=spf1 ip4:192.0.2.0/24 -all"),
        ]
    )
    memo = SubtreeMemo()
    evaluate(answers, "x0.test", "192.0.2.1", memo)  # records p2's tree
    evaluate(answers, "x1.test", "192.0.2.1", memo)  # records p1's, replaying p2's inside it
    changed = answers | dict([spf("p2.test", "v=spf1 -all")])
    shared = evaluate(changed, "x2.test", "192.0.2.1", memo)
    assert isinstance(shared, Evaluation)
    assert shared.result.value == "fail"
    assert shared == evaluate(changed, "x2.test", "192.0.2.1", None)


def test_a_redirect_to_the_sender_is_not_shared() -> None:
    answers = dict(
        [
            spf("x1.test", "v=spf1 include:p1.test ~all"),
            spf("x2.test", "v=spf1 include:p1.test ~all"),
            spf("p1.test", "v=spf1 redirect=%{o}.p3.test"),
            spf("x1.test.p3.test", "v=spf1 +all"),
            spf("x2.test.p3.test", "v=spf1 -all"),
        ]
    )
    memo = SubtreeMemo()
    evaluate(answers, "x1.test", "203.0.113.9", memo)
    assert evaluate(answers, "x2.test", "203.0.113.9", memo) == evaluate(
        answers, "x2.test", "203.0.113.9", None
    )


def test_a_match_inside_a_shared_tree_is_the_evaluations_match() -> None:
    """No term of x2's own matches: what matched is the provider's `-all`, replayed or not."""
    answers = dict(
        [
            spf("x1.test", "v=spf1 include:p1.test"),
            spf("x2.test", "v=spf1 include:p1.test"),
            spf("p1.test", "v=spf1 -all"),
        ]
    )
    memo = SubtreeMemo()
    evaluate(answers, "x1.test", "203.0.113.9", memo)
    shared = evaluate(answers, "x2.test", "203.0.113.9", memo)
    assert isinstance(shared, Evaluation)
    assert shared.matched == "-all"
    assert shared == evaluate(answers, "x2.test", "203.0.113.9", None)


def address(name: str, outcome: Outcome = Outcome.ANSWER) -> tuple[Query, Lookup]:
    query = Query(name, "A")
    return query, Lookup(query, outcome, ("192.0.2.50",) if outcome is Outcome.ANSWER else ())


def test_a_tree_is_shared_only_from_the_same_counts() -> None:
    """x2 reaches p1 with two void lookups spent: p1's own void is its third (permerror)."""
    answers = dict(
        [
            spf("x1.test", "v=spf1 a:ok1.test a:ok2.test include:p1.test -all"),
            spf("x2.test", "v=spf1 a:v2.test a:v3.test include:p1.test -all"),
            spf("p1.test", "v=spf1 a:void1.test -all"),
            address("ok1.test"),
            address("ok2.test"),
            address("v2.test", Outcome.NXDOMAIN),
            address("v3.test", Outcome.NXDOMAIN),
            address("void1.test", Outcome.NXDOMAIN),
        ]
    )
    memo = SubtreeMemo()
    evaluate(answers, "x1.test", "203.0.113.9", memo)
    shared = evaluate(answers, "x2.test", "203.0.113.9", memo)
    assert isinstance(shared, Evaluation)
    assert shared.result.value == "permerror"
    assert shared == evaluate(answers, "x2.test", "203.0.113.9", None)


def test_a_tree_is_shared_only_from_the_same_match_and_ptr_use() -> None:
    """x1 reaches p1 with a match recorded (p2's `?all`), x2 with none; x3 reaches it having
    used PTR, x2 without."""
    answers = dict(
        [
            spf("x1.test", "v=spf1 include:p2.test include:p1.test"),
            spf("x2.test", "v=spf1 a:ok1.test include:p1.test"),
            spf("x3.test", "v=spf1 ptr:ok1.test include:p1.test"),
            spf("p2.test", "v=spf1 ?all"),
            spf("p1.test", "v=spf1 -all"),
            address("ok1.test"),
        ]
    )
    answers[Query("9.113.0.203.in-addr.arpa", "PTR")] = Lookup(
        Query("9.113.0.203.in-addr.arpa", "PTR"), Outcome.NXDOMAIN
    )
    for order in (["x1.test", "x2.test", "x3.test"], ["x3.test", "x2.test", "x1.test"]):
        memo = SubtreeMemo()
        for domain in order:
            shared = evaluate(answers, domain, "203.0.113.9", memo)
            assert shared == evaluate(answers, domain, "203.0.113.9", None), (order, domain)
