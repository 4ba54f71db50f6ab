"""Answers for evaluating a kind directly (pure): DNS lookups and completed probes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domainwatch.dns.resolver import Lookup, Outcome, Query
from domainwatch.probes.answers import completed


def answers(
    dns: Mapping[tuple[str, str], list[str] | Outcome],
    probes: Mapping[Query, Mapping[str, Any]] | None = None,
) -> dict[Query, Lookup]:
    out: dict[Query, Lookup] = {}
    for (name, rdtype), value in dns.items():
        query = Query.of(name, rdtype)
        if isinstance(value, Outcome):
            out[query] = Lookup(query, value, detail="test")
        else:
            out[query] = Lookup(query, Outcome.ANSWER if value else Outcome.NODATA, tuple(value))
    for query, facts in (probes or {}).items():
        out[query] = completed(query, facts)
    return out
