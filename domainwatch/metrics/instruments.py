"""The process's instruments: counters and histograms the daemon and the webhook worker write
to. A sink only: it reads nothing back (exposition.py does the reading, at scrape time)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, Info, disable_created_metrics

from domainwatch import __version__, revision
from domainwatch.dns.resolver import Nameserver, Outcome
from domainwatch.metrics.dns_stats import DnsStats
from domainwatch.model import CommonCode, DomainReport

_CHECK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class Metrics:
    """The process-level instruments, all in one registry passed in (never the global one)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        # No *_created series: they double the counters' cardinality and nothing here uses them.
        disable_created_metrics()  # type: ignore[no-untyped-call]
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.checks = Counter(
            "domainwatch_checks",
            "Domain checks done, by result (present: every required record present; missing; error)",
            ["result"],
            registry=r,
        )
        self.check_duration = Histogram(
            "domainwatch_check_duration_seconds",
            "Time to check one domain",
            buckets=_CHECK_BUCKETS,
            registry=r,
        )
        self.check_failures = Counter(
            "domainwatch_record_check_failures",
            "Records whose evaluation raised (a defect in domainwatch, reported as an error), by kind",
            ["kind"],
            registry=r,
        )
        self.dns = DnsStats()
        r.register(self.dns)
        self.status_changes = Counter(
            "domainwatch_status_changes", "Domain status changes, by new status", ["status"], registry=r
        )
        self.deliveries = Counter(
            "domainwatch_webhook_deliveries",
            "Webhook delivery attempts, by endpoint and outcome (success, retry, dead, gone)",
            ["endpoint", "outcome"],
            registry=r,
        )
        self.delivery_duration = Histogram(
            "domainwatch_webhook_delivery_duration_seconds",
            "Time of one webhook delivery attempt",
            buckets=_CHECK_BUCKETS,
            registry=r,
        )
        Info("domainwatch_build", "domainwatch build information", registry=r).info(
            {"version": __version__, "revision": revision()}
        )

    def observe_dns(self, server: Nameserver, outcome: Outcome, seconds: float) -> None:
        self.dns.observe(server, outcome, seconds)

    def observe_check(self, report: DomainReport, seconds: float) -> None:
        self.checks.labels(report.verdict).inc()
        self.check_duration.observe(seconds)
        for record in report.records:
            if any(f.code is CommonCode.CHECK_FAILED for f in record.findings):
                self.check_failures.labels(record.record.partition(":")[0]).inc()

    def observe_delivery(self, endpoint: str, outcome: str, seconds: float) -> None:
        self.deliveries.labels(endpoint, outcome).inc()
        self.delivery_duration.observe(seconds)

    def observe_domain_change(self, status: str) -> None:
        self.status_changes.labels(status).inc()
