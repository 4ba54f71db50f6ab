"""Hostile HTTP clients and receivers, over real HTTP: no secret leaks, no cross-site or rebinding
request is served, no slow or malformed client can starve the daemon or get a traceback
(issue #19, items 3, 4, 6, 7, 9, 10, 14)."""

from __future__ import annotations

import asyncio
import json
import os
import random
import stat
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from structlog.testing import capture_logs

from domainwatch.config.loader import parse
from domainwatch.daemon.daemon import Daemon
from domainwatch.metrics.exposition import Exposition
from domainwatch.metrics.instruments import Metrics
from domainwatch.store.sqlite import SqliteStore
from domainwatch.testing import FakeClock
from domainwatch.web.app import create_app
from domainwatch.web.server import GuardedSite, Limits
from domainwatch.webhooks.worker import WebhookWorker
from tests.integration.cli import run_cli
from tests.integration.receiver import new_secret
from tests.integration.web_fixtures import ADMIN, make_daemon, zone

Client = TestClient[Any, Any]
MakeClient = Callable[..., Awaitable[Client]]
SECRET_PATH, SECRET_QUERY = "path-token-8f3a", "query-token-c41d"


@pytest.fixture
async def garbage_receiver() -> AsyncIterator[int]:
    """A 'webhook receiver' that answers with bytes that are not HTTP."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1024)
        writer.write(b"SSH-2.0-OpenSSH_9.2\r\n\x00\xff garbage\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()


async def test_webhook_url_secrets_never_reach_errors_pages_logs_or_the_cli(
    tmp_path: Path, garbage_receiver: int, aiohttp_client: MakeClient
) -> None:
    url = f"http://user:pass-word@127.0.0.1:{garbage_receiver}/hook/{SECRET_PATH}?token={SECRET_QUERY}"
    text = f"""
storage: {{path: "{tmp_path / "state.db"}"}}
server: {{tokens: [{{name: ops, role: admin, token: {ADMIN}}}]}}
webhooks: [{{name: ops, url: "{url}", secret: "{new_secret()}", timeout: 1s}}]
domains:
  - {{name: good.example.com, sending: {{spf: {{include: [amazonses.com]}}}}}}
"""
    (tmp_path / "config.yaml").write_text(text)
    config = parse(text)
    store = SqliteStore(config.storage.location.target)
    daemon = await Daemon.open(config, store, resolver=zone(), clock=FakeClock(), rng=random.Random(1))
    worker = WebhookWorker(config, store, clock=daemon.clock)
    with capture_logs() as logs:
        await daemon.run_once()
        async with aiohttp.ClientSession() as session:
            await worker.run_once(session)
    secrets = (SECRET_PATH, SECRET_QUERY, "pass-word")
    errors = [d.last_error or "" for d in await store.deliveries() if d.attempts]
    assert errors
    assert all(errors)  # the receiver's garbage was recorded, with the URL in it redacted
    assert [] == [s for s in secrets if s in repr(errors) + repr(logs)]
    client = await aiohttp_client(
        create_app(daemon, Exposition(Metrics().registry, daemon.fleet), worker),
        headers={"Authorization": f"Bearer {ADMIN}"},
    )
    api = await (await client.get("/api/v1/webhooks/deliveries")).text()
    assert [] == [s for s in secrets if s in api]
    listed = await run_cli("webhooks", "list", "-c", str(tmp_path / "config.yaml"))
    tested = await run_cli("webhooks", "test", "-c", str(tmp_path / "config.yaml"))
    assert [] == [s for s in secrets if s in listed.out + listed.err + tested.out + tested.err]
    modes = {name: stat.S_IMODE(os.stat(tmp_path / name).st_mode) for name in os.listdir(tmp_path)}
    modes = {name: mode for name, mode in modes.items() if name.startswith("state.db")}
    assert {"state.db", "state.db-wal", "state.db-shm"} <= set(modes)
    assert {0o600} == set(modes.values())
    await daemon.shutdown()


@pytest.fixture
async def admin(tmp_path: Path, aiohttp_client: MakeClient) -> Client:
    daemon, exposition = await make_daemon(tmp_path, tokens=True)
    return await aiohttp_client(create_app(daemon, exposition), headers={"Authorization": f"Bearer {ADMIN}"})


VERIFY = "/api/v1/domains/idle.example.com/verify"


@pytest.mark.parametrize(
    ("headers", "data", "status"),
    [
        ({"Content-Type": "text/plain"}, "x=1", 415),
        ({"Content-Type": "application/x-www-form-urlencoded"}, "x=1", 415),
        ({"Origin": "http://evil.example"}, None, 403),
        ({"Origin": "null"}, None, 403),
        ({"Sec-Fetch-Site": "cross-site"}, None, 403),
        ({"Sec-Fetch-Site": "same-site"}, None, 403),
        ({"Sec-Fetch-Site": "same-origin", "Content-Type": "application/json"}, "{}", 202),
        ({}, None, 202),
    ],
)
async def test_state_changes_refuse_what_another_site_could_send(
    admin: Client, headers: dict[str, str], data: str | None, status: int
) -> None:
    answer = await admin.post(VERIFY, headers=headers, data=data)
    assert status == answer.status
    if status >= 400:
        assert (await answer.json())["error"]["code"] in ("cross_site", "unsupported_media_type")


async def test_reload_refuses_a_text_body(admin: Client) -> None:
    assert 415 == (await admin.post("/-/reload", data="x", headers={"Content-Type": "text/plain"})).status


async def test_same_origin_is_this_server(admin: Client) -> None:
    origin = f"http://127.0.0.1:{admin.port}"
    assert 202 == (await admin.post(VERIFY, headers={"Origin": origin})).status


@pytest.mark.parametrize(
    ("host", "status"),
    [("attacker.example", 421), ("attacker.example:8427", 421), ("localhost:8427", 200), ("192.0.2.7", 200)],
)
async def test_unknown_host_names_are_misdirected(admin: Client, host: str, status: int) -> None:
    """DNS rebinding: a name the daemon was not told to answer to gets 421, IPs and localhost pass."""
    assert status == (await admin.get("/api/v1/domains", headers={"Host": host})).status


async def test_allowed_hosts_extends_the_names(tmp_path: Path, aiohttp_client: MakeClient) -> None:
    daemon, exposition = await make_daemon(tmp_path)
    server = daemon.config.server.model_copy(update={"allowed_hosts": ["domainwatch.svc"]})
    daemon.config = daemon.config.model_copy(update={"server": server})
    client = await aiohttp_client(create_app(daemon, exposition))
    assert 200 == (await client.get("/livez", headers={"Host": "DomainWatch.svc:8427"})).status
    assert 421 == (await client.get("/livez", headers={"Host": "other.svc"})).status


async def raw_request(port: int, request: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(4096), 5)
    writer.close()
    return answer


async def test_malformed_requests_are_400s_without_tracebacks(tmp_path: Path) -> None:
    daemon, exposition = await make_daemon(tmp_path, tokens=True)
    server = TestServer(create_app(daemon, exposition))
    await server.start_server()
    assert server.port is not None
    try:
        bearer = await raw_request(
            server.port,
            b"GET /api/v1/domains HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer \xff\xfe\r\n\r\n",
        )
        assert bearer[:12] in (b"HTTP/1.1 401", b"HTTP/1.1 400"), bearer[:40]
        for limit in ("%C2%B2", "9" * 5000, "-1"):
            answer = await raw_request(
                server.port,
                f"GET /api/v1/domains?limit={limit} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode(),
            )
            assert answer[:12] in (b"HTTP/1.1 401", b"HTTP/1.1 400"), answer[:40]
    finally:
        await server.close()
        await daemon.shutdown()


async def test_bad_parameters_are_400s(tmp_path: Path, aiohttp_client: MakeClient) -> None:
    daemon, exposition = await make_daemon(tmp_path)
    client = await aiohttp_client(create_app(daemon, exposition))
    for query in ("limit=%C2%B2", "offset=%C2%B2", "limit=" + "9" * 5000):
        answer = await client.get(f"/api/v1/domains?{query}")
        assert (400, "bad_parameter") == (answer.status, (await answer.json())["error"]["code"])


async def test_headers_allow_no_script_framing_sniffing_or_caching(admin: Client) -> None:
    page = await admin.get("/")
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    # Styles: only the page's own <style> element, by a nonce made for this answer.
    nonce = csp.split("style-src 'nonce-", 1)[1].split("'", 1)[0]
    assert f'<style nonce="{nonce}">' in await page.text()
    assert len(nonce) >= 16
    again = (await admin.get("/")).headers["Content-Security-Policy"]
    assert again != csp  # a new nonce each time
    for path in ("/api/v1/domains", "/metrics", "/api/v1/export/domains.csv", "/api/v1/export/history.csv"):
        answer = await admin.get(path)
        assert ("nosniff", "no-store") == (
            answer.headers["X-Content-Type-Options"],
            answer.headers["Cache-Control"],
        )
        assert "domainwatch" == answer.headers["Server"]


async def guarded(tmp_path: Path, limits: Limits, idle: float) -> tuple[Daemon, web.AppRunner, int]:
    daemon, exposition = await make_daemon(tmp_path)
    runner = web.AppRunner(create_app(daemon, exposition), access_log=None, keepalive_timeout=idle)
    await runner.setup()
    site = GuardedSite(runner, "127.0.0.1", 0, limits)
    await site.start()
    return daemon, runner, site.port


async def closed_within(reader: asyncio.StreamReader, seconds: float) -> bool:
    try:
        return b"" == await asyncio.wait_for(reader.read(1024), seconds)
    except TimeoutError:
        return False


async def test_a_slowloris_connection_is_closed(tmp_path: Path) -> None:
    """Headers trickled a line at a time: closed after the idle timeout, not held forever."""
    daemon, runner, port = await guarded(tmp_path, Limits(100, 100), idle=0.5)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET / HTTP/1.1\r\n")
    closed = False
    for n in range(10):
        await asyncio.sleep(0.2)
        if reader.at_eof() or writer.is_closing():
            break
        try:
            writer.write(f"X-Slow-{n}: 1\r\n".encode())
            await writer.drain()
        except ConnectionError:
            break
    closed = await closed_within(reader, 2.0)
    assert closed
    writer.close()
    await runner.cleanup()
    await daemon.shutdown()


async def test_connections_over_the_cap_are_refused_and_others_still_served(tmp_path: Path) -> None:
    daemon, runner, port = await guarded(tmp_path, Limits(100, 3), idle=5.0)
    held = [await asyncio.open_connection("127.0.0.1", port) for _ in range(3)]
    await asyncio.sleep(0.05)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    assert await closed_within(reader, 1.0)
    writer.close()
    for _, w in held:
        w.close()
    await asyncio.sleep(0.1)
    async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{port}/livez") as answer:
        assert 200 == answer.status
    await runner.cleanup()
    await daemon.shutdown()


OVERFLOW = "defaults: {interval: 99999999999d}\ndomains: []\n"


async def test_an_overflowing_duration_is_a_config_error(tmp_path: Path, aiohttp_client: MakeClient) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(OVERFLOW)
    validated = await run_cli("config", "validate", str(path))
    assert (2, f"{path.name}:1: defaults.interval: must be at most 3650d") == (
        validated.code,
        validated.err.strip().rpartition("/")[2],
    )
    assert "Traceback" not in validated.err
    daemon, exposition = await make_daemon(tmp_path, tokens=True)
    daemon.config_path = path
    client = await aiohttp_client(
        create_app(daemon, exposition), headers={"Authorization": f"Bearer {ADMIN}"}
    )
    answer = await client.post("/-/reload")
    assert (400, "invalid_config") == (answer.status, (await answer.json())["error"]["code"])


async def test_logs_are_colourless_off_a_terminal_and_json_in_containers(tmp_path: Path) -> None:
    """`run` on a store it cannot use logs an error and exits 2: on a pipe, without colour codes;
    with DOMAINWATCH_LOG_FORMAT=json (the container's default), as JSON."""
    path = tmp_path / "unusable.yaml"
    path.write_text(f"storage: {{path: '{tmp_path}'}}\ndomains: []\n")
    console = await run_cli("run", "-c", str(path), env={"DOMAINWATCH_LOG_FORMAT": "console"})
    assert (2, True) == (console.code, "store_unusable" in console.err)
    assert "\x1b[" not in console.err
    as_json = await run_cli("run", "-c", str(path), env={"DOMAINWATCH_LOG_FORMAT": "json"})
    lines = [json.loads(line) for line in as_json.err.splitlines() if line.strip()]
    assert "store_unusable" in [line["event"] for line in lines]


async def test_the_store_is_created_for_its_owner_only(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.db")
    store.sqlite.db.execute("CREATE TABLE t (x)")
    assert 0o600 == stat.S_IMODE(os.stat(tmp_path / "s.db").st_mode)
    await store.close()
