"""The DNS layer: a Resolver protocol, its dnspython implementation and helpers."""

from domainwatch.dns.resolver import Lookup, Nameserver, Outcome, Query, Resolver, parse_nameserver

__all__ = ["Lookup", "Nameserver", "Outcome", "Query", "Resolver", "parse_nameserver"]
