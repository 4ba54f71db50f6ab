"""Hostile DNS data, over real DNS (the test server on 127.0.0.1): no published value can crash a
command, freeze a domain, amplify queries or slow other domains (issue #19, items 1, 2, 5, 8,
11, 12)."""

from __future__ import annotations

import asyncio
import gc
import json
import random
import time
from datetime import timedelta
from pathlib import Path

import pytest

from domainwatch.config.loader import parse
from domainwatch.daemon.daemon import Daemon
from domainwatch.dns.cache import SharedLookups
from domainwatch.dns.fast.transport import FastResolver
from domainwatch.dns.resolver import Nameserver, Query
from domainwatch.store.sqlite import SqliteStore
from domainwatch.testing import Behaviour, DnsTestServer, FakeClock
from tests.integration.cli import run_cli
from tests.integration.daemon_helpers import advance
from tests.integration.test_cli import DOMAIN, publish_good, write_config

HOSTILE_DMARC = "v=DMARC1; p=none; pct=" + "0" * 5000
HOSTILE_SPF = "v=spf1 exists:%{l" + "7" * 5000 + "}.x.test include:amazonses.com ~all"
OTHER = "other.example.com"


def publish_hostile(server: DnsTestServer, domain: str = DOMAIN) -> None:
    server.set(f"_dmarc.{domain}", "TXT", [HOSTILE_DMARC])
    server.set(f"send.{domain}", "TXT", [HOSTILE_SPF])


async def test_check_reports_every_domain_despite_hostile_records(
    dns_server: DnsTestServer, tmp_path: Path
) -> None:
    """The reported records: `check` still reports the whole fleet, with findings, no traceback."""
    publish_good(dns_server)
    publish_good(dns_server, OTHER)
    publish_hostile(dns_server)
    config = write_config(tmp_path, dns_server.address, DOMAIN, OTHER)
    result = await run_cli("check", "-c", str(config), "--format", "json")
    assert "Traceback" not in result.err
    domains = {d["name"]: d for d in json.loads(result.out)["domains"]}
    assert {DOMAIN, OTHER} == set(domains)
    assert domains[OTHER]["ok"]
    spf = next(r for r in domains[DOMAIN]["records"] if r["record"] == "spf")
    assert "present" == spf["state"]  # the macro is not followed in the static check: no error


async def test_inspect_and_spf_eval_survive_hostile_records(dns_server: DnsTestServer) -> None:
    publish_good(dns_server)
    publish_hostile(dns_server)
    inspected = await run_cli("inspect", DOMAIN, "--nameserver", dns_server.address, "--format", "json")
    assert "Traceback" not in inspected.err
    assert inspected.code in (0, 1)
    assert json.loads(inspected.out)["domains"][0]["name"] == DOMAIN
    evaluated = await run_cli(
        "spf-eval",
        "--ip",
        "192.0.2.1",
        "--mail-from",
        f"user@send.{DOMAIN}",
        "--nameserver",
        dns_server.address,
    )
    assert ("Traceback" not in evaluated.err, 0) == (True, evaluated.code)
    assert evaluated.out.startswith("result: ")


async def test_a_verified_domain_publishing_hostile_records_is_not_frozen(
    dns_server: DnsTestServer, tmp_path: Path
) -> None:
    """Verified, then the hostile DMARC and SPF appear and the DKIM key goes: the domain moves
    to temporary_failure (checked, not frozen at verified)."""
    publish_good(dns_server)
    config = parse(
        write_config(tmp_path, dns_server.address).read_text()
        + f"storage: {{path: '{tmp_path / 'state.db'}'}}\n"
    )
    clock = FakeClock()
    daemon = await Daemon.open(
        config, SqliteStore(config.storage.location.target), clock=clock, rng=random.Random(1)
    )
    await advance(daemon, clock, clock.now + timedelta(minutes=1))
    assert "verified" == daemon.fleet.tracks[DOMAIN].status.value
    publish_hostile(dns_server)
    dns_server.remove(f"resend._domainkey.{DOMAIN}")
    await advance(daemon, clock, clock.now + timedelta(hours=1))
    track = daemon.fleet.tracks[DOMAIN]
    assert "temporary_failure" == track.status.value
    assert track.checked_at is not None
    assert clock.now - track.checked_at < timedelta(minutes=2)
    await daemon.shutdown()


async def test_thousands_of_report_addresses_cost_a_bounded_number_of_queries(
    dns_server: DnsTestServer, tmp_path: Path
) -> None:
    """1,500 mailto: URIs on distinct domains: at most ten consent lookups, a finding saying so,
    and a stored result of bounded size."""
    publish_good(dns_server)
    addresses = ",".join(f"mailto:r@d{n}.reports.test" for n in range(1500))
    dns_server.set(f"_dmarc.{DOMAIN}", "TXT", [f"v=DMARC1; p=reject; rua={addresses}"])
    before = dns_server.queries_seen
    result = await run_cli("check", "-c", str(write_config(tmp_path, dns_server.address)), "--format", "json")
    dmarc = next(r for r in json.loads(result.out)["domains"][0]["records"] if r["record"] == "dmarc")
    codes = [f["code"] for f in dmarc["findings"]]
    assert "dmarc_too_many_report_destinations" in codes
    assert dns_server.queries_seen - before < 40  # the domain's own queries plus at most ten consents
    assert len(json.dumps(dmarc)) < 64_000


async def test_a_silent_host_beside_a_shared_one_holds_up_no_other_domain(dns_server: DnsTestServer) -> None:
    """Domain A's MX set: a host shared with domain B, and a host that never answers. B's check
    gets the shared answer when it arrives, not when A's whole batch is done."""
    dns_server.set("a.example.com", "MX", ["10 shared.provider.test.", "20 silent.a-host.test."])
    dns_server.set("b.example.com", "MX", ["10 shared.provider.test."])
    dns_server.set("shared.provider.test", "A", ["192.0.2.10"])
    dns_server.behave("silent.a-host.test", Behaviour.SILENT)
    resolver = FastResolver([Nameserver("127.0.0.1", dns_server.port)], timeout=1.0, attempts=1)
    shared = SharedLookups(resolver, time.monotonic, 20.0)
    a_queries = [Query.of("shared.provider.test", "A"), Query.of("silent.a-host.test", "A")]
    slow = asyncio.create_task(shared.resolve_many(a_queries, "a.example.com"))
    await asyncio.sleep(0.05)  # A is asking both now
    started = time.perf_counter()
    (answer,) = await shared.resolve_many([Query.of("shared.provider.test", "A")], "b.example.com")
    waited = time.perf_counter() - started
    assert ("192.0.2.10",) == answer.records
    assert waited < 0.5
    await slow
    await resolver.aclose()


async def test_timed_out_queries_leave_no_garbage_cycles(dns_server: DnsTestServer) -> None:
    """A resolver outage: every query times out. Nothing is left for the cycle collector (it grew
    the heap until a rare full collection ran)."""
    dns_server.behave("down.example.com", Behaviour.SILENT)
    resolver = FastResolver([Nameserver("127.0.0.1", dns_server.port)], timeout=0.05, attempts=2)
    await resolver.resolve_many([Query.of("down.example.com", "TXT")])  # sockets opened
    gc.collect()
    gc.disable()
    try:
        for _ in range(20):
            await resolver.resolve_many([Query.of("down.example.com", t) for t in ("TXT", "MX", "A")])
        garbage = gc.collect()
    finally:
        gc.enable()
    await resolver.aclose()
    assert garbage < 50, garbage


def authoritative_config(tmp_path: Path, server: DnsTestServer, allow_private: bool) -> Path:
    config = write_config(tmp_path, server.address)
    extra = f"  mode: authoritative\n  authoritative_port: {server.port}\n"
    if allow_private:
        extra += "  allow_private_nameservers: true\n"
    config.write_text(config.read_text().replace("  attempts: 1\n", "  attempts: 1\n" + extra))
    return config


@pytest.mark.parametrize("allow", [False, True])
async def test_authoritative_mode_refuses_private_nameservers_unless_allowed(
    dns_server: DnsTestServer, tmp_path: Path, allow: bool
) -> None:
    publish_good(dns_server)
    dns_server.set("example.com", "NS", ["ns1.example.com."])
    dns_server.set("ns1.example.com", "A", ["127.0.0.1"])
    result = await run_cli(
        "check", "-c", str(authoritative_config(tmp_path, dns_server, allow)), "--format", "json"
    )
    spf = next(r for r in json.loads(result.out)["domains"][0]["records"] if r["record"] == "spf")
    assert ("present" if allow else "error") == spf["state"]
    if not allow:
        assert "loopback address; not queried" in json.dumps(spf["findings"])


async def test_authoritative_mode_asks_at_most_eight_nameservers_and_escapes_their_names(
    dns_server: DnsTestServer, tmp_path: Path
) -> None:
    """Twenty NS hosts, one named with terminal escape bytes: eight views, and the table shows the
    escape as text."""
    publish_good(dns_server)
    hosts = ["\\027[31mevil.example.com."] + [f"ns{n:02d}.example.com." for n in range(19)]
    dns_server.set("example.com", "NS", hosts)
    for n in range(19):
        dns_server.set(f"ns{n:02d}.example.com", "A", ["127.0.0.1"])
    dns_server.set("\x1b[31mevil.example.com", "A", ["127.0.0.1"])
    config = authoritative_config(tmp_path, dns_server, allow_private=True)
    table = await run_cli("check", "-c", str(config))
    assert "\x1b" not in table.out
    document = await run_cli("check", "-c", str(config), "--format", "json")
    spf = next(r for r in json.loads(document.out)["domains"][0]["records"] if r["record"] == "spf")
    assert 8 == len(spf["nameservers"])
