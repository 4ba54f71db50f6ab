"""DNS query metrics as plain numbers: the same exposition as prometheus_client's instruments."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics
from prometheus_client.exposition import generate_latest

from domainwatch.dns.resolver import Nameserver, Outcome
from domainwatch.metrics.dns_stats import BUCKETS, DURATION, QUERIES, DnsStats
from tests.examples import examples

SERVERS = [Nameserver("127.0.0.1"), Nameserver("::1", 5353)]
SECONDS = st.one_of(st.sampled_from([0.0, *BUCKETS, 10.0]), st.floats(0, 10, allow_nan=False))


@settings(max_examples=examples(100), deadline=None)
@given(st.lists(st.tuples(st.sampled_from(SERVERS), st.sampled_from(list(Outcome)), SECONDS), max_size=30))
def test_the_same_text_as_prometheus_clients_counter_and_histogram(
    queries: list[tuple[Nameserver, Outcome, float]],
) -> None:
    """Any queries, durations on and between the bucket bounds included: identical exposition."""
    disable_created_metrics()  # type: ignore[no-untyped-call]
    ours, reference = CollectorRegistry(), CollectorRegistry()
    stats = DnsStats()
    ours.register(stats)
    counter = Counter(*QUERIES, ["nameserver", "outcome"], registry=reference)
    histogram = Histogram(*DURATION, buckets=BUCKETS, registry=reference)
    for server, outcome, seconds in queries:
        stats.observe(server, outcome, seconds)
        counter.labels(str(server), outcome.value).inc()
        histogram.observe(seconds)
    assert sorted(generate_latest(ours).splitlines()) == sorted(generate_latest(reference).splitlines())
