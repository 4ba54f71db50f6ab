"""Which metric families are exported: `metrics.allow` and `metrics.deny`, family name globs
as kube-state-metrics' --metric-allowlist and --metric-denylist (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase

from domainwatch.checks.registry import KINDS


@dataclass(frozen=True, slots=True)
class Selection:
    allow: tuple[str, ...] = ()  # none: every family
    deny: tuple[str, ...] = ()
    # Owner label keys exported on domainwatch_domain_labels (`metrics.labels_allow`), sorted.
    labels: tuple[str, ...] = ()

    @classmethod
    def of(cls, allow: Sequence[str], deny: Sequence[str], labels: Sequence[str] = ()) -> Selection:
        return cls(tuple(allow), tuple(deny), tuple(sorted(set(labels))))

    def exports(self, family: str) -> bool:
        """A family is exported when it is allowed (every one, with no allow list) and not
        denied. A counter is matched by its name with and without `_total`."""
        names = (family, f"{family}_total") if not family.endswith("_total") else (family,)
        if self.allow and not any(fnmatchcase(n, p) for n in names for p in self.allow):
            return False
        return not any(fnmatchcase(n, p) for n in names for p in self.deny)


# The set docs/metrics.md recommends for fleets over 10,000 domains: each domain's status,
# deadline, staleness, status age and findings (what the Overview dashboard and the domain-level
# alerts read), without the per-record families and every kind's fact families (from the
# registry, so a new kind's are denied too): about half the series.
LARGE_FLEET_DENY = (
    "domainwatch_capability_status",
    "domainwatch_record_status",
    "domainwatch_domain_last_check_timestamp_seconds",
    "domainwatch_compliance_rule",
    "domainwatch_dkim_key_first_seen_timestamp_seconds",
    *(metric.name for kind in KINDS for metric in kind.metrics),
)
