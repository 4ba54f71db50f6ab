"""/metrics: every documented family with its labels, gzip, and `promtool check metrics`."""

from __future__ import annotations

import asyncio
import gzip
import os
import random
import re
import subprocess
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from prometheus_client import CollectorRegistry, Gauge, generate_latest
from prometheus_client.core import Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector

from domainwatch.config.loader import parse
from domainwatch.config.schema import MetricsConfig
from domainwatch.daemon.daemon import Daemon
from domainwatch.dns.resolver import Query
from domainwatch.metrics import domain_text as domain_text_module
from domainwatch.metrics import exposition as exposition_module
from domainwatch.metrics import families
from domainwatch.metrics.deflated import plain
from domainwatch.metrics.domain_text import DomainText
from domainwatch.metrics.families import FAMILIES as TEXT_FAMILIES
from domainwatch.metrics.families import escape
from domainwatch.state.domain import DomainTrack
from domainwatch.state.facts import DomainFacts
from domainwatch.state.fleet import Shape
from domainwatch.state.rules import Status
from domainwatch.testing import FakeClock, FakeResolver
from domainwatch.web.app import create_app
from tests.integration.daemon_helpers import advance
from tests.integration.web_fixtures import config_text, make_daemon

Client = TestClient[Any, Any]
MakeClient = Callable[[web.Application], Awaitable[Client]]
ROOT = Path(__file__).resolve().parents[2]
PROMTOOL = ROOT / ".cache" / "debian" / "usr" / "bin" / "promtool"

FAMILIES = {
    "domainwatch_domain_status": {"domain", "status"},
    "domainwatch_capability_status": {"domain", "capability", "status"},
    "domainwatch_record_status": {"domain", "record", "status"},
    "domainwatch_domain_status_since_timestamp_seconds": {"domain"},
    "domainwatch_domain_last_check_timestamp_seconds": {"domain"},
    "domainwatch_domain_last_verified_timestamp_seconds": {"domain"},
    "domainwatch_domain_window_deadline_timestamp_seconds": {"domain"},
    "domainwatch_domain_findings": {"domain", "severity"},
    "domainwatch_spf_dns_lookups": {"domain"},
    "domainwatch_dmarc_policy": {"domain", "policy"},
    "domainwatch_domain_stale": {"domain"},
    "domainwatch_checks": {"result"},
    "domainwatch_check_duration_seconds": set(),
    "domainwatch_status_changes": {"status"},
    "domainwatch_config_last_reload_successful": set(),
    "domainwatch_config_last_reload_success_timestamp_seconds": set(),
    "domainwatch_domains": {"status"},
    "domainwatch_build_info": {"version", "revision", "compiled"},
    "domainwatch_ready": set(),
    "domainwatch_scheduler_lag_seconds": set(),
    "domainwatch_checks_due": set(),
    "domainwatch_check_start_delay_seconds": set(),
    "domainwatch_store_write_duration_seconds": set(),
    "domainwatch_http_requests": {"route", "code"},
}


@pytest.fixture
async def scrape(tmp_path: Path, aiohttp_client: MakeClient) -> str:
    daemon, exposition = await make_daemon(tmp_path)
    client: Client = await aiohttp_client(create_app(daemon, exposition))
    assert 200 == (await client.get("/healthz")).status  # counted before the scrape
    return await (await client.get("/metrics")).text()


def parse_samples(text: str) -> list[tuple[str, float]]:
    """Every sample's name and value (histograms' _count and _sum included)."""
    return [(s.name, s.value) for family in text_string_to_metric_families(text) for s in family.samples]


def samples(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        out[family.name] = [
            (dict(s.labels), s.value) for s in family.samples if s.name.endswith(("_bucket",)) is False
        ]
    return out


async def test_every_documented_family_is_present_with_its_labels(scrape: str) -> None:
    """Each metric of the contract is exported with exactly its documented labels."""
    families = samples(scrape)
    for name, labels in FAMILIES.items():
        assert name in families, name
        assert families[name], name
        for sample_labels, _ in families[name]:
            assert labels == set(sample_labels) - {"le"}, (name, sample_labels)


async def test_domain_status_is_one_hot_and_others_export_current_only(scrape: str) -> None:
    """All seven statuses per domain (one 1); capability and record status only the current one."""
    families = samples(scrape)
    good = [
        (s["status"], v)
        for s, v in families["domainwatch_domain_status"]
        if s["domain"] == "good.example.com"
    ]
    assert 7 == len(good)
    assert [("verified", 1.0)] == [(s, v) for s, v in good if v == 1.0]
    records = [s for s, _ in families["domainwatch_record_status"] if s["domain"] == "good.example.com"]
    assert {("spf", "verified"), ("receiving_mx", "verified"), ("dmarc", "pending")} == {
        (s["record"], s["status"]) for s in records
    }
    deadline_domains = {
        s["domain"] for s, _ in families["domainwatch_domain_window_deadline_timestamp_seconds"]
    }
    assert "good.example.com" not in deadline_domains  # only pending / temporary_failure have one
    assert "evil.example.com" in deadline_domains


async def test_gzip_when_asked(tmp_path: Path, aiohttp_client: MakeClient) -> None:
    """Accept-Encoding: gzip gets a gzipped exposition."""
    daemon, exposition = await make_daemon(tmp_path)
    client: Client = await aiohttp_client(create_app(daemon, exposition))
    response = await client.get("/metrics", headers={"Accept-Encoding": "gzip"}, auto_decompress=False)
    assert "gzip" == response.headers["Content-Encoding"]
    assert b"domainwatch_domain_status" in gzip.decompress(await response.read())


async def test_exposition_passes_promtool_check_metrics(scrape: str) -> None:
    """Debian's promtool (extracted by `make test`) finds nothing to complain about."""
    if not PROMTOOL.exists():
        if os.environ.get("CI"):
            pytest.fail("promtool missing: scripts/install-test-deps.sh extracts it as root")
        pytest.skip("promtool not extracted (run scripts/install-test-deps.sh as root)")
    result = await asyncio.to_thread(
        subprocess.run,
        [str(PROMTOOL), "check", "metrics"],
        input=scrape,
        capture_output=True,
        text=True,
        check=False,
    )
    assert (0, "") == (result.returncode, result.stdout + result.stderr)


def _per_domain_lines(text: str) -> set[str]:
    """The lines of the hand-written families, label pairs sorted (the parser sorts them)."""
    names = {family.name for family in TEXT_FAMILIES}
    out = set()
    for line in text.splitlines():
        name = line.split(" ")[2] if line.startswith("#") else line.split("{")[0].split(" ")[0]
        if name in names:
            pairs = sorted(re.findall(r'\w+="(?:[^"\\]|\\.)*"', line.split("}")[0]))
            out.add(line if line.startswith("#") else f"{name}{{{','.join(pairs)}}}{line.rsplit('}', 1)[1]}")
    return out


async def test_per_domain_text_is_what_prometheus_client_would_write(tmp_path: Path) -> None:
    """The hand-written families round-trip: parsed by prometheus_client and written again by its
    own writer, they come out line for line the same (floats, escaping, HELP and TYPE)."""
    daemon, exposition = await make_daemon(tmp_path)
    body = exposition.render()[0].decode()
    parsed = [f for f in text_string_to_metric_families(body) if f.name in {f.name for f in TEXT_FAMILIES}]
    registry = CollectorRegistry()

    class Replay(Collector):
        def collect(self) -> Iterator[Metric]:
            yield from parsed

    registry.register(Replay())
    rewritten = generate_latest(registry).decode()
    assert len(parsed) == len(TEXT_FAMILIES)
    assert _per_domain_lines(body) == _per_domain_lines(rewritten)
    await daemon.shutdown()


def test_label_values_are_escaped_as_prometheus_client_does() -> None:
    registry = CollectorRegistry()
    gauge = Gauge("x", "x", ["v"], registry=registry)
    nasty = 'a"b\\c\nd'
    gauge.labels(nasty).set(1)
    assert f'x{{v="{escape(nasty)}"}} 1.0' in generate_latest(registry).decode()


@dataclass
class Fleet:
    """A FleetView whose state a test changes, telling the DomainText as the daemon tells it."""

    tracks: dict[str, DomainTrack]
    plans: dict[str, Shape]
    facts: dict[str, DomainFacts]
    text: DomainText
    shard: tuple[int, int] = (0, 1)
    last_reload_ok: bool = True
    last_reload_success_at: datetime = datetime(2026, 1, 1, tzinfo=UTC)

    @classmethod
    def of(cls, daemon: Daemon) -> Fleet:
        # Blocks of two domains: a change is spliced into a block among others.
        return cls(
            dict(daemon.fleet.tracks), dict(daemon.fleet.plans), dict(daemon.fleet.facts), DomainText(block=2)
        )

    def set(self, name: str, track: DomainTrack) -> None:
        self.tracks[name] = track
        self.text.domains_changed([name])

    def render(self) -> str:
        return plain(self.text.render(self)).decode()

    def fresh(self) -> str:
        return plain(DomainText().render(self)).decode()


async def test_a_domains_text_changes_with_its_state_and_goes_with_it(tmp_path: Path) -> None:
    daemon, _ = await make_daemon(tmp_path)
    fleet = Fleet.of(daemon)
    before = fleet.render()
    name = "good.example.com"
    track = fleet.tracks[name]
    assert track.checked_at is not None
    fleet.set(name, replace(track, checked_at=track.checked_at + timedelta(minutes=5)))
    after = fleet.render()
    # Chunks reused from the previous text are exactly what formatting afresh writes.
    assert after == fleet.fresh()
    fleet.set(name, replace(fleet.tracks[name], status=Status.FAILED))
    failed = fleet.render()
    assert f'domainwatch_domain_status{{domain="{name}",status="failed"}} 1.0' in failed
    assert failed == fleet.fresh()
    fleet.set(name, replace(track, checked_at=track.checked_at + timedelta(minutes=5)))
    after = fleet.render()
    changed = set(before.splitlines()) ^ set(after.splitlines())
    assert changed
    assert all(f'domain="{name}"' in line for line in changed)
    assert all("last_check" in line for line in changed)
    fleet.plans.pop(name)
    fleet.text.domains_changed([name])
    gone = fleet.render()
    assert f'domain="{name}"' not in gone
    assert 'domain="evil.example.com"' in gone
    await daemon.shutdown()


@pytest.mark.parametrize("seed", range(5))
async def test_text_kept_between_scrapes_is_what_formatting_afresh_writes(tmp_path: Path, seed: int) -> None:
    """Random changes between scrapes (a check, a status change, facts gone or back, a domain
    leaving, coming back or moving to the end), each told as the daemon tells it: each scrape
    equals a fresh rendering."""
    daemon, _ = await make_daemon(tmp_path)
    fleet = Fleet.of(daemon)
    original_plans, original_facts = dict(fleet.plans), dict(fleet.facts)
    rng = random.Random(seed)
    for minutes in range(1, 41):
        name = rng.choice(sorted(original_plans))
        action = rng.choice(["check", "fail", "facts", "plan", "move"])
        track = fleet.tracks[name]
        if action == "check" and track.checked_at is not None:
            fleet.set(name, replace(track, checked_at=track.checked_at + timedelta(minutes=minutes)))
        elif action == "fail":
            fleet.set(name, replace(track, status=Status.FAILED))
        elif action == "facts":
            if name in fleet.facts:
                fleet.facts.pop(name)
            elif name in original_facts:
                fleet.facts[name] = original_facts[name]
            fleet.text.domains_changed([name])
        elif action == "plan":
            if name in fleet.plans:
                fleet.plans.pop(name)
            else:
                fleet.plans[name] = original_plans[name]
            fleet.text.domains_changed([name])
        else:
            fleet.tracks[name] = fleet.tracks.pop(name)
            fleet.text.fleet_changed()
        assert fleet.render() == fleet.fresh()
    await daemon.shutdown()


async def test_the_daemon_tells_the_exposition_of_every_change(tmp_path: Path) -> None:
    """Checks that change statuses, a verify action, a record disappearing and a reload that adds
    and drops domains: after each, what /metrics serves is a fresh rendering of the daemon."""
    daemon, exposition = await make_daemon(tmp_path, check=False)
    clock = daemon.clock
    assert isinstance(clock, FakeClock)

    def served() -> str:
        return plain(exposition.domain_text.render(daemon.fleet)).decode()

    def fresh() -> str:
        return plain(DomainText().render(daemon.fleet)).decode()

    assert served() == fresh()
    await advance(daemon, clock, clock.now + timedelta(minutes=10))
    assert served() == fresh()
    await daemon.verify("evil.example.com")
    assert served() == fresh()
    resolver = daemon.resolver
    assert isinstance(resolver, FakeResolver)
    resolver.data.pop(Query.of("send.good.example.com", "TXT"))
    await advance(daemon, clock, clock.now + timedelta(hours=2))
    assert served() == fresh()
    assert 'domain="good.example.com",status="temporary_failure"} 1.0' in served()
    config = daemon.config
    extra = parse(
        config_text(tmp_path, False)
        + "  - {name: new.example.com, receiving: {mx: [{host: mx.example.net}]}}\n"
    )
    await daemon.apply_config(
        extra.model_copy(update={"domains": [d for d in extra.domains if d.name != "evil.example.com"]})
    )
    assert served() == fresh()
    assert 'domain="new.example.com"' in served()
    assert 'domain="evil.example.com"' not in served()
    await daemon.apply_config(config)
    assert served() == fresh()
    await daemon.shutdown()


async def test_metrics_allow_and_deny_select_families_and_a_reload_changes_them(
    tmp_path: Path, aiohttp_client: MakeClient
) -> None:
    """metrics.deny drops per-domain and process-level families alike, at once on a reload."""
    daemon, exposition = await make_daemon(tmp_path)
    daemon.on_config.append(exposition.apply_config)
    client = await aiohttp_client(create_app(daemon, exposition))
    before = await (await client.get("/metrics")).text()
    assert "domainwatch_record_status{" in before
    assert "domainwatch_checks_total{" in before
    config = daemon.config.model_copy(
        update={"metrics": MetricsConfig(deny=["domainwatch_record_status", "domainwatch_checks"])}
    )
    await daemon.apply_config(config)
    after = await (await client.get("/metrics")).text()
    assert "domainwatch_record_status" not in after
    assert "domainwatch_checks_total" not in after
    assert 'domainwatch_domain_status{domain="good.example.com",status="verified"} 1.0' in after
    await daemon.apply_config(config.model_copy(update={"metrics": MetricsConfig()}))
    assert "domainwatch_record_status{" in await (await client.get("/metrics")).text()


async def test_after_the_warm_up_a_scrape_formats_only_what_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`domainwatch run` warms the per-domain text at start: the first scrape then formats no
    domain that has not changed since, and serves exactly a fresh rendering."""
    daemon, exposition = await make_daemon(tmp_path, check=False)
    assert not exposition.warm
    await exposition.warm_up()
    assert exposition.warm
    formatted: list[str] = []
    real = domain_text_module.domain_lines

    def counting(name: str, *args: Any, **kwargs: Any) -> tuple[bytes, ...]:
        formatted.append(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(domain_text_module, "domain_lines", counting)
    body, _ = exposition.render()
    assert [] == formatted
    assert body.decode().endswith(plain(DomainText().render(daemon.fleet)).decode())  # formats anew
    formatted.clear()
    name = "good.example.com"
    track = daemon.fleet.tracks[name]
    daemon.fleet.tracks[name] = replace(track, status=Status.FAILED)
    exposition.domains_changed([name])
    body, _ = exposition.render()
    assert [name] == formatted
    assert f'domainwatch_domain_status{{domain="{name}",status="failed"}} 1.0' in body.decode()
    await daemon.shutdown()


async def test_the_readiness_probe_says_when_the_metrics_are_warm(
    tmp_path: Path, aiohttp_client: MakeClient
) -> None:
    daemon, exposition = await make_daemon(tmp_path)
    client: Client = await aiohttp_client(create_app(daemon, exposition))
    assert False is (await (await client.get("/readyz")).json())["metrics_warm"]
    await exposition.warm_up()
    assert True is (await (await client.get("/readyz")).json())["metrics_warm"]


async def test_the_daemon_watches_itself(scrape: str) -> None:
    """Readiness, the scheduler's backlog, the store's writes, requests by route, the process."""
    families = samples(scrape)
    assert [({}, 1.0)] == families["domainwatch_ready"]
    assert [({}, 0.0)] == families["domainwatch_checks_due"]  # every due check ran
    assert [({}, 0.0)] == families["domainwatch_scheduler_lag_seconds"]
    written = dict(parse_samples(scrape))["domainwatch_store_write_duration_seconds_count"]
    assert written >= 1  # the round's batch, at least
    assert ({"route": "/healthz", "code": "200"}, 1.0) in families["domainwatch_http_requests"]
    assert "process_resident_memory_bytes" in families
    assert "python_info" in families


async def test_owner_labels_are_exported_for_the_allowed_keys_only(
    tmp_path: Path, aiohttp_client: MakeClient
) -> None:
    """domainwatch_domain_labels: one series for every domain once a key is allowed, carrying
    only the allowed keys; a label changed in the config is exported at the next scrape."""
    daemon, exposition = await make_daemon(tmp_path)
    daemon.on_config.append(exposition.apply_config)
    client = await aiohttp_client(create_app(daemon, exposition))
    assert "domainwatch_domain_labels{" not in await (await client.get("/metrics")).text()

    def labelled(team: str) -> Any:
        text = config_text(tmp_path, False).replace(
            "  - name: good.example.com\n",
            f"  - name: good.example.com\n    labels: {{team: {team}, customer: acme}}\n",
        )
        return parse(text + "metrics: {labels_allow: [team]}\n")

    await daemon.apply_config(labelled("billing"))
    series = samples(await (await client.get("/metrics")).text())["domainwatch_domain_labels"]
    assert {
        ("good.example.com", "billing"),
        ("evil.example.com", None),
        ("idle.example.com", None),
    } == {(s["domain"], s.get("label_team")) for s, _ in series}
    assert all("label_customer" not in s for s, _ in series)
    await daemon.apply_config(labelled("platform"))
    text = await (await client.get("/metrics")).text()
    assert 'domainwatch_domain_labels{domain="good.example.com",label_team="platform"} 1.0' in text


async def test_a_scrape_is_always_complete_and_formats_little_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A scrape formats at most SCRAPE_SLICE domains; when more is left (a reload lays the text
    out anew) it serves the last complete text, every domain in it, and the rest is formatted
    between the loop's other work: the next scrape has it."""
    daemon, exposition = await make_daemon(tmp_path)
    exposition.domain_text = DomainText(block=1)  # a block a domain: the work comes in slices
    monkeypatch.setattr(exposition_module, "SCRAPE_SLICE", 1)
    names = sorted(daemon.fleet.plans)

    def shown(body: bytes) -> dict[str, str]:
        return {
            labels["domain"]: labels["status"]
            for labels, value in samples(body.decode())["domainwatch_domain_status"]
            if value == 1
        }

    first, _ = await exposition.scrape()  # nothing complete yet: it waits for the formatting
    assert names == sorted(shown(first))
    formatted: list[str] = []
    real = families.domain_lines

    def counting(name: str, *args: Any, **kwargs: Any) -> tuple[bytes, ...]:
        formatted.append(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(domain_text_module, "domain_lines", counting)
    name = "good.example.com"
    daemon.fleet.tracks[name] = replace(daemon.fleet.tracks[name], status=Status.FAILED)
    exposition.domains_changed([name])
    exposition.fleet_changed()  # a reload: every domain formatted again
    quick, _ = await exposition.scrape()
    assert len(formatted) <= 1
    assert shown(quick) == shown(first)  # the last complete text: every domain, as it was
    assert exposition._settling is not None
    await exposition._settling
    latest, _ = await exposition.scrape()
    assert shown(latest)[name] == "failed"
    assert names == sorted(shown(latest))
    await daemon.shutdown()
