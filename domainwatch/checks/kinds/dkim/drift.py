"""How a DKIM key record's change is judged: its size, test flag, algorithm and key. A key
behind the provider's CNAME is the provider's to rotate: its change is a replacement, neutral."""

from __future__ import annotations

from domainwatch.checks.base import Published, Reason
from domainwatch.checks.kinds.dkim.key import strip
from domainwatch.checks.kinds.dkim.tags import parse_tags


def reasons(before: Published, after: Published) -> list[Reason]:
    old, new = _tags(before), _tags(after)
    if old is None or new is None:
        return []  # published or removed (several keys: verifiers pick any): value_changed
    out: list[Reason] = []
    if strip(old.get("p", "")) != strip(new.get("p", "")):
        out.append(Reason("dkim_key_replaced"))
    if old.get("k", "rsa").lower() != new.get("k", "rsa").lower():
        out.append(Reason("dkim_algorithm_changed"))
    if after.type == "CNAME":  # the target's key changed, the delegation did not
        return out
    bits_before, bits_after = before.facts.get("dkim_key_bits"), after.facts.get("dkim_key_bits")
    if isinstance(bits_before, int) and isinstance(bits_after, int) and bits_before != bits_after:
        out.append(Reason("dkim_key_shorter" if bits_after < bits_before else "dkim_key_longer"))
    if _testing(new) and not _testing(old):
        out.append(Reason("dkim_testing_added"))
    elif _testing(old) and not _testing(new):
        out.append(Reason("dkim_testing_removed"))
    return out


def _tags(snapshot: Published) -> dict[str, str] | None:
    if len(snapshot.values) != 1:
        return None
    return dict(parse_tags(snapshot.values[0]).tags)


def _testing(tags: dict[str, str]) -> bool:
    return "y" in (flag.strip().lower() for flag in tags.get("t", "").split(":"))
