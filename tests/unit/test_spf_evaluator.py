"""The evaluator's totality: any record text, any client, one of the seven results, no crash."""

from __future__ import annotations

import gc
import ipaddress

from hypothesis import given
from hypothesis import strategies as st

from domainwatch.dns.resolver import Lookup, Outcome, Query
from domainwatch.spf.evaluator import Evaluator
from domainwatch.spf.types import Result
from tests.unit.spf_words import SPF_WORDS


def answering(record: str) -> Evaluator:
    """An evaluator whose DNS answers the record at self.test and NXDOMAIN for everything else."""

    def lookup(query: Query) -> Lookup:
        if query == Query("self.test", "TXT"):
            return Lookup(query, Outcome.ANSWER, (record,))
        if query.rdtype == "A" and query.name.endswith("example.test"):
            return Lookup(query, Outcome.ANSWER, ("192.0.2.1",))
        return Lookup(query, Outcome.NXDOMAIN)

    return Evaluator(lookup, ipaddress.ip_address("192.0.2.1"), "user@self.test", "helo.test")


@given(st.text())
def test_arbitrary_text_never_crashes(text: str) -> None:
    """Any TXT content at the domain gives one of the seven results."""
    assert answering("v=spf1 " + text).run("self.test").result in set(Result)


@given(st.lists(st.sampled_from(SPF_WORDS), max_size=40))
def test_spf_shaped_records_never_crash(words: list[str]) -> None:
    """Records built from SPF's own vocabulary (including self-includes) always end with a result."""
    evaluation = answering("v=spf1 " + "".join(words)).run("self.test")
    assert evaluation.result in set(Result)
    assert evaluation.dns_lookups <= 11
    assert evaluation.void_lookups <= 3


def test_an_evaluation_leaves_no_reference_cycle() -> None:
    """Evaluations are freed the moment they are dropped, not by the cycle collector: a cycle per
    evaluation once made a third of what the collector scanned in a daemon round."""
    gc.collect()
    gc.disable()
    try:
        for _ in range(200):
            evaluator = Evaluator(
                lambda q: Lookup(q, Outcome.NXDOMAIN), None, "postmaster@a.example", "a.example"
            )
            evaluator.run("a.example")
            del evaluator
        assert gc.collect() == 0
    finally:
        gc.enable()
