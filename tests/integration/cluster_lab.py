"""A lab for the HA system test (test_ha.py): replicas of `domainwatch run` sharing one
PostgreSQL, each asking its own DNS test server (so every query says which replica checked),
and a webhook receiver that notices two deliveries of one event at once."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import dns.message
from aiohttp import web

from domainwatch.testing import DnsTestServer
from tests.integration.daemons import free_port
from tests.integration.receiver import Receiver

ADMIN_TOKEN = "cluster-lab-admin-token"
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
TOKEN = f"{{name: lab, role: admin, token: {ADMIN_TOKEN}}}"
EVENTS = "domain.status_changed, record.status_changed"


class CountingServer(DnsTestServer):
    """Notes when each domain's SPF is asked (one question per check of a domain)."""

    def __init__(self, records: dict[tuple[str, str], list[str]]) -> None:
        super().__init__()
        self.records = records  # one zone for every replica's server
        self.checks: dict[str, list[float]] = defaultdict(list)

    def respond(self, query: dns.message.Message, *, tcp: bool) -> bytes | None:
        qname = str(query.question[0].name).rstrip(".").lower()
        if qname.startswith("send."):
            self.checks[qname.removeprefix("send.")].append(time.monotonic())
        return super().respond(query, tcp=tcp)


@dataclass
class Overlaps(Receiver):
    """A receiver that counts deliveries of one event in flight at the same time."""

    in_flight: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    at_once: int = 0

    async def handle(self, request: web.Request) -> web.Response:
        event = request.headers.get("webhook-id", "")
        self.in_flight[event] += 1
        self.at_once = max(self.at_once, self.in_flight[event])
        try:
            await asyncio.sleep(0.01)  # a receiver's work: room for a second delivery to overlap
            return await super().handle(request)
        finally:
            self.in_flight[event] -= 1


def config_text(
    *, replica: str, dns: DnsTestServer, url: str, port: int, hook: Receiver, secret: str, domains: list[str]
) -> str:
    entries = "".join(
        f"  - name: {d}\n    sending: {{spf: {{include: [provider.example.net]}}}}\n" for d in domains
    )
    return (
        f"resolver: {{nameservers: ['{dns.address}'], timeout: 500ms, attempts: 2}}\n"
        f"storage: {{url: '{url}'}}\n"
        f"server: {{listen: '127.0.0.1:{port}', tokens: [{TOKEN}]}}\n"
        f"cluster: {{lease_ttl: 3s, renew_interval: 1s, replica_id: {replica}}}\n"
        "limits: {min_interval: 1ms, min_recheck_interval: 1ms, min_window: 1ms}\n"
        "defaults: {interval: 8s, pending_interval: 1s, recheck_interval: 1s, window: 1h}\n"
        "reload: {watch_interval: 0s}\n"
        "webhook_retry_scale: 0.001\n"
        f"webhooks: [{{name: lab, url: '{hook.url}', secret: '{secret}', events: [{EVENTS}]}}]\n"
        f"domains:\n{entries}"
    )


@dataclass
class ReplicaProcess:
    name: str
    config: Path
    port: int
    dns: CountingServer
    process: asyncio.subprocess.Process | None = None
    log: Path | None = None

    async def start(self) -> None:
        self.log = self.config.with_suffix(".log")
        with self.log.open("ab") as err:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "domainwatch",
                "run",
                "-c",
                str(self.config),
                "--log-format",
                "json",
                stdout=asyncio.subprocess.DEVNULL,
                stderr=err,
            )

    def signal(self, sig: signal.Signals) -> None:
        assert self.process is not None
        os.kill(self.process.pid, sig)

    async def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        await self.process.wait()

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 20)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def get(self, path: str) -> tuple[int, str]:
        try:
            async with (
                aiohttp.ClientSession() as session,
                session.get(
                    self.base + path, timeout=aiohttp.ClientTimeout(total=5), headers=AUTH
                ) as response,
            ):
                return response.status, await response.text()
        except (aiohttp.ClientError, TimeoutError):
            return 0, ""

    async def send(self, method: str, path: str, body: object = None) -> tuple[int, str]:
        async with (
            aiohttp.ClientSession() as session,
            session.request(
                method, self.base + path, json=body, headers=AUTH, timeout=aiohttp.ClientTimeout(total=30)
            ) as response,
        ):
            return response.status, await response.text()

    async def metrics(self) -> dict[str, float]:
        """Every sample of a scrape, by its series text ({} when it does not answer)."""
        status, text = await self.get("/metrics")
        if status != 200:
            return {}
        out = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                series, _, value = line.rpartition(" ")
                out[series] = float(value)
        return out


def new_replica(directory: Path, name: str, records: dict[tuple[str, str], list[str]]) -> ReplicaProcess:
    return ReplicaProcess(name, directory / f"{name}.yaml", free_port(), CountingServer(records))


def owned_domains(samples: dict[str, float], *, verified: bool = False) -> set[str]:
    """The domains whose status series a replica exports (those it holds); only the verified
    ones, if asked."""
    out = set()
    for series, value in samples.items():
        status_series = series.startswith("domainwatch_domain_status{") and 'status="verified"' in series
        if status_series and (value == 1 or not verified):
            out.add(series.split('domain="', 1)[1].split('"', 1)[0])
    return out


def wait_until(deadline: float) -> float:
    return max(0.0, deadline - time.monotonic())
