"""How a parsed DNS response becomes a Lookup outcome (no sockets involved)."""

from __future__ import annotations

import dns.flags
import dns.message
import dns.rcode
import dns.rrset
import pytest

from domainwatch.dns.dnspython_resolver import classify_response
from domainwatch.dns.resolver import Outcome, Query, parse_nameserver

Q = Query.of("send.example.com", "TXT")


def response(
    rcode: dns.rcode.Rcode = dns.rcode.NOERROR, *answers: dns.rrset.RRset, aa: bool = True
) -> dns.message.Message:
    message = dns.message.make_response(dns.message.make_query(Q.name, Q.rdtype))
    message.set_rcode(rcode)
    if aa:
        message.flags |= dns.flags.AA
    message.answer.extend(answers)
    return message


def rrset(name: str, rdtype: str, *values: str) -> dns.rrset.RRset:
    return dns.rrset.from_text(name + ".", 300, "IN", rdtype, *values)


@pytest.mark.parametrize(
    ("rcode", "outcome"),
    [
        (dns.rcode.NXDOMAIN, Outcome.NXDOMAIN),
        (dns.rcode.NOERROR, Outcome.NODATA),
        (dns.rcode.SERVFAIL, Outcome.SERVFAIL),
        (dns.rcode.REFUSED, Outcome.REFUSED),
        (dns.rcode.NOTIMP, Outcome.REFUSED),
        (dns.rcode.FORMERR, Outcome.REFUSED),
    ],
)
def test_rcode_classification(rcode: dns.rcode.Rcode, outcome: Outcome) -> None:
    """Empty answers map by rcode; only NXDOMAIN and NOERROR are conclusive."""
    assert outcome == classify_response(Q, response(rcode)).outcome


def test_txt_strings_are_joined_without_separator() -> None:
    """RFC 7208 §3.3: the strings of one TXT record are concatenated as is."""
    lookup = classify_response(
        Q, response(dns.rcode.NOERROR, rrset(Q.name, "TXT", '"v=spf1 include:a" ".example -all"'))
    )
    assert (Outcome.ANSWER, ("v=spf1 include:a.example -all",)) == (lookup.outcome, lookup.records)


def test_cname_chain_is_followed_and_reported() -> None:
    """An answer through a CNAME gives the target's records and the alias chain."""
    message = response(
        dns.rcode.NOERROR,
        rrset(Q.name, "CNAME", "spf.provider.example."),
        rrset("spf.provider.example", "TXT", '"v=spf1 -all"'),
    )
    lookup = classify_response(Q, message)
    assert (("v=spf1 -all",), ("spf.provider.example",)) == (lookup.records, lookup.aliases)


def test_records_of_other_owners_are_ignored() -> None:
    """Stray records for another name are not an answer."""
    lookup = classify_response(Q, response(dns.rcode.NOERROR, rrset("other.example.com", "TXT", '"x"')))
    assert Outcome.NODATA == lookup.outcome


def test_mx_values_are_priority_and_host() -> None:
    """MX records read "<priority> <host>"; null MX reads "0 ."."""
    q = Query.of("example.com", "MX")
    message = dns.message.make_response(dns.message.make_query(q.name, q.rdtype))
    message.answer.append(rrset("example.com", "MX", "10 MX1.Example.NET.", "0 ."))
    assert ("0 .", "10 mx1.example.net") == classify_response(q, message).records


def test_referral_without_authority_is_not_absence() -> None:
    """Asked directly (authoritative mode), a non-AA empty answer is not proof of absence."""
    lookup = classify_response(Q, response(dns.rcode.NOERROR, aa=False), require_authority=True)
    assert Outcome.REFUSED == lookup.outcome


@pytest.mark.parametrize(
    ("text", "host", "port"),
    [
        ("192.0.2.1", "192.0.2.1", 53),
        ("127.0.0.1:5300", "127.0.0.1", 5300),
        ("[::1]:5353", "::1", 5353),
        ("2001:db8::1", "2001:db8::1", 53),
    ],
)
def test_nameserver_parsing(text: str, host: str, port: int) -> None:
    """Nameservers are IP addresses with an optional port."""
    parsed = parse_nameserver(text)
    assert (host, port) == (parsed.host, parsed.port)


@pytest.mark.parametrize("text", ["dns.example", "1.2.3.4:0", "1.2.3.4:x", "[::1", "[::1]x"])
def test_bad_nameservers_are_rejected(text: str) -> None:
    """Anything else is a ValueError with a message for the config error."""
    with pytest.raises(ValueError):  # noqa: PT011 (the message is checked by the config tests)
        parse_nameserver(text)
