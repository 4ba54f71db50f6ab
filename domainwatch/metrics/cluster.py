"""A clustered replica's instruments (docs/ha.md): its slots, its lease renewals and the writes
the store refused it. Registered only when the store is shared (PostgreSQL)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

RENEWAL_RESULTS = ("ok", "lost", "error")


class ClusterMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.slots_owned = Gauge(
            "domainwatch_slots_owned",
            "Hash slots (of 1,024) whose domains this replica checks",
            registry=registry,
        )
        self.renewals = Counter(
            "domainwatch_lease_renewals",
            "Lease renewal rounds, by result (ok; lost: a slot held was taken by another; error)",
            ["result"],
            registry=registry,
        )
        for result in RENEWAL_RESULTS:
            self.renewals.labels(result)
        self.fenced_writes = Counter(
            "domainwatch_fenced_writes",
            "Domain writes the store refused: made under a slot lease another replica holds now",
            registry=registry,
        )
