"""RFC 7208 record syntax: selection, terms, CIDR lengths, macros, and totality."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domainwatch.spf.syntax import Mechanism, Modifier, Qualifier, is_spf, parse
from tests.unit.spf_words import SPF_WORDS


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("v=spf1 -all", True),
        ("V=SPF1 -all", True),
        ("v=spf1", True),
        ("v=spf10 -all", False),
        ("v=spf1-all", False),
        (" v=spf1 -all", False),
        ("spf2.0/pra -all", False),
    ],
)
def test_record_selection_follows_section_4_5(text: str, expected: bool) -> None:
    """Only "v=spf1" followed by a space or the end selects a record."""
    assert expected == is_spf(text)


@pytest.mark.parametrize(
    "text",
    [
        "v=spf1 include:amazonses.com ~all",
        "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 a mx -all",
        "v=spf1 a:mail.example.com/24//64 mx:example.com/28 ?all",
        "v=spf1 exists:%{i}._spf.%{d} -all",
        "v=spf1 include:_spf.google.com include:mailgun.org redirect=_spf.example.com",
        "v=spf1 ptr:example.com -all",
        "v=spf1 exp=explain._spf.%{d} -all",
        "v=spf1 -include:bad.example.com +all",
        "v=spf1 unknown-mod=anything -all",
        "v=spf1    -all   ",
        "v=spf1 a:%{l1r-}.example.com -all",
    ],
)
def test_valid_records_parse_without_errors(text: str) -> None:
    """Real-world shapes of valid records parse cleanly."""
    assert () == parse(text).errors


@pytest.mark.parametrize(
    ("text", "column", "fragment"),
    [
        ("v=spf1 include -all", 15, "requires :domain"),
        ("v=spf1 ip4:192.0.2.300 -all", 12, "not an IPv4 address"),
        ("v=spf1 ip4:192.0.2.0/33 -all", 12, "out of range"),
        ("v=spf1 ip6:2001:db8::/129 -all", 12, "out of range"),
        ("v=spf1 a/33 -all", 9, "out of range"),
        ("v=spf1 foo:bar -all", 8, "unknown mechanism"),
        ("v=spf1 all:foo", 11, "takes no argument"),
        ("v=spf1 redirect=a.example redirect=b.example", 27, "more than once"),
        ("v=spf1 include:example -all", 16, "top-level label"),
        ("v=spf1 include:%{z}.example.com -all", 16, "not allowed"),
        ("v=spf1 include:%{c}.example.com -all", 16, "not allowed"),
        ("v=spf1 include:%{d0}.example.com -all", 16, "zero"),
        ("v=spf1 include:50%.example.com -all", 16, "invalid macro"),
        ("v=spf1 include:exam\u00e9ple.com -all", 20, "not printable ASCII"),
        ("v=spf1 ~ -all", 8, "not a mechanism"),
        ("include:example.com -all", 1, "must start"),
    ],
)
def test_syntax_errors_name_their_column(text: str, column: int, fragment: str) -> None:
    """Each error says where (the 1-based column of the offending part) and what is wrong."""
    errors = parse(text).errors
    assert errors, text
    assert column == errors[0].column
    assert fragment in errors[0].message


def test_terms_carry_qualifier_kind_and_arguments() -> None:
    """Parsing keeps qualifiers, domain-specs, networks and dual CIDR lengths."""
    record = parse("v=spf1 -a:mail.example.com/24//64 ~ip4:192.0.2.1 redirect=_spf.example.com")
    a, ip4, redirect = record.terms
    assert isinstance(a, Mechanism)
    assert (Qualifier.FAIL, "a", "mail.example.com", 24, 64) == (
        a.qualifier,
        a.kind,
        a.domain_spec,
        a.cidr4,
        a.cidr6,
    )
    assert isinstance(ip4, Mechanism)
    assert "192.0.2.1/32" == str(ip4.network)
    assert isinstance(redirect, Modifier)
    assert ("redirect", "_spf.example.com") == (redirect.name, redirect.value)


@given(st.text())
def test_parser_never_raises_on_arbitrary_text(text: str) -> None:
    """Any text parses to a record with terms and/or errors; nothing raises."""
    record = parse(text)
    assert record.text == text


@given(st.lists(st.sampled_from(SPF_WORDS), max_size=30))
def test_parser_never_raises_on_spf_like_fragments(parts: list[str]) -> None:
    """Records assembled from SPF's own vocabulary never crash the parser."""
    parse("v=spf1 " + "".join(parts))
