"""Operating webhooks: the admin API, the page banner, and `domainwatch webhooks` commands."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from domainwatch.web.app import create_app
from domainwatch.webhooks.policy import MAX_ATTEMPTS
from tests.integration.cli import run_cli
from tests.integration.receiver import Receiver, new_secret
from tests.integration.test_webhooks import Harness, hook
from tests.integration.web_fixtures import ADMIN

Client = TestClient[Any, Any]
MakeClient = Callable[..., Awaitable[Client]]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    server = await Receiver([new_secret()]).start()
    yield server
    await server.stop()


async def test_admin_api_lists_replays_and_tests(
    tmp_path: Path, receiver: Receiver, aiohttp_client: MakeClient
) -> None:
    """Endpoints (URL redacted), dead letters, replay, a test event, and the page banner."""
    harness = await Harness(
        tmp_path,
        hook(receiver, events=["domain.status_changed"], domains=["a.example.com"]),
        extra=f"server: {{tokens: [{{name: ops, role: admin, token: {ADMIN}}}]}}",
    ).start()
    receiver.fail(500, times=MAX_ATTEMPTS)
    async with aiohttp.ClientSession() as session:
        await harness.pump(session, 60)
    client = await aiohttp_client(
        create_app(harness.daemon, harness.exposition, harness.worker),
        headers={"Authorization": f"Bearer {ADMIN}"},
    )
    endpoints = (await (await client.get("/api/v1/webhooks")).json())["endpoints"]
    assert [("ops", 1)] == [(e["name"], e["dead_letters"]) for e in endpoints]
    assert "/hook" not in endpoints[0]["url"]
    assert receiver.secrets[0] not in await (await client.get("/api/v1/webhooks")).text()
    dead = (await (await client.get("/api/v1/webhooks/deliveries?state=dead")).json())["deliveries"]
    assert 1 == len(dead)
    assert 400 == (await client.get("/api/v1/webhooks/deliveries?state=lost")).status
    assert "dead-lettered" in await (await client.get("/")).text()
    replayed = await client.post(f"/api/v1/webhooks/deliveries/{dead[0]['event_id']}/replay")
    assert 202 == replayed.status
    assert 404 == (await client.post("/api/v1/webhooks/deliveries/nope/replay")).status
    async with aiohttp.ClientSession() as session:
        await harness.worker.run_once(session)
    assert dead[0]["event_id"] in receiver.ids()
    tested = await (await client.post("/api/v1/webhooks/ops/test")).json()
    assert 204 == tested["status"]
    assert "webhook.test" == receiver.received[-1].body["type"]


async def test_webhooks_commands(tmp_path: Path, receiver: Receiver) -> None:
    """webhooks test sends a signed test event; list shows dead letters; replay queues them again."""
    harness = await Harness(
        tmp_path, hook(receiver, events=["domain.status_changed"], domains=["a.example.com"])
    ).start()
    receiver.fail(500, times=MAX_ATTEMPTS)
    async with aiohttp.ClientSession() as session:
        await harness.pump(session, 60)
    await harness.store.close()
    config = tmp_path / "config.yaml"
    config.write_text(f"""
storage: {{path: "{tmp_path / "state.db"}"}}
webhooks:
{hook(receiver)}
domains:
  - name: a.example.com
    sending: {{spf: {{include: [p.example.net]}}}}
""")
    tested = await run_cli("webhooks", "test", "-c", str(config))
    assert 0 == tested.code, tested.err
    assert tested.out.startswith("ops: 204")
    listed = await run_cli("webhooks", "list", "-c", str(config), "--dead")
    event_id = listed.out.split()[0]
    assert "a.example.com" in listed.out
    replayed = await run_cli("webhooks", "replay", "-c", str(config), event_id)
    assert (0, f"1 deliveries of {event_id} queued again\n") == (replayed.code, replayed.out)
    assert "" == (await run_cli("webhooks", "list", "-c", str(config), "--dead")).out
    assert 1 == (await run_cli("webhooks", "replay", "-c", str(config), "nope")).code
