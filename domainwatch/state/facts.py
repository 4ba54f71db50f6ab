"""The few numbers per domain that metrics export, distilled from its last check results.

Kept per domain in memory by the daemon (small, fixed size) instead of whole reports, and
stored beside the domain's state, so a restart reads these instead of every result.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

SEVERITIES = ("error", "warning", "info")
FactValue = str | int


@dataclass(frozen=True, slots=True)
class DomainFacts:
    findings: Mapping[str, int] = field(default_factory=dict)  # severity -> count
    # record id -> the facts its kind exports (spf_dns_lookups, dkim_key_bits, dmarc_policy, ...)
    records: Mapping[str, Mapping[str, FactValue]] = field(default_factory=dict)
    # The codes of its error and warning findings (the list's `finding=` filter), and its first
    # error as "code: text" (the overview's "what is wrong"), short.
    codes: tuple[str, ...] = ()
    problem: str = ""

    def fact(self, record: str, name: str) -> FactValue | None:
        return self.records.get(record, {}).get(name)


def facts_json(facts: DomainFacts) -> str:
    """The stored form: a restart reads these few numbers instead of every result."""
    kept: dict[str, Any] = {"findings": dict(facts.findings), "records": facts.records}
    if facts.codes:
        kept |= {"codes": list(facts.codes), "problem": facts.problem}
    return json.dumps(kept, sort_keys=True)


def facts_from_json(text: str) -> DomainFacts:
    """The stored form, from this version or an older one (unknown keys are ignored)."""
    data = json.loads(text)
    findings = {str(k): int(v) for k, v in (data.get("findings") or {}).items()}
    if "records" in data:
        records = {str(r): {str(k): _value(v) for k, v in f.items()} for r, f in data["records"].items()}
        codes = tuple(sys.intern(str(c)) for c in data.get("codes") or ())
        return DomainFacts(findings, records, codes, str(data.get("problem") or ""))
    return DomainFacts(findings, _from_fixed_fields(data))


def _from_fixed_fields(data: Mapping[str, Any]) -> dict[str, dict[str, FactValue]]:
    """Facts as versions up to 0.1 stored them: one field per exported fact."""
    records: dict[str, dict[str, FactValue]] = {}
    if data.get("spf_dns_lookups") is not None:
        records["spf"] = {"spf_dns_lookups": int(data["spf_dns_lookups"])}
    for selector, bits in (data.get("dkim_key_bits") or {}).items():
        records[f"dkim:{selector}"] = {"dkim_key_bits": int(bits)}
    if data.get("dmarc_policy") is not None:
        records["dmarc"] = {"dmarc_policy": str(data["dmarc_policy"])}
    return records


def _value(value: Any) -> FactValue:
    return value if isinstance(value, int) and not isinstance(value, bool) else str(value)
