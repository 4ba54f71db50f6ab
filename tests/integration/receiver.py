"""A real webhook receiver on 127.0.0.1: verifies every request with `standardwebhooks` and can
fail on demand (status codes, Retry-After, hanging)."""

from __future__ import annotations

import asyncio
import base64
import json
import os
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from standardwebhooks.webhooks import Webhook, WebhookVerificationError


def new_secret() -> str:
    return "whsec_" + base64.b64encode(os.urandom(32)).decode()


@dataclass
class Received:
    id: str
    body: dict[str, Any]
    headers: dict[str, str]


@dataclass
class Receiver:
    """Accepts requests signed by any of `secrets`; answers `script` statuses first, then 200."""

    secrets: list[str]
    verify: bool = True
    received: list[Received] = field(default_factory=list)
    unsigned: int = 0
    script: deque[tuple[int, dict[str, str]]] = field(default_factory=deque)
    hanging: bool = False  # while true, requests wait (a slow or dead receiver)
    attempted: list[str] = field(default_factory=list)  # webhook-id of every request that arrived
    port: int = 0
    _runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def fail(self, status: int, times: int = 1, **headers: str) -> None:
        self.script.extend([(status, headers)] * times)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.text()
        self.attempted.append(request.headers.get("webhook-id", ""))
        while self.hanging:  # noqa: ASYNC110 (tests flip a plain flag; polling keeps it simple)
            await asyncio.sleep(0.05)
        if self.script:
            status, headers = self.script.popleft()
            return web.Response(status=status, headers=headers, text="scripted failure")
        payload = self._verified(body, dict(request.headers))
        if payload is None:
            self.unsigned += 1
            return web.Response(status=401, text="bad signature")
        self.received.append(Received(request.headers["webhook-id"], payload, dict(request.headers)))
        return web.Response(status=204)

    def _verified(self, body: str, headers: dict[str, str]) -> dict[str, Any] | None:
        if not self.verify:
            return json.loads(body)  # type: ignore[no-any-return]
        for secret in self.secrets:
            try:
                return Webhook(secret).verify(body, headers)  # type: ignore[no-any-return]
            except WebhookVerificationError:
                continue
        return None

    async def start(self) -> Receiver:
        app = web.Application()
        app.router.add_post("/hook", self.handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        self.hanging = False
        if self._runner is not None:
            await self._runner.cleanup()

    def ids(self) -> list[str]:
        return [r.id for r in self.received]

    def sequences(self, domain: str) -> list[int]:
        return [r.body["data"]["sequence"] for r in self.received if r.body["data"].get("domain") == domain]
