"""The fast codec against dnspython: the same Lookup for every message dnspython builds, and a
rejection for every mutation dnspython rejects (or a hand-back to dnspython: Unsupported)."""

from __future__ import annotations

from typing import Any

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

from domainwatch.dns.dnspython_resolver import classify_response
from domainwatch.dns.fast.codec import (
    Malformed,
    Unsupported,
    encode_query,
    parse_response,
    question_of,
    response_id,
)
from domainwatch.dns.resolver import Lookup, Query
from tests.examples import examples

# dnspython imports rdata modules lazily, and some touch `random` when first loaded: load them all
# now, outside the strategies (hypothesis forbids randomness inside them).
for _kind, _text in [
    ("TXT", '"x"'),
    ("MX", "1 a."),
    ("CNAME", "a."),
    ("A", "1.2.3.4"),
    ("AAAA", "::1"),
    ("NS", "a."),
    ("PTR", "a."),
    ("SOA", "a. b. 1 2 3 4 5"),
]:
    dns.message.make_response(dns.message.make_query("a.", _kind, use_edns=True, id=1)).to_wire()
    dns.rrset.from_text("a.", 1, "IN", _kind, _text)

LABELS = st.sampled_from(
    ["a", "b", "mail", "Send", "_dmarc", "resend", "_domainkey", "x-1", "EXAMPLE", "com"]
)
NAMES = st.lists(LABELS, min_size=1, max_size=4).map(".".join)
TYPES = st.sampled_from(["TXT", "MX", "CNAME", "A", "AAAA", "NS", "PTR"])
TEXT = st.text(
    st.characters(min_codepoint=32, max_codepoint=126).filter(lambda c: c not in '"\\'), max_size=300
)


def rdata_text(rdtype: str, draw: Any) -> str:
    if rdtype == "TXT":
        return " ".join(
            f'"{chunk}"' for chunk in draw(st.lists(TEXT.map(lambda t: t[:255]), min_size=1, max_size=3))
        )
    if rdtype == "MX":
        return f"{draw(st.integers(0, 65535))} {draw(NAMES)}."
    if rdtype == "A":
        return ".".join(str(draw(st.integers(0, 255))) for _ in range(4))
    if rdtype == "AAAA":
        return str(
            draw(
                st.sampled_from(["2001:db8::1", "::ffff:1.2.3.4", "fe80::1:2", "::", "2001:db8:0:0:1:0:0:1"])
            )
        )
    return f"{draw(NAMES)}."


@st.composite
def responses(draw: Any) -> tuple[dns.message.Message, Query, int]:
    name, rdtype = draw(NAMES), draw(TYPES)
    query = Query.of(name, rdtype)
    request = dns.message.make_query(
        name, rdtype, use_edns=draw(st.booleans()), id=draw(st.integers(0, 65535))
    )
    response = dns.message.make_response(request)
    response.set_rcode(draw(st.sampled_from([dns.rcode.NOERROR, dns.rcode.NXDOMAIN, dns.rcode.SERVFAIL])))
    if draw(st.booleans()):
        response.flags |= dns.flags.AA
    if draw(st.booleans()):
        response.flags |= dns.flags.AD
    owner = name
    if draw(st.booleans()):  # a CNAME chain first
        target = draw(NAMES)
        response.answer.append(
            dns.rrset.from_text(owner + ".", draw(st.integers(0, 2**31 - 1)), "IN", "CNAME", target + ".")
        )
        owner = target
    if draw(st.booleans()):
        values = {rdata_text(rdtype, draw) for _ in range(draw(st.integers(1, 4)))}
        response.answer.append(
            dns.rrset.from_text_list(
                owner + ".", draw(st.integers(0, 2**31 - 1)), "IN", rdtype, sorted(values)
            )
        )
    if draw(st.booleans()):  # signatures, as a resolver asked with DO returns them
        expirations = draw(st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=3))
        tag, signer = draw(st.integers(0, 65535)), draw(NAMES)
        signatures = [f"{rdtype} 13 2 300 {e} 0 {tag} {signer}. AAAA" for e in expirations]
        response.answer.append(dns.rrset.from_text_list(owner + ".", 60, "IN", "RRSIG", signatures))
    if draw(st.booleans()):  # an unrelated record
        other = draw(TYPES)
        response.answer.append(
            dns.rrset.from_text(draw(NAMES) + ".", 60, "IN", other, rdata_text(other, draw))
        )
    if draw(st.booleans()):
        response.authority.append(
            dns.rrset.from_text(
                draw(NAMES) + ".",
                draw(st.integers(0, 86400)),
                "IN",
                "SOA",
                f"ns.{draw(NAMES)}. host.{draw(NAMES)}. 1 2 3 4 {draw(st.integers(0, 86400))}",
            )
        )
    return response, query, request.id  # to_wire() shuffles RRs: done in the test, not here


def with_dnspython(wire: bytes, query: Query, qid: int) -> Lookup | str:
    try:
        message = dns.message.from_wire(wire)
    except (dns.exception.DNSException, ValueError, UnicodeError):
        return "reject"
    request = dns.message.make_query(query.name, query.rdtype, id=qid)
    if not request.is_response(message):
        return "reject"
    try:
        return classify_response(query, message)
    except (dns.exception.DNSException, ValueError):
        return "reject"


def with_fast(wire: bytes, query: Query, qid: int) -> Lookup | str | None:
    """Parsed both ways, every name read and the question matched as sent: always the same."""
    if response_id(wire) != qid:
        return "reject"
    parsed = _parse_fast(wire, query)
    assert parsed == _parse_fast(wire, query, question_of(encode_query(qid, query)))
    return parsed


def _parse_fast(wire: bytes, query: Query, question: bytes = b"") -> Lookup | str | None:
    try:
        return parse_response(wire, query, question=question)
    except Malformed:
        return "reject"
    except Unsupported:
        return None  # handed to dnspython: agrees by construction


@given(responses())
@settings(max_examples=examples(400), deadline=None)
def test_same_lookup_as_dnspython(case: tuple[dns.message.Message, Query, int]) -> None:
    """Well-formed responses (compression, CNAME chains, SOA, EDNS): identical Lookups."""
    message, query, qid = case
    wire = message.to_wire()
    note(f"{query} {message.to_text()}")
    fast = with_fast(wire, query, qid)
    if fast is not None:
        assert with_dnspython(wire, query, qid) == fast


@given(responses(), st.data())
@settings(max_examples=examples(600), deadline=None)
def test_mutations_are_rejected_when_dnspython_rejects(
    case: tuple[dns.message.Message, Query, int], data: st.DataObject
) -> None:
    """Truncated, flipped and padded bytes: never accepted where dnspython refuses them, and when
    both accept, the same answer."""
    message, query, qid = case
    wire = message.to_wire()
    kind = data.draw(st.sampled_from(["truncate", "flip", "append"]))
    if kind == "truncate":
        wire = wire[: data.draw(st.integers(0, max(0, len(wire) - 1)))]
    elif kind == "flip":
        index = data.draw(st.integers(0, len(wire) - 1))
        wire = wire[:index] + bytes([wire[index] ^ data.draw(st.integers(1, 255))]) + wire[index + 1 :]
    else:
        wire = wire + data.draw(st.binary(min_size=1, max_size=8))
    note(f"{query} {qid} {wire.hex()}")
    fast, reference = with_fast(wire, query, qid), with_dnspython(wire, query, qid)
    if fast is None:
        return
    if reference == "reject":
        assert "reject" == fast
    else:
        assert fast in ("reject", reference)  # stricter is allowed: a MALFORMED outcome, never a wrong answer


@pytest.mark.parametrize("rdtype", ["TXT", "MX", "A", "AAAA", "CNAME", "NS", "PTR", "SOA"])
def test_encoded_query_is_what_dnspython_reads(rdtype: str) -> None:
    """Our queries parse in dnspython as the same question, with EDNS and RD as asked."""
    wire = encode_query(4242, Query.of("Send.Example.com", rdtype), recursion_desired=False)
    message = dns.message.from_wire(wire)
    question = message.question[0]
    assert (4242, "send.example.com.", rdtype, 0, 1232) == (
        message.id,
        question.name.to_text().lower(),
        dns.rdatatype.to_text(question.rdtype),
        message.flags & dns.flags.RD,
        message.payload,
    )


def test_a_compression_target_may_not_run_into_the_name_pointing_at_it() -> None:
    """Found by the mutation test: an owner pointing at offset 0 reads a 44-octet "label" over the
    header and question into its own record. dnspython rejects that overlap; so do we."""
    wire = bytes.fromhex(
        "2c00810000010002000000000a5f646f6d61696e6b65790000100001"
        "c00000050001000000000003016100c028001000010000003c000100"
    )
    with pytest.raises(dns.exception.FormError):
        dns.message.from_wire(wire)
    with pytest.raises(Malformed):
        parse_response(wire, Query("_domainkey", "TXT"))


def test_ad_bit_and_the_earliest_signature_expiry_are_read_both_ways() -> None:
    """A validated answer (AD) with two RRSIGs: authenticated, and the earlier expiry."""
    query = Query.of("example.com", "TXT")
    request = dns.message.make_query("example.com.", "TXT", id=7, use_edns=0, want_dnssec=True)
    response = dns.message.make_response(request)
    response.flags |= dns.flags.AD
    response.answer.append(dns.rrset.from_text("example.com.", 60, "IN", "TXT", '"v=spf1 -all"'))
    expiries = ("20270101000000", "20261215000000")
    signatures = [f"TXT 13 2 60 {e} 1700000000 4242 example.com. AAAA" for e in expiries]
    response.answer.append(dns.rrset.from_text_list("example.com.", 60, "IN", "RRSIG", signatures))
    wire = response.to_wire()
    fast = parse_response(wire, query)
    assert (True, 1_765_756_800 + 365 * 86400) == (fast.authenticated, fast.signatures_expire)
    assert fast == with_dnspython(wire, query, 7)


def test_recursive_queries_ask_for_validation_and_signatures() -> None:
    """AD in every recursive query (RFC 6840 §5.7); DO when asked; neither to an authoritative server."""
    recursive = dns.message.from_wire(encode_query(1, Query.of("a.test", "TXT"), dnssec_ok=True))
    direct = dns.message.from_wire(encode_query(1, Query.of("a.test", "TXT"), recursion_desired=False))
    asked = (recursive.flags & dns.flags.AD, recursive.ednsflags & dns.flags.DO)
    assert (dns.flags.AD, dns.flags.DO) == asked
    assert (0, 0) == (direct.flags & dns.flags.AD, direct.ednsflags & dns.flags.DO)
