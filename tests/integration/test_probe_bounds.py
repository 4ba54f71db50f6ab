"""Bounds and fairness of the probes over real sockets (issue #26, items 3 and 4): a server's
text reaches results bounded and printable, one domain's probes try at most
`probes.max_addresses_per_domain` addresses a round, a domain whose MX hosts hang never holds
back another domain's probes, and no DNS verdict waits for a probe."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from domainwatch.checks.kinds.starttls import StartTlsExpectation
from domainwatch.checks.running.runner import check_many, check_records
from domainwatch.config.loader import parse
from domainwatch.config.schema import ProbesConfig
from domainwatch.daemon.daemon import Daemon
from domainwatch.dns.fast.transport import FastResolver
from domainwatch.dns.resolver import Nameserver, Resolver
from domainwatch.model import RecordState
from domainwatch.probes.prober import Prober
from domainwatch.probes.routing import ProbingResolver
from domainwatch.store.sqlite import SqliteStore
from domainwatch.testing import DnsTestServer, FakeClock
from tests.integration.daemons import free_port

ZONE = "bounds.test"
TIMEOUT = 1.5


class Hanging:
    """SMTP servers on loopback addresses that accept and never say a word (or say `greeting`)."""

    def __init__(self, port: int, greeting: bytes | None = None) -> None:
        self.port, self.greeting = port, greeting
        self.accepted = 0
        self.servers: list[asyncio.Server] = []
        self.writers: list[asyncio.StreamWriter] = []

    async def start(self, address: str) -> None:
        async def accept(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.accepted += 1
            self.writers.append(writer)
            if self.greeting is not None:
                writer.write(self.greeting)
                await writer.drain()

        self.servers.append(await asyncio.start_server(accept, address, self.port))

    def close(self) -> None:
        for writer in self.writers:
            writer.close()
        for server in self.servers:
            server.close()


@pytest.fixture
async def dns(dns_server: DnsTestServer) -> AsyncIterator[Resolver]:
    resolver = FastResolver([Nameserver("127.0.0.1", dns_server.port)], timeout=0.5, attempts=2)
    yield resolver
    await resolver.aclose()


def settings(port: int, **changes: object) -> ProbesConfig:
    base = ProbesConfig(smtp_port=port, timeout=f"{TIMEOUT}s", allow_private_addresses=True)
    return base.model_copy(update=changes)


def hosts(dns_server: DnsTestServer, prefix: str, count: int, first: int) -> list[tuple[str, str]]:
    out = []
    for n in range(count):
        host, address = f"{prefix}{n}.{ZONE}", f"127.0.{first}.{n + 1}"
        dns_server.set(host, "A", [address])
        out.append((host, address))
    return out


async def test_a_servers_greeting_reaches_results_as_its_code_and_120_printable_characters(
    dns_server: DnsTestServer, dns: Resolver
) -> None:
    port = free_port()
    greeting = b"554 \x1b[31m" + b"y" * 300 + b"\x07\r\n"
    server = Hanging(port, greeting)
    ((host, address),) = hosts(dns_server, "greets", 1, 9)
    await server.start(address)
    prober = Prober(dns, settings(port), time.time, recheck=0)
    try:
        (result,) = await check_records(
            [StartTlsExpectation(f"starttls:{host}", host, True)], ProbingResolver(dns, prober)
        )
    finally:
        server.close()
    message = result.findings[0].message
    assert RecordState.ERROR == result.state
    assert f"{address} greeted with 554 " in message
    shown = message.split("greeted with ", 1)[1].split(";", 1)[0]
    assert len(shown) <= len("554 ") + 120
    assert shown.isascii()
    assert shown.isprintable()


async def test_a_domains_probes_try_at_most_its_address_budget(
    dns_server: DnsTestServer, dns: Resolver
) -> None:
    """16 MX hosts and a budget of 4: 4 connections, and 12 records that could not be probed
    (an error, never a failure)."""
    port = free_port()
    server = Hanging(port, b"554 go away\r\n")
    many = hosts(dns_server, "many", 16, 10)
    for _, address in many:
        await server.start(address)
    prober = Prober(dns, settings(port, max_addresses_per_domain=4), time.time, recheck=0)
    expectations = [StartTlsExpectation(f"starttls:{h}", h, True) for h, _ in many]
    try:
        results = await check_records(expectations, ProbingResolver(dns, prober))
    finally:
        server.close()
    assert 4 == server.accepted
    over = [r for r in results if "max_addresses_per_domain" in r.findings[0].message]
    assert (12, {RecordState.ERROR}) == (len(over), {r.state for r in over})


async def test_a_domain_whose_hosts_hang_never_holds_back_another_domains_probes(
    dns_server: DnsTestServer, dns: Resolver
) -> None:
    """One domain's 16 MX hosts accept and never answer; another domain's probe, falling due
    while they hang, is answered within probes.timeout + 2 s. Four probes at once in all: the
    hanging domain would hold them for four timeouts in a row if it could take them all."""
    port = free_port()
    hanging = Hanging(port)
    for _, address in hosts(dns_server, "hang", 16, 20):
        await hanging.start(address)
    answering = Hanging(port, b"554 closed for the test\r\n")
    ((other, other_address),) = hosts(dns_server, "other", 1, 30)
    await answering.start(other_address)
    prober = Prober(dns, settings(port, max_concurrent=4), time.time, recheck=0)
    stuck = [StartTlsExpectation(f"starttls:{h}", h, True) for h, _ in hosts(dns_server, "hang", 16, 20)]
    try:
        blocker = asyncio.create_task(check_records(stuck, ProbingResolver(dns, prober)))
        await asyncio.sleep(0.2)  # the stuck domain's probes are running
        started = time.monotonic()
        (result,) = await check_records(
            [StartTlsExpectation(f"starttls:{other}", other, True)], ProbingResolver(dns, prober)
        )
        waited = time.monotonic() - started
    finally:
        blocker.cancel()
        await asyncio.gather(blocker, return_exceptions=True)
        hanging.close()
        answering.close()
    assert "greeted with 554" in result.findings[0].message
    assert waited < TIMEOUT + 2, waited


async def test_dns_verdicts_are_stored_without_waiting_for_any_probe(
    dns_server: DnsTestServer, tmp_path: Path
) -> None:
    """A domain whose MX host hangs: its MX record's state is stored while the probe waits."""
    port = free_port()
    hanging = Hanging(port)
    ((host, address),) = hosts(dns_server, "slow", 1, 40)
    await hanging.start(address)
    dns_server.set(f"in.{ZONE}", "MX", [f"10 {host}"])
    config = parse(f"""
resolver: {{nameservers: ["{dns_server.address}"], timeout: 500ms, attempts: 2}}
storage: {{path: "{tmp_path / "state.db"}"}}
probes: {{smtp_port: {port}, timeout: 3s, allow_private_addresses: true}}
domains:
  - name: in.{ZONE}
    receiving: {{mx: [{{host: {host}}}], tls: {{required: true}}}}
""")
    daemon = await Daemon.open(
        config, SqliteStore(config.storage.location.target), clock=FakeClock(), rng=random.Random(1)
    )
    try:
        checking = asyncio.create_task(daemon.run_once())
        await asyncio.sleep(1.0)  # well inside the probe's 3 s
        await daemon.writes.flush()
        stored = (await SqliteStore(config.storage.location.target).load())[f"in.{ZONE}"]
        assert stored.records["receiving_mx"].checked_at is not None
        assert stored.records[f"starttls:{host}"].checked_at is None
        await checking
    finally:
        hanging.close()
        await daemon.shutdown()


async def test_each_domain_of_a_one_shot_check_has_its_own_address_budget(
    dns_server: DnsTestServer, dns: Resolver
) -> None:
    """`check` over several domains: the budget is a domain's, not the whole run's."""
    port = free_port()
    server = Hanging(port, b"554 go away\r\n")
    first, second = hosts(dns_server, "first", 3, 50), hosts(dns_server, "second", 3, 51)
    for _, address in [*first, *second]:
        await server.start(address)
    prober = Prober(dns, settings(port, max_addresses_per_domain=4), time.time, recheck=0)
    work = [
        (f"d{n}.{ZONE}", [StartTlsExpectation(f"starttls:{h}", h, True) for h, _ in group])
        for n, group in enumerate((first, second))
    ]
    try:
        reports = await check_many(work, dns, prober=prober)
    finally:
        server.close()
    assert 6 == server.accepted
    assert not [r for report in reports for r in report.records if "max_addresses" in r.findings[0].message]
