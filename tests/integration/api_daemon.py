"""`domainwatch run` as a real process with tokens, a webhook receiver and the DNS test
server, and a small client for its API: what the domain-lifecycle tests drive."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from domainwatch.testing import DnsTestServer
from tests.integration.daemons import free_port
from tests.integration.receiver import Receiver

ADMIN = "admin-token-0123456789abc"
VIEWER = "viewer-token-0123456789"
CONFIG_DOMAIN = "static.example.com"
# Tests run whole stories in seconds: every floor under the schedule lowered (config/floors.py).
LOWERED_LIMITS = (
    "limits: {min_interval: 1ms, min_recheck_interval: 1ms, min_window: 1ms, min_probe_interval: 1ms}"
)


def write_config(
    path: Path, dns: DnsTestServer, port: int, receiver: Receiver | None, extra: str = ""
) -> None:
    hooks = ""
    if receiver is not None:
        hook = {
            "name": "ops",
            "url": receiver.url,
            "secrets": receiver.secrets,
            "events": ["domain.status_changed", "domain.deleted"],
        }
        hooks = f"webhook_retry_scale: 0.001\nwebhooks: [{json.dumps(hook)}]\n"
    path.write_text(
        f"resolver: {{nameservers: ['{dns.address}'], timeout: 200ms, attempts: 1}}\n"
        f"storage: {{path: '{path.parent / 'state.db'}'}}\n"
        f"server:\n  listen: 127.0.0.1:{port}\n  tokens:\n"
        f"    - {{name: ops, role: admin, token: {ADMIN}}}\n"
        f"    - {{name: grafana, role: viewer, token: {VIEWER}}}\n"
        "defaults: {interval: 300ms, pending_interval: 200ms, recheck_interval: 150ms, window: 1h}\n"
        f"{LOWERED_LIMITS}\n"
        f"{hooks}{extra}"
        f"domains:\n  - name: {CONFIG_DOMAIN}\n    sending: {{spf: {{include: [provider.example.net]}}}}\n"
    )


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str]


class ApiDaemon:
    def __init__(self, config: Path, port: int) -> None:
        self.config, self.port = config, port
        self.process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> ApiDaemon:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "domainwatch", "run", "-c", str(self.config), "--log-format", "json",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            await self.until(self.ready, within=30)
        except AssertionError:  # say why: its exit code and log, not only "timed out"
            log = await self.stop(signal.SIGKILL)
            code = self.process.returncode
            raise AssertionError(
                f"the daemon did not come up (exit {code}); its log ends:\n{log[-3000:]}"
            ) from None
        return self

    async def ready(self) -> bool:
        try:
            return (await self.call("GET", "/livez")).status == 200
        except aiohttp.ClientError:
            return False

    async def stop(self, sig: int = signal.SIGTERM) -> str:
        """Stop (SIGTERM) or kill (SIGKILL) the daemon; its log."""
        assert self.process is not None
        if self.process.returncode is None:
            os.kill(self.process.pid, sig)
        _, err = await asyncio.wait_for(self.process.communicate(), 20)
        return err.decode()

    async def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = ADMIN,
        headers: dict[str, str] | None = None,
        data: bytes | None = None,
    ) -> Answer:
        sent = dict(headers or {})
        if token:
            sent["Authorization"] = f"Bearer {token}"
        if data is None and body is not None:
            data, sent["Content-Type"] = json.dumps(body).encode(), "application/json"
        async with (
            aiohttp.ClientSession() as session,
            session.request(method, self.url + path, data=data, headers=sent) as answer,
        ):
            text = await answer.text()
            parsed = json.loads(text) if text and answer.content_type == "application/json" else text
            return Answer(answer.status, parsed, {k.lower(): v for k, v in answer.headers.items()})

    async def until(self, predicate: Callable[[], Awaitable[bool]], within: float = 20) -> None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if await predicate():
                return
            await asyncio.sleep(0.05)
        raise AssertionError("timed out")

    async def status(self, name: str, expected: str, within: float = 20) -> dict[str, Any]:
        seen: dict[str, Any] = {}

        async def reached() -> bool:
            answer = await self.call("GET", f"/api/v1/domains/{name}", token=VIEWER)
            seen.update(answer.body if answer.status == 200 else {"answer": answer.body})
            return answer.status == 200 and answer.body["status"] == expected

        try:
            await self.until(reached, within)
        except AssertionError:
            raise AssertionError(f"{name} never {expected}; last: {json.dumps(seen)[:1500]}") from None
        return seen


async def started(
    tmp_path: Path, dns: DnsTestServer, receiver: Receiver | None, extra: str = ""
) -> ApiDaemon:
    config = tmp_path / "config.yaml"
    port = free_port()
    write_config(config, dns, port, receiver, extra)
    return await ApiDaemon(config, port).start()
