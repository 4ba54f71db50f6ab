"""A minimal DNS wire codec for the types domainwatch asks for (pure, no dnspython).

Building and parsing messages with dns.message costs about 200 microseconds a query; this costs
a few. It handles TXT, MX, CNAME, A, AAAA, NS, PTR and SOA (negative TTLs) with compression
pointers, reads RRSIGs for their expiration, and raises Malformed for anything dnspython would
reject, or Unsupported where it would rather not decide (the caller then parses with dnspython).
Differentially tested against dnspython (tests/unit/test_fast_codec.py).
"""

from __future__ import annotations

import struct

import dns.ipv6

from domainwatch.dns.records import tlsa_text
from domainwatch.dns.resolver import Lookup, Outcome, Query

TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16, "AAAA": 28, "TLSA": 52}
_CODES = {v: k for k, v in TYPES.items()}
_HEADER = struct.Struct("!HHHHHH")
_RR = struct.Struct("!HHIH")
_FLAG_QR, _FLAG_AA, _FLAG_TC, _FLAG_RD, _FLAG_AD = 0x8000, 0x0400, 0x0200, 0x0100, 0x0020
_EDNS_DO = 0x8000  # in the OPT record's TTL: "DNSSEC OK", send RRSIGs (RFC 3225)
_RRSIG = 46
_RRSIG_FIXED = 18  # type covered, algorithm, labels, original TTL, expiration, inception, key tag
_NOERROR, _SERVFAIL, _NXDOMAIN = 0, 2, 3
_MAX_CHAIN = 16
_OPT_SIZE = 11  # the OPT record encode_query appends: root owner, type, class, TTL, no data
_POINTER_TO_QUESTION = b"\xc0\x0c"  # a compression pointer to the question's name
_SINGLETONS = frozenset({"CNAME", "SOA"})


class Malformed(Exception):  # noqa: N818 (a verdict on the bytes)
    """The bytes are not a well-formed DNS message."""


class Unsupported(Exception):  # noqa: N818
    """Well-formed, perhaps, but outside what this codec decides: use dnspython."""


def encode_query(
    qid: int, query: Query, *, recursion_desired: bool = True, dnssec_ok: bool = False, payload: int = 1232
) -> bytes:
    """A query with one question and an EDNS(0) OPT record advertising `payload`. A recursive
    query sets AD, asking whether the resolver validated the answer (RFC 6840 §5.7);
    `dnssec_ok` sets DO, asking for the RRSIGs too."""
    rdtype = TYPES.get(query.rdtype)
    if rdtype is None:
        raise Unsupported(query.rdtype)
    flags = _FLAG_RD | _FLAG_AD if recursion_desired else 0
    out = bytearray(_HEADER.pack(qid, flags, 1, 0, 0, 1))
    out += encode_name(query.name)
    out += struct.pack("!HH", rdtype, 1)
    edns = _EDNS_DO if dnssec_ok else 0
    out += b"\x00" + struct.pack("!HHIH", 41, payload, edns, 0)  # OPT: root owner, no options
    return bytes(out)


def encode_name(name: str) -> bytes:
    out = bytearray()
    for label in name.split(".") if name else []:
        raw = label.encode("utf-8", "surrogateescape")
        if not 0 < len(raw) < 64:
            raise Unsupported(f"label {label[:20]!r}")
        out.append(len(raw))
        out += raw
    out.append(0)
    if len(out) > 255:
        raise Unsupported("name too long")
    return bytes(out)


def response_id(wire: bytes) -> int | None:
    """The id of a reply, even a cut-short one (so a garbled reply is MALFORMED, not a timeout)."""
    return int.from_bytes(wire[:2], "big") if len(wire) >= 2 else None


def is_truncated(wire: bytes) -> bool:
    return len(wire) >= 12 and bool(int.from_bytes(wire[2:4], "big") & _FLAG_TC)


def question_of(query_wire: bytes) -> bytes:
    """The question section (name, type, class) of a query from encode_query."""
    return query_wire[12:-_OPT_SIZE]


def parse_response(
    wire: bytes, query: Query, *, server: str = "", require_authority: bool = False, question: bytes = b""
) -> Lookup:
    """Classify a response exactly as dnspython_resolver.classify_response does.

    `question`, the question as sent (question_of), lets the usual reply skip parsing names: a
    question that echoes it byte for byte (case aside) is `query`'s, and so is an owner name
    that points at it. Without it, or when the echo differs, every name is parsed.
    """
    reader = _Reader(wire)
    qid, flags, qdcount, ancount, nscount, arcount = reader.header()
    del qid
    if not flags & _FLAG_QR or qdcount != 1 or (flags >> 11) & 0xF:
        raise Malformed("not a response to one standard query")
    if question and wire[12 : 12 + len(question)].lower() == question:
        # An uncompressed name, ending before any record: what a pointer to 12 reads.
        reader.offset += len(question)
        reader.question_name = query.name
    else:
        qname, qtype, qclass = reader.name(), reader.u16(), reader.u16()
        if qname != query.name or _CODES.get(qtype) != query.rdtype or qclass != 1:
            raise Malformed("the question does not match")
    answers = [reader.record() for _ in range(ancount)]
    authority = [reader.record() for _ in range(nscount)]
    additional = [reader.record() for _ in range(arcount)]
    if reader.offset != len(wire):
        raise Malformed("trailing junk")
    rcode = flags & 0x000F
    opt = [r for r in additional if r.rdtype == "41"]
    if len(opt) > 1:
        raise Malformed("more than one OPT record")
    if opt:
        rcode |= (opt[0].ttl >> 24) << 4  # the extended RCODE bits live in the OPT "TTL"
    return _classify(
        query, rcode, flags, answers, authority, server=server, require_authority=require_authority
    )


def _classify(
    query: Query,
    rcode: int,
    flags: int,
    answers: list[_Record],
    authority: list[_Record],
    *,
    server: str,
    require_authority: bool,
) -> Lookup:
    if rcode == _SERVFAIL:
        return Lookup(query, Outcome.SERVFAIL, detail="SERVFAIL", server=server)
    if rcode not in (_NOERROR, _NXDOMAIN):
        raise Unsupported("other rcode")  # dnspython names it; rare enough
    ad = bool(flags & _FLAG_AD)
    expire = min((r.minimum for r in answers if r.rdtype == "RRSIG"), default=0)
    owner = query.name
    aliases: list[str] = []
    ttls: list[int] = []
    for _ in range(_MAX_CHAIN):
        found = [r for r in answers if r.owner == owner and r.rdtype == query.rdtype and r.rdclass == 1]
        if found:
            # dnspython merges repeated RRs into one set whose TTL is the smallest: so do we.
            ttls.append(min(r.ttl for r in found))
            # RRs equal in canonical form count once (TXT by their strings, not the joined text).
            distinct = {r.identity: r.value for r in found}
            if query.rdtype in _SINGLETONS and len(distinct) > 1:
                raise Unsupported("several records of a singleton type")  # invalid DNS: dnspython decides
            values = tuple(sorted(distinct.values()))
            return Lookup(
                query,
                Outcome.ANSWER,
                values,
                min(ttls),
                tuple(aliases),
                server=server,
                authenticated=ad,
                signatures_expire=expire,
            )
        cnames = [r for r in answers if r.owner == owner and r.rdtype == "CNAME" and r.rdclass == 1]
        if not cnames:
            break
        if len({r.value for r in cnames}) > 1:
            raise Unsupported("several CNAMEs for one name")  # invalid DNS: let dnspython decide
        ttls.append(min(r.ttl for r in cnames))
        owner = cnames[0].value
        aliases.append(owner)
    if require_authority and not flags & _FLAG_AA:
        return Lookup(
            query,
            Outcome.REFUSED,
            aliases=tuple(aliases),
            detail="not authoritative",
            server=server,
            authenticated=ad,
            signatures_expire=expire,
        )
    outcome = Outcome.NXDOMAIN if rcode == _NXDOMAIN else Outcome.NODATA
    soas = [r for r in authority if r.rdtype == "SOA"]
    if len(soas) > 1:
        raise Unsupported("several SOA records")  # a singleton type: dnspython decides which counts
    ttl = min(soas[0].ttl, soas[0].minimum) if soas else 0
    zone = soas[0].owner if soas else ""
    return Lookup(
        query,
        outcome,
        ttl=ttl,
        aliases=tuple(aliases),
        server=server,
        zone=zone,
        authenticated=ad,
        signatures_expire=expire,
    )


class _Record:
    __slots__ = ("identity", "minimum", "owner", "rdclass", "rdtype", "ttl", "value")

    def __init__(
        self, owner: str, rdtype: str, rdclass: int, ttl: int, rdata: tuple[str, int, object]
    ) -> None:
        self.owner, self.rdtype, self.rdclass, self.ttl = owner, rdtype, rdclass, ttl
        self.value, self.minimum, self.identity = rdata


class _Reader:
    def __init__(self, wire: bytes) -> None:
        self.wire, self.offset = wire, 0
        self.question_name: str | None = None  # set when the name at offset 12 is known

    def take(self, count: int) -> bytes:
        end = self.offset + count
        if end > len(self.wire):
            raise Malformed("message cut short")
        chunk = self.wire[self.offset : end]
        self.offset = end
        return chunk

    def u16(self) -> int:
        return int.from_bytes(self.take(2), "big")

    def header(self) -> tuple[int, int, int, int, int, int]:
        if len(self.wire) < 12:
            raise Malformed("message cut short")
        self.offset = 12
        return _HEADER.unpack_from(self.wire)

    def name(self) -> str:
        labels, self.offset = read_name(self.wire, self.offset)
        return labels

    def record(self) -> _Record:
        wire, offset = self.wire, self.offset
        if self.question_name is not None and wire[offset : offset + 2] == _POINTER_TO_QUESTION:
            owner, offset = self.question_name, offset + 2
        else:
            owner = self.name()
            offset = self.offset
        if offset + 10 > len(wire):
            raise Malformed("message cut short")
        code, rdclass, ttl, length = _RR.unpack_from(wire, offset)
        if ttl & 0x80000000 and code != 41:
            ttl = 0  # RFC 2181 §8: a TTL with the top bit set means zero
        start = offset + 10
        end = start + length
        if end > len(wire):
            raise Malformed("record data cut short")
        rdtype = _CODES.get(code)
        rdata: tuple[str, int, object] = ("", 0, None)
        if code == 41:
            if owner != "":
                raise Malformed("OPT record not at the root")
        elif code == _RRSIG and rdclass == 1:
            rdtype, rdata = "RRSIG", self.signature(start, end)
        elif rdtype is None or rdclass != 1:
            raise Unsupported("a record type or class this codec does not parse")  # dnspython checks it
        else:
            rdata = self.rdata(rdtype, start, end)
        self.offset = end
        return _Record(owner, rdtype or str(code), rdclass, ttl, rdata)

    def signature(self, start: int, end: int) -> tuple[str, int, object]:
        """An RRSIG, read only as far as dnspython checks it: its expiration, in the SOA
        minimum's slot."""
        if end - start < _RRSIG_FIXED:
            raise Malformed("RRSIG record length")
        _, after = read_name(self.wire, start + _RRSIG_FIXED)  # the signer
        if after > end:
            raise Malformed("RRSIG signer runs past the record")
        expiration = int.from_bytes(self.wire[start + 8 : start + 12], "big")
        return "", expiration, None

    def rdata(self, rdtype: str, start: int, end: int) -> tuple[str, int, object]:
        """(value text, SOA minimum, identity for de-duplication as dnspython compares RRs)."""
        wire = self.wire
        if rdtype == "TXT":
            parts = _txt(wire[start:end])
            return b"".join(parts).decode("utf-8", "surrogateescape"), 0, parts
        value, minimum = self._other(rdtype, start, end)
        return value, minimum, value

    def _other(self, rdtype: str, start: int, end: int) -> tuple[str, int]:
        wire = self.wire
        if rdtype == "A":
            if end - start != 4:
                raise Malformed("A record length")
            return ".".join(str(b) for b in wire[start:end]), 0
        if rdtype == "AAAA":
            if end - start != 16:
                raise Malformed("AAAA record length")
            return str(dns.ipv6.inet_ntoa(wire[start:end])), 0
        if rdtype == "MX":
            if end - start < 3:
                raise Malformed("MX record length")
            host, after = read_name(wire, start + 2)
            _expect(after, end)
            return f"{int.from_bytes(wire[start : start + 2], 'big')} {host or '.'}", 0
        if rdtype == "TLSA":
            if end - start < 3:
                raise Malformed("TLSA record length")
            usage, selector, mtype = wire[start], wire[start + 1], wire[start + 2]
            return tlsa_text(usage, selector, mtype, bytes(wire[start + 3 : end])), 0
        if rdtype == "SOA":
            _, after = read_name(wire, start)
            _, after = read_name(wire, after)
            _expect(after + 20, end)
            return "", int.from_bytes(wire[after + 16 : after + 20], "big")
        host, after = read_name(wire, start)  # CNAME, NS, PTR
        _expect(after, end)
        return host, 0


def _expect(position: int, end: int) -> None:
    if position != end:
        raise Malformed("record data length does not match its contents")


def _txt(data: bytes) -> tuple[bytes, ...]:
    parts, offset = [], 0
    while offset < len(data):
        length = data[offset]
        chunk = data[offset + 1 : offset + 1 + length]
        if len(chunk) != length:
            raise Malformed("TXT string cut short")
        parts.append(chunk)
        offset += 1 + length
    if not parts:
        raise Malformed("empty TXT record")
    return tuple(parts)


_MAX_POINTERS = 16  # as dnspython (MAX_COMPRESSION_POINTER_CHAIN)


def read_name(wire: bytes, offset: int) -> tuple[str, int]:
    """A possibly compressed name at `offset`: (lower-case text without the root dot, offset after).

    Compression as strictly as dnspython: every pointer goes below the start of the name (and
    of each target followed so far), and a target must end before the part that pointed at it.
    """
    labels: list[bytes] = []
    after = -1
    jumps = 0
    total = 1
    start = lowest = offset
    limit = len(wire)
    while True:
        if offset >= limit:
            raise Malformed("name runs past the message")
        length = wire[offset]
        if length & 0xC0 == 0xC0:
            if offset + 1 >= limit:
                raise Malformed("compression pointer cut short")
            pointer = ((length & 0x3F) << 8) | wire[offset + 1]
            if pointer >= lowest or jumps >= _MAX_POINTERS:
                raise Malformed("bad compression pointer")
            if after < 0:
                after = offset + 2
            limit, start = start, pointer  # the target may not overlap what points at it
            offset, lowest, jumps = pointer, pointer, jumps + 1
            continue
        if length & 0xC0:
            raise Malformed("unknown label type")
        offset += 1
        if length == 0:
            break
        if offset + length > limit:
            raise Malformed("label cut short")
        label = wire[offset : offset + length]
        total += length + 1
        if total > 255:
            raise Malformed("name longer than 255 octets")
        labels.append(label)
        offset += length
    # bytes.lower() folds ASCII only, as DNS (and dnspython) compare names.
    text = b".".join(labels).lower().decode("utf-8", "surrogateescape")
    return text, offset if after < 0 else after
