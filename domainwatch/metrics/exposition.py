"""The /metrics exposition: the instruments' registry, collectors that read the fleet and the
webhook queue at scrape time, and the per-domain families (domain_text.py).

Per-domain series come from the fleet view, so a domain removed from the config simply stops
being exported. Names are a contract (docs/metrics.md); label values are closed vocabularies,
except the domain, record and selector names that identify a series.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector

from domainwatch.config.schema import Config
from domainwatch.metrics.deflated import Segment, deflate, gzip_stream, plain
from domainwatch.metrics.domain_text import DomainText
from domainwatch.metrics.selection import Selection
from domainwatch.state.fleet import FleetView, status_counts
from domainwatch.state.rules import Status

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Domains formatted between two turns of the event loop while warming up: about 40 ms of work,
# so requests and checks are not held up for longer.
WARM_SLICE = 512
# Domains a scrape formats itself before it serves the last complete text instead (about 0.2 s).
SCRAPE_SLICE = 4096


@dataclass(frozen=True, slots=True)
class EndpointStats:
    name: str
    pending: int
    oldest_pending_age: float  # seconds
    dead_letters: int
    disabled: bool


class DeliveryStats(Protocol):
    def endpoint_stats(self) -> Sequence[EndpointStats]:
        """Every configured endpoint's queue, read now."""


class Progress(Protocol):
    """The daemon's own progress, read at scrape time."""

    @property
    def ready(self) -> bool: ...

    def backlog(self) -> tuple[int, float]:
        """Checks due but not started, and how late the oldest of them is (seconds)."""


class Exposition:
    """What a scrape returns. It listens to the fleet's owner (FleetListener), so only the
    domains that changed since the last scrape are formatted again."""

    def __init__(
        self,
        registry: CollectorRegistry,
        fleet: FleetView,
        deliveries: DeliveryStats | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.registry, self.fleet = registry, fleet
        self.selection = Selection()
        self.domain_text = DomainText()
        # The domains' text of the last complete gathering, served while more is formatted.
        self._complete: list[Segment] | None = None
        self._settling: asyncio.Task[None] | None = None
        registry.register(FleetCollector(fleet))
        if deliveries is not None:
            registry.register(WebhookCollector(deliveries))
        if progress is not None:
            registry.register(ProgressCollector(progress))

    def domains_changed(self, names: Iterable[str]) -> None:
        self.domain_text.domains_changed(names)

    def fleet_changed(self) -> None:
        self.domain_text.fleet_changed()

    def apply_config(self, config: Config) -> None:
        """Export the families `metrics.allow` and `metrics.deny` select (a daemon on_config hook)."""
        metrics = config.metrics
        selection = Selection.of(metrics.allow, metrics.deny, metrics.labels_allow)
        if selection != self.selection:
            self.selection = selection
            self.domain_text.select(selection)

    async def warm_up(self) -> float:
        """Format every domain's series ahead of the first scrape, a slice at a time between the
        loop's other work, then gather them as a scrape would. Returns the seconds it took."""
        started = time.perf_counter()
        formatted = False
        while not formatted:
            formatted = self.domain_text.warm(self.fleet, WARM_SLICE)
            await asyncio.sleep(0)  # requests and checks run between two slices
        self._complete = self.domain_text.render(self.fleet)
        return time.perf_counter() - started

    @property
    def warm(self) -> bool:
        """A complete exposition exists (after warm_up, or a scrape): from now on no scrape
        waits for the fleet's formatting; at worst it is served the last complete one."""
        return self._complete is not None

    def render(self, accept_encoding: str = "") -> tuple[bytes, dict[str, str]]:
        """The exposition, every domain formatted now, gzipped when the scraper accepts it."""
        return self._encoded(self.domain_text.render(self.fleet), accept_encoding)

    async def scrape(self, accept_encoding: str = "") -> tuple[bytes, dict[str, str]]:
        """What a scrape gets, always complete and without holding up the loop for long: the
        formatting left is done for up to SCRAPE_SLICE domains; when more is left (the first
        round, a reload, a domain added) the domains' text is the last complete one, at most as
        old as the formatting takes, which goes on between the loop's other work."""
        text = self.domain_text
        if text.settle(self.fleet, SCRAPE_SLICE) or text.complete:
            self._complete = text.gather()
        if not text.settled:
            self._settle_later()
        if self._complete is None:  # nothing whole to serve yet: wait for the formatting
            assert self._settling is not None
            await asyncio.shield(self._settling)
        assert self._complete is not None
        return self._encoded(self._complete, accept_encoding)

    def _settle_later(self) -> None:
        if self._settling is None or self._settling.done():
            self._settling = asyncio.get_running_loop().create_task(self._settle())

    async def _settle(self) -> None:
        settled = False
        while not settled:
            settled = self.domain_text.settle(self.fleet, WARM_SLICE)
            await asyncio.sleep(0)  # requests and checks run between two slices
        self._complete = self.domain_text.gather()

    def _encoded(self, domains: list[Segment], accept_encoding: str) -> tuple[bytes, dict[str, str]]:
        segments = [deflate(generate_latest(_Selected(self.registry, self.selection))), *domains]
        if "gzip" in accept_encoding:
            return gzip_stream(segments), {"Content-Type": CONTENT_TYPE, "Content-Encoding": "gzip"}
        return plain(segments), {"Content-Type": CONTENT_TYPE}


class _Selected:
    """The registry's families that the selection exports (what generate_latest reads)."""

    def __init__(self, registry: CollectorRegistry, selection: Selection) -> None:
        self.registry, self.selection = registry, selection

    def collect(self) -> Iterator[Metric]:
        return (family for family in self.registry.collect() if self.selection.exports(family.name))


class FleetCollector(Collector):
    """Domains per status, the shard, and the config's last reload, read at scrape time."""

    def __init__(self, fleet: FleetView) -> None:
        self.fleet = fleet

    def collect(self) -> Iterator[Metric]:
        counts = status_counts(self.fleet)
        domains = GaugeMetricFamily("domainwatch_domains", "Domains by current status", labels=["status"])
        for value in Status:
            domains.add_metric([value.value], counts.get(value.value, 0))
        yield domains
        shard, total = self.fleet.shard
        sharding = GaugeMetricFamily(
            "domainwatch_shard_info",
            "The shard this replica checks, stores and exports",
            labels=["shard", "total_shards"],
        )
        sharding.add_metric([str(shard), str(total)], 1.0)
        yield sharding
        ok = GaugeMetricFamily(
            "domainwatch_config_last_reload_successful", "1 if the last config load or reload succeeded"
        )
        ok.add_metric([], 1.0 if self.fleet.last_reload_ok else 0.0)
        at = GaugeMetricFamily(
            "domainwatch_config_last_reload_success_timestamp_seconds",
            "When the config was last loaded successfully",
        )
        at.add_metric([], self.fleet.last_reload_success_at.timestamp())
        yield from (ok, at)


class ProgressCollector(Collector):
    """Readiness and the scheduler's backlog: a replica alive but stuck shows here."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress

    def collect(self) -> Iterator[Metric]:
        ready = GaugeMetricFamily(
            "domainwatch_ready", "1 when /readyz answers 200 (every domain checked once)"
        )
        ready.add_metric([], 1.0 if self.progress.ready else 0.0)
        due, late = self.progress.backlog()
        lag = GaugeMetricFamily(
            "domainwatch_scheduler_lag_seconds", "How late the oldest due check that has not started is"
        )
        lag.add_metric([], late)
        waiting = GaugeMetricFamily("domainwatch_checks_due", "Checks due that have not started")
        waiting.add_metric([], float(due))
        yield from (ready, lag, waiting)


class WebhookCollector(Collector):
    """Outbox depth, age, dead letters and disabled endpoints, read from the store at scrape time."""

    def __init__(self, stats: DeliveryStats) -> None:
        self.stats = stats

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
        for endpoint in self.stats.endpoint_stats():
            pending.add_metric([endpoint.name], endpoint.pending)
            age.add_metric([endpoint.name], endpoint.oldest_pending_age)
            dead.add_metric([endpoint.name], endpoint.dead_letters)
            disabled.add_metric([endpoint.name], 1.0 if endpoint.disabled else 0.0)
        yield from (pending, age, dead, disabled)
