"""No value in DNS can raise out of a check. Each record kind's pure code (`queries` and
`evaluate`, driven here directly, below the runner's safety net) is fed random bytes and
near-valid records of its own syntax for every query it asks, and must return a result."""

from __future__ import annotations

import ipaddress
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domainwatch.checks.base import Expectation
from domainwatch.checks.kinds.cname import CnameExpectation
from domainwatch.checks.kinds.dane import DaneExpectation
from domainwatch.checks.kinds.dkim.kind import DkimExpectation
from domainwatch.checks.kinds.dmarc.kind import DmarcExpectation
from domainwatch.checks.kinds.mta_sts import MtaStsExpectation
from domainwatch.checks.kinds.mx import MxExpectation
from domainwatch.checks.kinds.reverse_dns import ReverseDnsExpectation
from domainwatch.checks.kinds.spf.kind import SpfExpectation
from domainwatch.checks.kinds.starttls import StartTlsExpectation
from domainwatch.checks.kinds.tls_rpt import TlsRptExpectation
from domainwatch.checks.kinds.tracking import TrackingExpectation
from domainwatch.checks.registry import KINDS, kind_of
from domainwatch.dns.resolver import Lookup, Outcome, Query
from domainwatch.model import RecordResult
from domainwatch.probes.answers import PROBE_TYPES, completed
from domainwatch.spf.offline import evaluate_offline
from domainwatch.spf.types import Evaluation
from tests.examples import examples

KEY = "MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE="
EXPECTATIONS: list[Expectation] = [
    SpfExpectation("spf", "send.example.com", True, ("amazonses.com",)),
    SpfExpectation("spf", "send.example.com", True, (), ()),
    DkimExpectation("dkim:s1", "s1._domainkey.example.com", True, "s1", KEY),
    DkimExpectation("dkim:s2", "s2._domainkey.example.com", True, "s2", None, "s2.dkim.example.net"),
    MxExpectation("return_path_mx", "send.example.com", True, (("mx.example.net", 10),)),
    MxExpectation("receiving_mx", "example.com", False),
    DmarcExpectation("dmarc", "_dmarc.example.com", True, "example.com", "reject"),
    DmarcExpectation("dmarc", "_dmarc.a.b.example.co.uk", False, "a.b.example.co.uk"),
    TrackingExpectation("tracking", "links.example.com", False, "track.example.net"),
    StartTlsExpectation("starttls:mx.example.net", "mx.example.net", True, "1.3"),
    DaneExpectation("dane:mx.example.net", "mx.example.net", True),
    MtaStsExpectation("mta_sts", "_mta-sts.example.com", True, "example.com", "enforce", ("mx.example.net",)),
    MtaStsExpectation("mta_sts", "_mta-sts.example.com", False, "example.com", "testing"),
    TlsRptExpectation("tls_rpt", "_smtp._tls.example.com", True, ("mailto:r@example.com",)),
    CnameExpectation("return_path_cname", "pm-bounces.example.com", True, "pm.mtasv.net"),
    ReverseDnsExpectation("reverse_dns:192.0.2.1", "1.2.0.192.in-addr.arpa", True, "192.0.2.1"),
    ReverseDnsExpectation(
        "reverse_dns:2001:db8::1", ipaddress.ip_address("2001:db8::1").reverse_pointer, True, "2001:db8::1"
    ),
]

HUGE = "9" * 5000
words = st.sampled_from(
    [
        "v=spf1",
        "v=DMARC1",
        "V=DMARC1",
        "v=DKIM1",
        "v=DKIM2",
        "p=",
        "p=none",
        "p=ReJect",
        "sp=",
        "np=",
        "pct=",
        f"pct={HUGE}",
        "pct=²",
        "rua=",
        "ruf=",
        "mailto:",
        "mailto:a@b.example",
        "fo=",
        "adkim=",
        "aspf=",
        "t=y",
        "psd=y",
        "k=rsa",
        "k=ed25519",
        "k=dsa",
        "h=sha1",
        "s=email",
        "s=*",
        "g=*",
        f"p={KEY}",
        "p=MIIB",
        "include:",
        "include:amazonses.com",
        "redirect=",
        "exists:",
        f"exists:%{{l{HUGE}}}.x.test",
        "%{i}",
        "%{ir}",
        "%{d5r-}",
        "%{l1r+}",
        "ip4:",
        "v=STSv1",
        "id=",
        "id=20261201",
        f"id={HUGE}",
        "v=TLSRPTv1",
        "rua=https://r.example",
        "ip4:192.0.2.0/24",
        f"ip4:1.2.3.4/{HUGE}",
        "ip6:::1/129",
        "a:",
        f"a/{HUGE}",
        "mx",
        "mx//128",
        "ptr",
        "ptr:%{d}",
        "-all",
        "+all",
        "?all",
        "~all",
        "exp=%{r}",
        ";",
        "=",
        ",",
        " ",
        "\t",
        "\\",
        '"',
        "\x00",
        "\x1b[31m",
        "\udcff",
        "é",
        "0",
        "10",
        "65535",
        "99999999",
        ".",
        "..",
        "*",
        "_dmarc",
        "example.com",
    ]
)
spf_terms = st.sampled_from(
    [
        "include:amazonses.com",
        "include:%{d}",
        "redirect=%{o}",
        f"exists:%{{l{HUGE}}}.x.test",
        "exists:%{i}.%{v}.x.test",
        "exists:%{ir}.%{l1r+-}._spf.%{d}",
        "a",
        "a:%{h}/24",
        f"a/{HUGE}",
        "mx",
        "mx:%{d2}",
        "ptr",
        "ptr:%{d}",
        "ip4:192.0.2.0/24",
        "ip6:2001:db8::/32",
        "-all",
        "~all",
        "+all",
        "?all",
        "exp=%{r}",
        "exp=explain.%{d}",
        "%{p}",
        "a:%{p}.x.test",
        "exists:%{c}%{t}",
    ]
)
tags = st.sampled_from(
    [
        "p=reject",
        "p=ReJect",
        "p=",
        "sp=nothing",
        "np=none",
        "pct=50",
        f"pct={'0' * 5000}",
        "pct=²",
        "rua=mailto:a@b.example",
        "rua=mailto:a@b.example!10m",
        "rua=reports.example.com",
        "ruf=mailto:x",
        "fo=1",
        "fo=x",
        "adkim=s",
        "aspf=relaxed",
        "t=y",
        "psd=y",
        "psd=x",
        "foo=bar",
        "stray",
        "k=rsa",
        "k=ed25519",
        "k=dsa",
        "h=sha1",
        "s=email",
        "s=tlsrpt",
        "g=*",
        f"p={KEY}",
        "p=MIIB",
        "t=s:y",
        "n=note",
    ]
)
near_valid = st.one_of(
    st.lists(spf_terms, max_size=10).map(lambda terms: " ".join(["v=spf1", *terms])),
    st.lists(tags, max_size=8).map(lambda t: "; ".join(["v=DMARC1", *t])),
    st.lists(tags, max_size=8).map(lambda t: "; ".join(["v=DKIM1", *t])),
    st.lists(tags, max_size=8).map("; ".join),
    st.builds(
        lambda version, sep, terms: version + sep.join(terms),
        st.sampled_from(["v=spf1 ", "v=DMARC1; ", "V=DMARC1;", "v=DKIM1; ", ""]),
        st.sampled_from([" ", "; ", ";", ""]),
        st.lists(words, max_size=10),
    ),
)
random_text = st.binary(max_size=300).map(lambda raw: raw.decode("utf-8", "surrogateescape"))
tlsa_data = st.one_of(st.binary(max_size=80).map(bytes.hex), random_text)
tlsa_values = st.builds(
    lambda usage, selector, mtype, data: f"{usage} {selector} {mtype} {data}",
    st.integers(-1, 300), st.integers(-1, 3), st.integers(-1, 3), tlsa_data,
)  # fmt: skip
values = st.one_of(near_valid, random_text, tlsa_values, st.just(f"v=DMARC1; p=none; pct={'0' * 5000}"))
hosts = st.one_of(
    st.sampled_from([".", "mx.example.net", "192.0.2.1", "[::1]", "a" * 70, "x..y", "mx.example.net."]),
    random_text,
)


# What a probe's answer holds: the facts our probes write, with values of any JSON type (their
# text comes from the probed server: certificate names, a policy's lines).
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63) | st.floats(allow_nan=False) | values,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
fact_keys = st.sampled_from(
    ["starttls", "handshake_error", "tls_version", "cipher", "names", "issuer", "not_after", "probed_at",
     "trusted", "verify_error", "status", "location", "content_type", "oversize", "policy",
     "certificate_error", "version", "mode", "max_age", "mx", "problems", "addresses", "address", "error",
     "detail", "refused", "chain", "linked", "cert256", "cert512", "spki256", "spki512"]
)  # fmt: skip
probe_facts = st.dictionaries(fact_keys, json_values, max_size=10)
policies = st.fixed_dictionaries(
    {
        "status": st.sampled_from([200, 301, 404]),
        "content_type": st.sampled_from(["text/plain", "text/html"]),
    },
    optional={"policy": st.dictionaries(fact_keys, json_values, max_size=6)},
)


def probe_answer(query: Query, data: st.DataObject) -> Lookup:
    facts = data.draw(st.one_of(probe_facts, policies), label=f"{query} facts")
    if data.draw(st.booleans(), label="as written"):
        return completed(query, facts)
    return Lookup(query, Outcome.ANSWER, (data.draw(random_text),))


def answer(query: Query, data: st.DataObject) -> Lookup:
    # Mostly answers (what the checks read most), every other outcome too.
    outcome = data.draw(st.sampled_from([Outcome.ANSWER] * 8 + list(Outcome)), label=f"{query} outcome")
    if outcome is not Outcome.ANSWER:
        zone = data.draw(st.one_of(st.sampled_from(["", "example.com", "com", "."]), hosts), label="zone")
        return Lookup(query, outcome, ttl=data.draw(st.integers(0, 2**31)), zone=zone)
    if query.rdtype in PROBE_TYPES:
        return probe_answer(query, data)
    if query.rdtype == "MX":
        records = data.draw(
            st.lists(st.builds(lambda p, h: f"{p} {h}", st.integers(-5, 70000), hosts), max_size=14)
        )
    elif query.rdtype in ("A", "AAAA", "CNAME", "NS", "PTR"):
        records = data.draw(st.lists(hosts, max_size=4))
    else:
        records = data.draw(st.lists(values, min_size=1, max_size=2))
    aliases = data.draw(st.lists(hosts, max_size=2))
    return Lookup(query, Outcome.ANSWER, tuple(records), 300, tuple(aliases))


@settings(max_examples=examples(400), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(EXPECTATIONS), st.data())
def test_no_answer_makes_a_kind_raise(expect: Expectation, data: st.DataObject) -> None:
    kind = kind_of(expect.record)
    answers: dict[Query, Lookup] = {}
    for _ in range(64):  # as the runner: until the kind asks for nothing new
        needed = kind.queries(expect, answers) - answers.keys()
        if not needed:
            break
        for query in sorted(needed):
            answers[query] = answer(query, data)
    result = kind.evaluate(expect, answers)
    assert isinstance(result, RecordResult)
    assert result.record == expect.record
    if kind.diagnose is not None:  # as the runner: the diagnosis's queries, then its findings
        for query in sorted(kind.diagnose(expect, answers, result).queries - answers.keys()):
            answers[query] = answer(query, data)
        assert all(f.message for f in kind.diagnose(expect, answers, result).findings)


def test_every_kind_is_fed() -> None:
    """The property above covers each registered kind."""
    assert {k.name for k in KINDS} == {kind_of(e.record).name for e in EXPECTATIONS}


def test_a_record_of_five_thousand_digits_is_a_finding_not_an_exception() -> None:
    """The reported inputs: DMARC pct= with 5,000 zeros, and an SPF macro with 5,000 digits."""
    dmarc = EXPECTATIONS[6]
    lookup = Lookup(Query.of(dmarc.name, "TXT"), Outcome.ANSWER, (f"v=DMARC1; p=none; pct={'0' * 5000}",))
    result: Any = kind_of("dmarc").evaluate(dmarc, {lookup.query: lookup})
    assert isinstance(result, RecordResult)
    spf = EXPECTATIONS[0]
    text = f"v=spf1 exists:%{{l{'7' * 5000}}}.x.test include:amazonses.com -all"
    answers = {
        Query.of(spf.name, "TXT"): Lookup(Query.of(spf.name, "TXT"), Outcome.ANSWER, (text,)),
        Query.of("amazonses.com", "TXT"): Lookup(
            Query.of("amazonses.com", "TXT"), Outcome.ANSWER, ("v=spf1 -all",)
        ),
    }
    assert isinstance(kind_of("spf").evaluate(spf, answers), RecordResult)


@settings(max_examples=examples(600), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["192.0.2.1", "2001:db8::1", None]), st.data())
def test_no_answer_makes_the_spf_evaluator_raise(ip: str | None, data: st.DataObject) -> None:
    """check_host() as `spf-eval` runs it (macros expanded for a sender), over random answers."""
    answers: dict[Query, Lookup] = {}
    for _ in range(64):
        outcome = evaluate_offline(answers, ip, "example.com")
        if not isinstance(outcome, Query):
            assert isinstance(outcome, Evaluation)
            return
        answers[outcome] = answer(outcome, data)
