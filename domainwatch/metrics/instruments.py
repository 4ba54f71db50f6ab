"""Prometheus metrics: process counters, and a collector that reads domain state at scrape time.

Per-domain series come from the collector, so a domain removed from the config simply stops
being exported. Names are a contract (docs/metrics.md); label values are closed vocabularies,
except the domain, record and selector names that identify a series.
"""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Iterator
from typing import TYPE_CHECKING

from isal import isal_zlib
from prometheus_client import CollectorRegistry, Counter, Histogram, Info, disable_created_metrics
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector

from domainwatch import __version__
from domainwatch.dns.resolver import Nameserver, Outcome
from domainwatch.metrics.dns_stats import DnsStats
from domainwatch.metrics.domain_text import DomainText
from domainwatch.model import DomainReport, RecordState
from domainwatch.state.rules import Status

if TYPE_CHECKING:
    from domainwatch.daemon.daemon import Daemon
    from domainwatch.webhooks.worker import WebhookWorker

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_GZIP_BATCH = 4096  # parts of about 200 bytes: under a megabyte at a time
_CHECK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class Metrics:
    """The process-level instruments, all in one registry passed in (never the global one)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        # No *_created series: they double the counters' cardinality and nothing here uses them.
        disable_created_metrics()  # type: ignore[no-untyped-call]
        self.registry = registry or CollectorRegistry()
        self._daemon: Daemon | None = None
        self._domain_text = DomainText()
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
        Info("domainwatch_build", "domainwatch build information", registry=r).info({"version": __version__})

    def observe_dns(self, server: Nameserver, outcome: Outcome, seconds: float) -> None:
        self.dns.observe(server, outcome, seconds)

    def observe_check(self, report: DomainReport, seconds: float) -> None:
        required = [r.state for r in report.records if r.required]
        result = "present"
        if RecordState.ERROR in required:
            result = "error"
        elif any(state is not RecordState.PRESENT for state in required):
            result = "missing"
        self.checks.labels(result).inc()
        self.check_duration.observe(seconds)

    def observe_delivery(self, endpoint: str, outcome: str, seconds: float) -> None:
        self.deliveries.labels(endpoint, outcome).inc()
        self.delivery_duration.observe(seconds)

    def observe_domain_change(self, status: str) -> None:
        self.status_changes.labels(status).inc()

    def attach(self, daemon: Daemon, webhooks: WebhookWorker | None = None) -> None:
        self._daemon = daemon
        self.registry.register(DomainCollector(daemon))
        if webhooks is not None:
            self.registry.register(WebhookCollector(webhooks))

    def render(self, accept_encoding: str = "") -> tuple[bytes, dict[str, str]]:
        """The exposition, gzipped when the scraper accepts it."""
        parts = [generate_latest(self.registry)]
        if self._daemon is not None:
            parts += self._domain_text.render(self._daemon)
        if "gzip" in accept_encoding:
            return gzipped(parts), {"Content-Type": CONTENT_TYPE, "Content-Encoding": "gzip"}
        return b"".join(parts), {"Content-Type": CONTENT_TYPE}


def gzipped(parts: list[bytes]) -> bytes:
    """gzip (level 1, ISA-L) of the parts joined, compressed a few thousand parts at a time: the
    200 MB of text of a 100,000-domain scrape is never joined into one string."""
    compressor = isal_zlib.compressobj(1, isal_zlib.DEFLATED, 16 + isal_zlib.MAX_WBITS)
    out = [
        compressor.compress(b"".join(parts[i : i + _GZIP_BATCH])) for i in range(0, len(parts), _GZIP_BATCH)
    ]
    out.append(compressor.flush())
    return b"".join(out)


class DomainCollector(Collector):
    """Reads the daemon's current state at scrape time."""

    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon

    def collect(self) -> Iterator[Metric]:
        yield from self._domain_metrics()
        yield from self._process_state()

    def _domain_metrics(self) -> Iterator[Metric]:
        # The per-domain families are written by DomainText (metrics_text.py), for speed.
        counts = Tally(
            track.status.value for name, track in self.daemon.tracks.items() if name in self.daemon.plans
        )
        domains = GaugeMetricFamily("domainwatch_domains", "Domains by current status", labels=["status"])
        for value in Status:
            domains.add_metric([value.value], counts.get(value.value, 0))
        yield domains

    def _process_state(self) -> Iterator[Metric]:
        sharding = self.daemon.config.sharding
        shard = GaugeMetricFamily(
            "domainwatch_shard_info",
            "The shard this replica checks, stores and exports",
            labels=["shard", "total_shards"],
        )
        shard.add_metric([str(sharding.shard), str(sharding.total_shards)], 1.0)
        yield shard
        ok = GaugeMetricFamily(
            "domainwatch_config_last_reload_successful", "1 if the last config load or reload succeeded"
        )
        ok.add_metric([], 1.0 if self.daemon.last_reload_ok else 0.0)
        at = GaugeMetricFamily(
            "domainwatch_config_last_reload_success_timestamp_seconds",
            "When the config was last loaded successfully",
        )
        at.add_metric([], self.daemon.last_reload_success_at.timestamp())
        yield from (ok, at)


class WebhookCollector(Collector):
    """Outbox depth, age, dead letters and disabled endpoints, read from the store at scrape time."""

    def __init__(self, worker: WebhookWorker) -> None:
        self.worker = worker

    def collect(self) -> Iterator[Metric]:
        pending = GaugeMetricFamily(
            "domainwatch_webhook_outbox_pending", "Deliveries waiting to be sent", labels=["endpoint"]
        )
        age = GaugeMetricFamily(
            "domainwatch_webhook_outbox_oldest_pending_age_seconds",
            "Age of the oldest delivery waiting to be sent",
            labels=["endpoint"],
        )
        dead = GaugeMetricFamily(
            "domainwatch_webhook_dead_letters", "Deliveries that ran out of attempts", labels=["endpoint"]
        )
        disabled = GaugeMetricFamily(
            "domainwatch_webhook_endpoint_disabled",
            "1 when the endpoint was disabled (it answered 410 Gone)",
            labels=["endpoint"],
        )
        stats = self.worker.outbox.stats(self.worker.clock())
        off = self.worker.outbox.disabled()
        for endpoint in self.worker.config.webhooks:
            count, oldest, dead_letters = stats.get(endpoint.name, (0, 0.0, 0))
            pending.add_metric([endpoint.name], count)
            age.add_metric([endpoint.name], oldest)
            dead.add_metric([endpoint.name], dead_letters)
            disabled.add_metric([endpoint.name], 1.0 if endpoint.name in off else 0.0)
        yield from (pending, age, dead, disabled)
