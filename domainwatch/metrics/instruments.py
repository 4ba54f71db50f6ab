"""The process's instruments: counters and histograms the daemon and the webhook worker write
to. A sink only: it reads nothing back (exposition.py does the reading, at scrape time)."""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    Info,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
)

from domainwatch import __version__, revision
from domainwatch.checks.drift import DIRECTIONS
from domainwatch.checks.registry import KINDS
from domainwatch.dns.resolver import Nameserver, Outcome
from domainwatch.metrics.dns_stats import DnsStats
from domainwatch.model import CommonCode, DomainReport
from domainwatch.runtime.native import compiled

_CHECK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
# How late a check starts after it falls due: on time is under a second; minutes is behind.
_DELAY_BUCKETS = (0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1800)
# A domain's round: from its pending interval (a minute) to its failed one (an hour) and beyond.
_ROUND_BUCKETS = (5, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600)
_WRITE_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)


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
        self.record_changes = Counter(
            "domainwatch_record_changes",
            "Changes of what watched records publish (record.changed), by record kind and direction",
            ["kind", "direction"],
            registry=r,
        )
        for kind in KINDS:  # at 0 from the start, so increase() sees the first change
            for direction in DIRECTIONS:
                self.record_changes.labels(kind.name, direction)
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
            {"version": __version__, "revision": revision(), "compiled": str(compiled()).lower()}
        )
        self._watching_itself(r)

    def _watching_itself(self, r: CollectorRegistry) -> None:
        """The daemon's own health: what an operator is paged on (docs/alerting.md)."""
        self.check_start_delay = Histogram(
            "domainwatch_check_start_delay_seconds",
            "How late each check started after it fell due (the scheduler falling behind)",
            buckets=_DELAY_BUCKETS,
            registry=r,
        )
        self.verified_lost = Counter(
            "domainwatch_verified_lost",
            "Domains that left verified, by the first error finding of the check that saw it",
            ["code"],
            registry=r,
        )
        self.store_write_duration = Histogram(
            "domainwatch_store_write_duration_seconds",
            "Time to write one batch of checks' results (one transaction)",
            buckets=_WRITE_BUCKETS,
            registry=r,
        )
        self.store_errors = Counter(
            "domainwatch_store_errors",
            "Store operations that failed, by operation (save, purge, deliveries)",
            ["operation"],
            registry=r,
        )
        for operation in ("save", "purge", "counts", "deliveries"):  # each at 0 from the start, so
            self.store_errors.labels(operation)  # increase() sees the first error
        self.probe_duration = Histogram(
            "domainwatch_probe_duration_seconds",
            "Time of one probe (a STARTTLS dialogue with one address, an MTA-STS policy fetch)",
            ["probe"],
            buckets=_CHECK_BUCKETS,
            registry=r,
        )
        self.probes = Counter(
            "domainwatch_probes",
            "Probes run, by probe and outcome (answer, timeout, refused, network, ...)",
            ["probe", "outcome"],
            registry=r,
        )
        self.round_duration = Histogram(
            "domainwatch_round_duration_seconds",
            "Time between two checks of the same domain: its interval as kept (longer when behind)",
            buckets=_ROUND_BUCKETS,
            registry=r,
        )
        self.http_requests = Counter(
            "domainwatch_http_requests",
            "HTTP requests answered, by route template and status code",
            ["route", "code"],
            registry=r,
        )
        ProcessCollector(registry=r)  # process_*: CPU, memory, open files
        PlatformCollector(registry=r)  # python_info

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

    def observe_record_change(self, record: str, direction: str) -> None:
        if direction in DIRECTIONS:
            self.record_changes.labels(record.partition(":")[0], direction).inc()

    def observe_verified_lost(self, code: str) -> None:
        self.verified_lost.labels(code).inc()

    def observe_store_write(self, seconds: float, *, failed: bool) -> None:
        self.store_write_duration.observe(seconds)
        if failed:
            self.store_errors.labels("save").inc()

    def observe_store_error(self, operation: str) -> None:
        self.store_errors.labels(operation).inc()

    def observe_probe(self, probe: str, outcome: str, seconds: float) -> None:
        self.probe_duration.labels(probe).observe(seconds)
        self.probes.labels(probe, outcome).inc()

    def observe_request(self, route: str, code: int) -> None:
        self.http_requests.labels(route, str(code)).inc()
