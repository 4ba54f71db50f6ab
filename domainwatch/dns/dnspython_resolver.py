"""The Resolver implementation on dnspython's asyncio query functions.

We drive dns.asyncquery ourselves instead of dns.asyncresolver so that every failure is classified
precisely (a SERVFAIL is not a timeout, and neither is ever "missing") and so that the same code
can ask an authoritative server directly with RD=0.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import dns.asyncquery
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.resolver
import dns.rrset

from domainwatch.dns.ratelimit import RateLimiter
from domainwatch.dns.records import tlsa_text
from domainwatch.dns.resolver import Lookup, Nameserver, Outcome, Query

# Outcomes worth asking again (the next nameserver, or the next attempt).
_RETRYABLE = frozenset({Outcome.TIMEOUT, Outcome.SERVFAIL, Outcome.NETWORK, Outcome.MALFORMED})
_MAX_CNAME_CHAIN = 16
EDNS_PAYLOAD = 1232  # the DNS flag day 2020 recommendation: avoids IP fragmentation

QueryObserver = Callable[[Nameserver, Outcome, float], None]


def system_nameservers() -> list[Nameserver]:
    """The nameservers of /etc/resolv.conf (used when the config lists none)."""
    conf = dns.resolver.Resolver(configure=True)
    return [Nameserver(str(ns)) for ns in conf.nameservers]


class DnsPythonResolver:
    """Asks each nameserver in turn; retries on timeout and SERVFAIL up to `attempts` rounds."""

    def __init__(
        self,
        nameservers: Sequence[Nameserver],
        *,
        timeout: float = 2.0,
        attempts: int = 2,
        recursion_desired: bool = True,
        dnssec_ok: bool = False,
        observer: QueryObserver | None = None,
        max_qps: float = 0,
    ) -> None:
        if not nameservers:
            raise ValueError("at least one nameserver is required")
        self.nameservers = tuple(nameservers)
        self.timeout = timeout
        self.attempts = max(1, attempts)
        self.recursion_desired = recursion_desired
        self.dnssec_ok = dnssec_ok
        self._observer = observer
        # One limiter per nameserver; max_qps 0 means unlimited.
        self._limiters = {ns: RateLimiter(max_qps) for ns in self.nameservers} if max_qps > 0 else {}

    async def resolve(self, query: Query) -> Lookup:
        try:
            qname = to_dns_name(query.name)
        except dns.exception.DNSException as exc:
            return Lookup(query, Outcome.MALFORMED, detail=f"not a valid query name: {exc}")
        message = dns.message.make_query(
            qname, query.rdtype, use_edns=0, payload=EDNS_PAYLOAD, want_dnssec=self.dnssec_ok
        )
        if self.recursion_desired:
            message.flags |= dns.flags.AD  # did the resolver validate it? (RFC 6840 §5.7)
        else:
            message.flags &= ~dns.flags.RD
        last: Lookup | None = None
        for _ in range(self.attempts):
            for server in self.nameservers:
                last = await self._ask(query, message, server)
                if last.outcome not in _RETRYABLE:
                    return last
        assert last is not None  # attempts >= 1 and nameservers is non-empty
        return last

    async def _ask(self, query: Query, message: dns.message.Message, server: Nameserver) -> Lookup:
        limiter = self._limiters.get(server)
        if limiter is not None:
            await limiter.acquire()
        started = time.perf_counter()
        lookup = await self._exchange(query, message, server)
        if self._observer is not None:
            self._observer(server, lookup.outcome, time.perf_counter() - started)
        return lookup

    async def _exchange(self, query: Query, message: dns.message.Message, server: Nameserver) -> Lookup:
        where = str(server)
        try:
            response, _ = await dns.asyncquery.udp_with_fallback(
                message, server.host, timeout=self.timeout, port=server.port
            )
        except dns.exception.Timeout:
            return Lookup(query, Outcome.TIMEOUT, detail=f"no answer within {self.timeout}s", server=where)
        except (dns.query.BadResponse, dns.exception.DNSException, ValueError) as exc:
            # FormError, ShortHeader, TrailingJunk, mismatched ids, bad labels ...
            return Lookup(query, Outcome.MALFORMED, detail=_describe(exc), server=where)
        except (OSError, EOFError) as exc:
            return Lookup(query, Outcome.NETWORK, detail=_describe(exc), server=where)
        return classify_response(query, response, server=where, require_authority=not self.recursion_desired)


def classify_response(
    query: Query, response: dns.message.Message, *, server: str = "", require_authority: bool = False
) -> Lookup:
    """Turn a parsed DNS response into a Lookup (pure; exposed for tests)."""
    rcode = response.rcode()
    if rcode == dns.rcode.SERVFAIL:
        return Lookup(query, Outcome.SERVFAIL, detail="SERVFAIL", server=server)
    if rcode not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
        return Lookup(query, Outcome.REFUSED, detail=dns.rcode.to_text(rcode), server=server)
    records, ttl, aliases = _follow_answer(query, response)
    ad, expire = bool(response.flags & dns.flags.AD), _expiry(response)
    if records:
        return Lookup(
            query,
            Outcome.ANSWER,
            records,
            ttl,
            aliases,
            server=server,
            authenticated=ad,
            signatures_expire=expire,
        )
    if require_authority and not response.flags & dns.flags.AA:
        # A referral or a lame server: it has no authority to say the record is absent.
        return Lookup(
            query,
            Outcome.REFUSED,
            aliases=aliases,
            detail="not authoritative",
            server=server,
            authenticated=ad,
            signatures_expire=expire,
        )
    outcome = Outcome.NXDOMAIN if rcode == dns.rcode.NXDOMAIN else Outcome.NODATA
    zone = next((name_text(r.name) for r in response.authority if r.rdtype == dns.rdatatype.SOA), "")
    ttl = _negative_ttl(response)
    return Lookup(
        query,
        outcome,
        ttl=ttl,
        aliases=aliases,
        server=server,
        zone=zone,
        authenticated=ad,
        signatures_expire=expire,
    )


def _expiry(response: dns.message.Message) -> int:
    """The earliest expiration of the RRSIGs in the answer section, 0 when there are none."""
    return min(
        (
            int(r.expiration)
            for rrset in response.answer
            if rrset.rdtype == dns.rdatatype.RRSIG
            for r in rrset
        ),
        default=0,
    )


def _follow_answer(
    query: Query, response: dns.message.Message
) -> tuple[tuple[str, ...], int, tuple[str, ...]]:
    rdtype = dns.rdatatype.from_text(query.rdtype)
    owner = to_dns_name(query.name)
    aliases: list[str] = []
    ttls: list[int] = []
    for _ in range(_MAX_CNAME_CHAIN):
        rrset = _find(response, owner, rdtype)
        if rrset is not None:
            ttls.append(rrset.ttl)
            return tuple(sorted(rdata_value(r) for r in rrset)), min(ttls), tuple(aliases)
        cname = _find(response, owner, dns.rdatatype.CNAME)
        if cname is None:
            break
        ttls.append(cname.ttl)
        owner = cname[0].target
        aliases.append(name_text(owner))
    return (), 0, tuple(aliases)


def _find(response: dns.message.Message, owner: dns.name.Name, rdtype: int) -> dns.rrset.RRset | None:
    for rrset in response.answer:
        if rrset.name == owner and rrset.rdtype == rdtype and rrset.rdclass == dns.rdataclass.IN:
            return rrset
    return None


def rdata_value(rdata: object) -> str:
    """One record's value in domainwatch's canonical text form (see Lookup)."""
    rdtype = getattr(rdata, "rdtype", None)
    if rdtype == dns.rdatatype.TXT:
        strings: tuple[bytes, ...] = rdata.strings  # type: ignore[attr-defined]
        # surrogateescape keeps non-UTF-8 bytes exactly, so parsers can reject them.
        return b"".join(strings).decode("utf-8", "surrogateescape")
    if rdtype == dns.rdatatype.MX:
        host = name_text(rdata.exchange) or "."  # type: ignore[attr-defined]
        return f"{rdata.preference} {host}"  # type: ignore[attr-defined]
    if rdtype in (dns.rdatatype.CNAME, dns.rdatatype.NS, dns.rdatatype.PTR):
        return name_text(rdata.target)  # type: ignore[attr-defined]
    if rdtype == dns.rdatatype.TLSA:
        return tlsa_text(rdata.usage, rdata.selector, rdata.mtype, rdata.cert)  # type: ignore[attr-defined]
    return str(rdata.to_text())  # type: ignore[attr-defined]


def to_dns_name(name: str) -> dns.name.Name:
    """Our names are plain text labels (they may hold characters that zone-file syntax would
    escape, as SPF macro expansions can): build the wire name label by label."""
    if not name:
        return dns.name.root
    return dns.name.Name([label.encode("utf-8", "surrogateescape") for label in name.split(".")] + [b""])


def name_text(name: dns.name.Name) -> str:
    """The inverse of to_dns_name: lower-case labels joined by dots, no trailing dot."""
    # bytes.lower() folds ASCII only, as DNS compares names (RFC 4343).
    return ".".join(label.lower().decode("utf-8", "surrogateescape") for label in name.labels if label)


def _negative_ttl(response: dns.message.Message) -> int:
    for rrset in response.authority:
        if rrset.rdtype == dns.rdatatype.SOA:
            return int(min(rrset.ttl, rrset[0].minimum))
    return 0


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
