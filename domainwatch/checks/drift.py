"""Drift: what a record publishes, and how a change of it is judged (pure; never raises).

A conclusive check's result becomes a `Published` snapshot: its values as a set, the facts its
kind says measure its strength, its DNSSEC validation, and what each authoritative nameserver
serves. Two snapshots that differ make a change, and the change's reasons are codes in
weakening/strengthening pairs (REVERSED), told by the record's kind (`RecordKind.drift`) and, for
every kind, DNSSEC. The direction follows from the reasons. docs/checks.md lists the codes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from domainwatch.checks.base import Published, Reason
from domainwatch.checks.registry import kind_of
from domainwatch.model import RecordResult, RecordState
from domainwatch.state.drift import DIGEST_BYTES

# Each weakening code and the strengthening code that undoes it.
_PAIRS = {
    "dmarc_policy_lowered": "dmarc_policy_raised",
    "dmarc_testing_added": "dmarc_testing_removed",
    "dmarc_reporting_removed": "dmarc_reporting_added",
    "spf_all_widened": "spf_all_narrowed",
    "spf_authorizes_more": "spf_authorizes_less",
    "spf_over_lookup_limit": "spf_under_lookup_limit",
    "dkim_key_shorter": "dkim_key_longer",
    "dkim_testing_added": "dkim_testing_removed",
    "mta_sts_mode_lowered": "mta_sts_mode_raised",
    "mta_sts_max_age_lowered": "mta_sts_max_age_raised",
    "mta_sts_mx_uncovered": "mta_sts_mx_covered",
    "tls_rpt_removed": "tls_rpt_added",
    "dnssec_lost": "dnssec_gained",
}
WEAKENING = frozenset(_PAIRS)
STRENGTHENING = frozenset(_PAIRS.values())
# Neutral codes, and what each becomes when the change is undone.
_NEUTRAL = {
    "dkim_algorithm_changed": "dkim_algorithm_changed",
    "dkim_key_replaced": "dkim_key_replaced",
    "mx_host_added": "mx_host_removed",
    "mx_host_removed": "mx_host_added",
    "cname_target_changed": "cname_target_changed",
    "value_changed": "value_changed",
}
REVERSED = {**_PAIRS, **{v: k for k, v in _PAIRS.items()}, **_NEUTRAL}
CODES = tuple(REVERSED)
DIRECTIONS = ("weakening", "strengthening", "mixed", "neutral")
MAX_VALUES = 32  # of a snapshot (a record's value set): more is a zone no one should keep
MAX_VALUE_CHARS = 4096  # of each value (a 4,096-bit DKIM key is about 740 characters)


def direction(reasons: Iterable[Reason]) -> str:
    codes = {r.code for r in reasons}
    weakens, strengthens = bool(codes & WEAKENING), bool(codes & STRENGTHENING)
    if weakens and strengthens:
        return "mixed"
    return "weakening" if weakens else "strengthening" if strengthens else "neutral"


def published(result: RecordResult) -> Published | None:
    """What a conclusive result publishes; None when some answer was not conclusive (a lookup
    error is never a change, and says nothing of what is published)."""
    if result.state is RecordState.ERROR or any(s.state is RecordState.ERROR for s in result.servers):
        return None
    kind = kind_of(result.record)
    rules = kind.drift
    values = rules.values(result) if rules is not None and rules.values is not None else result.found
    wanted = (*rules.facts, "dnssec_validated") if rules is not None else ("dnssec_validated",)
    facts = {name: result.facts[name] for name in wanted if name in result.facts}
    servers = tuple(sorted((s.server, _values(s.found)) for s in result.servers))
    return Published(result.type, _values(values), facts, servers)


def _values(found: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted({value[:MAX_VALUE_CHARS] for value in found}))[:MAX_VALUES]


def reasons(record: str, before: Published, after: Published) -> tuple[Reason, ...]:
    """Why `before` and `after` differ, as codes (value_changed when nothing more is known)."""
    rules = kind_of(record).drift
    found: list[Reason] = list(rules.reasons(before, after)) if rules is not None else []
    if before.facts.get("dnssec_validated") == 1 and after.facts.get("dnssec_validated") == 0:
        found.append(Reason("dnssec_lost"))
    elif before.facts.get("dnssec_validated") == 0 and after.facts.get("dnssec_validated") == 1:
        found.append(Reason("dnssec_gained"))
    return tuple(dict.fromkeys(found)) or (Reason("value_changed"),)


def body(snapshot: Published) -> str:
    """The stored form of a value set (one row per distinct set, named by its digest)."""
    kept: dict[str, Any] = {"type": snapshot.type, "values": list(snapshot.values)}
    if snapshot.facts:
        kept["facts"] = dict(snapshot.facts)
    if snapshot.servers:
        kept["servers"] = {server: list(values) for server, values in snapshot.servers}
    return json.dumps(kept, sort_keys=True, separators=(",", ":"))


def digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=DIGEST_BYTES).hexdigest()


def from_body(text: str) -> Published | None:
    """A stored value set (None when unreadable: the change is then judged without it)."""
    try:
        kept = json.loads(text)
        values = tuple(str(v) for v in kept.get("values", []))
        facts = {str(k): v for k, v in kept.get("facts", {}).items() if isinstance(v, str | int)}
        servers = tuple(
            (str(server), tuple(str(v) for v in found)) for server, found in kept.get("servers", {}).items()
        )
        return Published(str(kept.get("type", "")), values, facts, servers)
    except (ValueError, AttributeError, TypeError):
        return None
