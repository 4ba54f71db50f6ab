"""metrics.allow / metrics.deny (metrics/selection.py), and what each family costs a domain."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from domainwatch.config.loader import parse
from domainwatch.config.plan import DomainPlan
from domainwatch.metrics.families import FAMILIES, domain_lines
from domainwatch.metrics.selection import LARGE_FLEET_DENY, Selection
from domainwatch.state.domain import reconcile
from domainwatch.state.drift import RecordDrift
from domainwatch.state.facts import DomainFacts


def test_no_lists_export_everything() -> None:
    assert all(Selection().exports(f.name) for f in FAMILIES)


def test_allow_then_deny_with_globs_and_counter_names() -> None:
    selection = Selection.of(["domainwatch_domain_*", "domainwatch_checks_total"], ["*_stale"])
    assert selection.exports("domainwatch_domain_status")
    assert not selection.exports("domainwatch_domain_stale")
    assert not selection.exports("domainwatch_record_status")
    assert selection.exports("domainwatch_checks")  # prometheus_client's name for the counter
    assert not Selection.of([], ["domainwatch_checks"]).exports("domainwatch_checks")


def test_the_config_takes_the_lists() -> None:
    config = parse("metrics: {deny: [domainwatch_record_status, 'domainwatch_tls_*']}\n")
    assert ("domainwatch_record_status", "domainwatch_tls_*") == tuple(config.metrics.deny)


def series_of(selection: Selection) -> int:
    """Series of one sending and receiving domain (SPF, a DKIM key, both MX, DMARC)."""
    config = parse("""domains:
  - name: shop.example.com
    sending: {spf: {include: [amazonses.com]}, dkim: [{selector: s1}], mx: {host: mx.example.net}}
    receiving: {mx: [{host: in.example.net}]}
""")
    plan = DomainPlan.of(config.domains[0], config.defaults)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    track, _ = reconcile(None, "shop.example.com", True, plan.specs, now)
    # Checked once, still pending (a deadline too), its DKIM key seen (first-seen time).
    track = replace(track, checked_at=now, drift={"dkim:s1": RecordDrift("set", now)})
    facts = DomainFacts(
        {"error": 0, "warning": 1, "info": 0},
        {
            "spf": {"spf_dns_lookups": 3},
            "dkim:s1": {"dkim_key_bits": 2048},
            "dmarc": {"dmarc_policy": "reject"},
        },
    )
    on = tuple(selection.exports(f.name) for f in FAMILIES)
    text = b"".join(domain_lines("shop.example.com", track, plan, facts, on=on)).decode()
    return len(text.splitlines())


def test_the_large_fleet_set_halves_a_domains_series() -> None:
    """The numbers docs/metrics.md states: 28 series for this domain, 13 with the recommended set."""
    assert 28 == series_of(Selection())
    assert 13 == series_of(Selection.of([], LARGE_FLEET_DENY))
