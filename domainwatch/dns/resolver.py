"""What a DNS lookup can come back as, and the protocol every resolver implements."""

from __future__ import annotations

import enum
import functools
import ipaddress
import sys
from dataclasses import dataclass
from typing import NamedTuple, Protocol


class Outcome(enum.StrEnum):
    """How one lookup ended. The first three are conclusive answers; the rest are errors."""

    ANSWER = "answer"
    NXDOMAIN = "nxdomain"
    NODATA = "nodata"
    TIMEOUT = "timeout"
    SERVFAIL = "servfail"
    REFUSED = "refused"
    NETWORK = "network"
    MALFORMED = "malformed"

    @property
    def is_error(self) -> bool:
        return self not in _CONCLUSIVE

    @property
    def is_void(self) -> bool:
        """NXDOMAIN or NODATA: a conclusive "nothing here"."""
        return self in (Outcome.NXDOMAIN, Outcome.NODATA)


_CONCLUSIVE = frozenset({Outcome.ANSWER, Outcome.NXDOMAIN, Outcome.NODATA})


class Query(NamedTuple):
    """A name (lower case, no trailing dot) and a record type ("TXT", "MX", ...).

    A NamedTuple rather than a dataclass: queries are dict keys on the hot path, and tuples
    hash in C.
    """

    name: str
    rdtype: str

    @classmethod
    def of(cls, name: str, rdtype: str) -> Query:
        return _query(name, rdtype)


@functools.lru_cache(maxsize=16384)
def _query(name: str, rdtype: str) -> Query:
    """Cached: a check names its queries again in every round (about 60 times a domain), and
    about 5,000 are in use at once at 512 checks in flight. Interned: the daemon keeps each
    domain's last queries, and many name the same provider."""
    return Query(sys.intern(normalize_name(name)), rdtype.upper())


@dataclass(frozen=True, slots=True)
class Lookup:
    """The result of resolving one Query.

    `records` holds each record's value as published: TXT strings joined (RFC 7208 §3.3),
    MX as "<priority> <host>", CNAME/NS/PTR as the target host, A/AAAA as the address.
    Host names are lower case without the trailing dot. `aliases` is the CNAME chain
    followed to reach the answer, in order.
    """

    query: Query
    outcome: Outcome
    records: tuple[str, ...] = ()
    ttl: int = 0
    aliases: tuple[str, ...] = ()
    detail: str = ""
    server: str = ""
    # A negative answer's zone: the owner of the SOA in its authority section (where a record
    # published under the wrong name would be; docs/checks.md, "Not verifying?").
    zone: str = ""
    # The resolver's AD bit: it validated the answer with DNSSEC (RFC 4035 §3.2.3; asked for
    # with AD in the query, RFC 6840 §5.7). Only as trustworthy as the path to the resolver.
    authenticated: bool = False
    # The earliest expiration (Unix seconds) of the RRSIGs in the answer section, which a
    # resolver returns when asked with the DO bit; 0 when the answer had none.
    signatures_expire: int = 0


class Resolver(Protocol):
    async def resolve(self, query: Query) -> Lookup:
        """Resolve one query. Never raises for DNS trouble: errors are Lookup outcomes."""
        ...


@dataclass(frozen=True, slots=True)
class Nameserver:
    host: str
    port: int = 53

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def normalize_name(name: str) -> str:
    return name.strip().rstrip(".").lower()


def parse_nameserver(text: str) -> Nameserver:
    """Parse "host", "host:port" or "[v6]:port"; the host must be an IP address.

    Raises ValueError with a message fit for a config error.
    """
    text = text.strip()
    host, port_text = text, ""
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise ValueError("must be an IP address, optionally with :port ([v6]:port)")
        port_text = rest[1:]
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise ValueError("must be an IP address, optionally with :port ([v6]:port)") from None
    if not port_text:
        return Nameserver(host)
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError("port must be a number from 1 to 65535")
    return Nameserver(host, int(port_text))
