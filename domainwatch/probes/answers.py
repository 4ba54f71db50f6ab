"""The probe types, their answers as Lookups, and the settings they read (pure)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Protocol

from domainwatch.dns.resolver import Lookup, Outcome, Query

STARTTLS = "STARTTLS"  # Query(<MX host>, STARTTLS): connect, EHLO, STARTTLS, handshake, EHLO
MTA_STS_POLICY = "MTA-STS-POLICY"  # Query(mta-sts.<domain>, MTA-STS-POLICY): GET the policy
PROBE_TYPES = frozenset({STARTTLS, MTA_STS_POLICY})
POLICY_PATH = "/.well-known/mta-sts.txt"  # where an MTA-STS policy is served (RFC 8461 §3.3)


class ProbeSettings(Protocol):
    """What probing reads of the config's `probes:` section."""

    @property
    def smtp_port(self) -> int: ...

    @property
    def https_port(self) -> int: ...

    @property
    def ca_file(self) -> str | None: ...

    @property
    def timeout(self) -> timedelta: ...

    @property
    def interval(self) -> timedelta: ...

    @property
    def max_concurrent(self) -> int: ...

    @property
    def helo_name(self) -> str: ...

    @property
    def allow_private_addresses(self) -> bool: ...

    @property
    def max_addresses_per_domain(self) -> int: ...


def completed(query: Query, facts: Mapping[str, Any]) -> Lookup:
    """A probe that ran to its end, whatever it found: its facts as one canonical JSON text."""
    return Lookup(query, Outcome.ANSWER, (json.dumps(facts, sort_keys=True, separators=(",", ":")),))


def incomplete(query: Query, outcome: Outcome, detail: str) -> Lookup:
    """A probe that could not run to its end (refused, timed out, dropped): no conclusion."""
    return Lookup(query, outcome, detail=detail[:300])


def facts_of(lookup: Lookup) -> dict[str, Any]:
    """What a completed probe found ({} for anything else)."""
    if lookup.outcome is not Outcome.ANSWER or len(lookup.records) != 1:
        return {}
    try:
        value = json.loads(lookup.records[0])
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
