"""How an SPF record's change is judged: its `all`, what it authorises, and its lookup count.

What it authorises is compared as sets, not strings: networks by containment (ip4:192.0.2.0/24
covers ip4:192.0.2.7), names (include, a, mx, exists, ptr) by their lower-case domain-spec.
"""

from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network

from domainwatch.checks.base import Published, Reason
from domainwatch.spf.lookups import MAX_DNS_TERMS
from domainwatch.spf.syntax import Qualifier, SpfRecord, is_spf, parse

# How much an `all` lets through, least first; a record without one ends neutral (§4.7).
_ALL_RANK = {Qualifier.FAIL: 0, Qualifier.SOFTFAIL: 1, Qualifier.NEUTRAL: 2, Qualifier.PASS: 3}
Network = IPv4Network | IPv6Network


def reasons(before: Published, after: Published) -> list[Reason]:
    old, new = _record(before), _record(after)
    out: list[Reason] = []
    was, now = _all(old), _all(new)
    if now > was:
        out.append(Reason("spf_all_widened"))
    elif now < was:
        out.append(Reason("spf_all_narrowed"))
    (old_nets, old_names), (new_nets, new_names) = _authorised(old), _authorised(new)
    if new_names - old_names or _uncovered(new_nets, old_nets):
        out.append(Reason("spf_authorizes_more"))
    if old_names - new_names or _uncovered(old_nets, new_nets):
        out.append(Reason("spf_authorizes_less"))
    over_before, over_after = _over(before), _over(after)
    if over_after and not over_before:
        out.append(Reason("spf_over_lookup_limit"))
    elif over_before and not over_after:
        out.append(Reason("spf_under_lookup_limit"))
    return out


def _record(snapshot: Published) -> SpfRecord | None:
    records = [v for v in snapshot.values if is_spf(v)]
    return parse(records[0]) if len(records) == 1 else None


def _all(record: SpfRecord | None) -> int:
    """No record (or several: a permerror) authorises nobody: as strict as `-all`."""
    if record is None:
        return 0
    last = next((m for m in reversed(record.mechanisms) if m.kind == "all"), None)
    return _ALL_RANK[last.qualifier] if last is not None else _ALL_RANK[Qualifier.NEUTRAL]


def _authorised(record: SpfRecord | None) -> tuple[set[Network], set[str]]:
    """The networks and the names whose hosts the record passes (`+` mechanisms only)."""
    nets: set[Network] = set()
    names: set[str] = set()
    for mechanism in record.mechanisms if record is not None else ():
        if mechanism.qualifier is not Qualifier.PASS or mechanism.kind == "all":
            continue
        if mechanism.network is not None:
            nets.add(mechanism.network)
        else:
            names.add(f"{mechanism.kind}:{(mechanism.domain_spec or '').lower().rstrip('.')}")
    redirect = record.modifier("redirect") if record is not None else None
    if redirect is not None:
        names.add(f"redirect:{redirect.value.lower().rstrip('.')}")
    return nets, names


def _uncovered(nets: set[Network], by: set[Network]) -> bool:
    """Some network of `nets` is not within any of `by`."""
    return any(not any(n.version == b.version and n.subnet_of(b) for b in by) for n in nets)  # type: ignore[arg-type]


def _over(snapshot: Published) -> bool:
    lookups = snapshot.facts.get("spf_dns_lookups")
    return isinstance(lookups, int) and lookups > MAX_DNS_TERMS
