"""The few numbers per domain that metrics export, distilled from its last check results.

Kept per domain in memory by the daemon (small, fixed size) instead of whole reports, and
computed from the stored JSON form so a restart rebuilds them from the store.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True, slots=True)
class DomainFacts:
    findings: Mapping[str, int] = field(default_factory=dict)  # severity -> count
    spf_dns_lookups: int | None = None
    dkim_key_bits: Mapping[str, int] = field(default_factory=dict)  # selector -> bits
    dmarc_policy: str | None = None  # none | quarantine | reject | absent; None when unknown


def facts_of(results: Mapping[str, Mapping[str, Any]]) -> DomainFacts:
    """From {record id: RecordResult.as_dict()}."""
    counts = dict.fromkeys(SEVERITIES, 0)
    spf: int | None = None
    dkim: dict[str, int] = {}
    dmarc: str | None = None
    for record, result in results.items():
        for finding in result.get("findings", []):
            counts[finding["severity"]] = counts.get(finding["severity"], 0) + 1
        facts = result.get("facts", {})
        if record == "spf" and "spf_dns_lookups" in facts:
            spf = int(facts["spf_dns_lookups"])
        if record.startswith("dkim:") and "dkim_key_bits" in facts:
            dkim[record.removeprefix("dkim:")] = int(facts["dkim_key_bits"])
        if record == "dmarc" and "dmarc_policy" in facts:
            dmarc = str(facts["dmarc_policy"])
    return DomainFacts(counts, spf, dkim, dmarc)


def facts_json(facts: DomainFacts) -> str:
    """The stored form: a restart reads these few numbers instead of every result."""
    return json.dumps(asdict(facts), sort_keys=True)


def facts_from_json(text: str) -> DomainFacts:
    data = json.loads(text)
    return DomainFacts(
        {str(k): int(v) for k, v in data["findings"].items()},
        None if data["spf_dns_lookups"] is None else int(data["spf_dns_lookups"]),
        {str(k): int(v) for k, v in data["dkim_key_bits"].items()},
        None if data["dmarc_policy"] is None else str(data["dmarc_policy"]),
    )
