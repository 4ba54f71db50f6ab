"""Asking a validating resolver with checking disabled: what it would answer if it did not
validate, and the keys and delegation signer of the zone that signed it.

Used only after the resolver answered SERVFAIL (checks/running/dnssec.py): if the same question with
the CD bit (RFC 4035 §3.2.2) gets an answer, the data is there and DNSSEC validation is what
fails. Each function asks at most one question per nameserver in turn and never raises for DNS
trouble; everything it returns is plain values (no dnspython types leave this module).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import dns.asyncquery
import dns.exception
import dns.flags
import dns.message
import dns.rdatatype
import dns.rdtypes.ANY.DNSKEY
import dns.rdtypes.ANY.DS
import dns.rdtypes.ANY.RRSIG
from cryptography.utils import CryptographyDeprecationWarning

# cryptography 51 deprecates DSA, and importing dns.dnssec defines dnspython's DSA key classes,
# which touches it four times. We never validate with DSA (we only read DNSKEY and RRSIG fields),
# so exactly that warning, from exactly that module, is silenced; any other still shows (and
# fails the tests, which run with warnings as errors).
with warnings.catch_warnings():
    warnings.filterwarnings(
        "ignore",
        message="DSA is deprecated",
        category=CryptographyDeprecationWarning,
        module=r"dns\.dnssecalgs\.dsa\Z",
    )
    import dns.dnssec

from domainwatch.dns.dnspython_resolver import EDNS_PAYLOAD, classify_response, name_text, to_dns_name
from domainwatch.dns.resolver import Lookup, Nameserver, Outcome, Query

_DIGESTS = {1: "SHA1", 2: "SHA256", 4: "SHA384"}
_SEP = 0x0001  # the DNSKEY flag marking a key-signing key (RFC 4034 §2.1.1)


@dataclass(frozen=True, slots=True)
class Signature:
    """One RRSIG of an answer: what it covers, who signed it with which key, and when it holds."""

    covers: str
    signer: str
    key_tag: int
    inception: int  # Unix seconds
    expiration: int


@dataclass(frozen=True, slots=True)
class Unchecked:
    """The answer with checking disabled, and the RRSIGs that came with it."""

    lookup: Lookup
    signatures: tuple[Signature, ...]


@dataclass(frozen=True, slots=True)
class ZoneKeys:
    """A signed zone's keys (key tags of its DNSKEYs; the DS each key-signing key would have)
    and the DS records its parent publishes for it, all asked with checking disabled."""

    zone: str
    key_tags: frozenset[int]
    ds_of_keys: tuple[str, ...]  # "<tag> <algorithm> 2 <SHA-256 hex>" for each key-signing key
    parent_ds: tuple[str, ...]  # as published: "<tag> <algorithm> <digest type> <hex>"
    matching: bool  # some parent DS matches some DNSKEY of the zone


async def ask_unchecked(
    query: Query, nameservers: Sequence[Nameserver], query_timeout: float
) -> Unchecked | None:
    """The answer to `query` with CD and DO set, or None when no nameserver gave one."""
    response = await _ask(query.name, query.rdtype, nameservers, query_timeout)
    if response is None:
        return None
    signatures = tuple(
        Signature(
            dns.rdatatype.to_text(sig.type_covered),
            name_text(sig.signer),
            int(sig.key_tag),
            int(sig.inception),
            int(sig.expiration),
        )
        for rrset in response.answer
        if rrset.rdtype == dns.rdatatype.RRSIG
        for sig in rrset
        if isinstance(sig, dns.rdtypes.ANY.RRSIG.RRSIG)
    )
    return Unchecked(classify_response(query, response), signatures)


async def zone_keys(zone: str, nameservers: Sequence[Nameserver], query_timeout: float) -> ZoneKeys | None:
    """The zone's DNSKEYs and its parent's DS records for it; None when either could not be asked."""
    keys = await _ask(zone, "DNSKEY", nameservers, query_timeout)
    delegation = await _ask(zone, "DS", nameservers, query_timeout)
    if keys is None or delegation is None:
        return None
    dnskeys = [
        k for k in _rdatas(keys, zone, dns.rdatatype.DNSKEY) if isinstance(k, dns.rdtypes.ANY.DNSKEY.DNSKEY)
    ]
    parent = [d for d in _rdatas(delegation, zone, dns.rdatatype.DS) if isinstance(d, dns.rdtypes.ANY.DS.DS)]
    name = to_dns_name(zone)
    matching = any(_matches(name, key, ds) for key in dnskeys for ds in parent)
    return ZoneKeys(
        zone,
        frozenset(dns.dnssec.key_id(k) for k in dnskeys),
        tuple(_ds_text(dns.dnssec.make_ds(name, k, "SHA256")) for k in dnskeys if k.flags & _SEP),
        tuple(_ds_text(d) for d in parent),
        matching,
    )


def _matches(name: dns.name.Name, key: dns.rdtypes.ANY.DNSKEY.DNSKEY, ds: dns.rdtypes.ANY.DS.DS) -> bool:
    algorithm = _DIGESTS.get(int(ds.digest_type))
    if algorithm is None or int(ds.key_tag) != dns.dnssec.key_id(key):
        return False
    try:
        return bool(dns.dnssec.make_ds(name, key, algorithm) == ds)
    except (dns.exception.DNSException, ValueError):
        return False


def _ds_text(ds: dns.rdtypes.ANY.DS.DS) -> str:
    return f"{ds.key_tag} {int(ds.algorithm)} {ds.digest_type} {ds.digest.hex().upper()}"


def _rdatas(response: dns.message.Message, owner: str, rdtype: int) -> list[object]:
    return [
        rdata
        for rrset in response.answer
        if rrset.rdtype == rdtype and name_text(rrset.name) == owner
        for rdata in rrset
    ]


async def _ask(
    name: str, rdtype: str, nameservers: Sequence[Nameserver], query_timeout: float
) -> dns.message.Message | None:
    try:
        message = dns.message.make_query(
            to_dns_name(name), rdtype, use_edns=0, payload=EDNS_PAYLOAD, want_dnssec=True
        )
    except dns.exception.DNSException:
        return None
    message.flags |= dns.flags.CD
    for server in nameservers:
        try:
            response, _ = await dns.asyncquery.udp_with_fallback(
                message, server.host, timeout=query_timeout, port=server.port
            )
        except (dns.exception.DNSException, ValueError, OSError, EOFError):
            continue
        if classify_response(Query.of(name, rdtype), response).outcome is not Outcome.SERVFAIL:
            return response
    return None
