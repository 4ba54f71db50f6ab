"""/mcp serves only what a stateless streamable-HTTP server needs (issue #26, item 1): one GET
with `Accept: text/event-stream`, what a browser's EventSource sends from any page, used to
start a stream that never ended and froze the whole daemon."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from domainwatch.testing import DnsTestServer
from tests.integration.api_daemon import ADMIN, ApiDaemon, started

STREAM = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
EVIL = "https://evil.example"


@pytest.fixture
async def daemon(tmp_path: Path, dns_server: DnsTestServer) -> AsyncIterator[ApiDaemon]:
    running = await started(tmp_path, dns_server, None)
    yield running
    await running.stop(signal.SIGKILL)


async def get_and_leave(daemon: ApiDaemon, headers: dict[str, str]) -> bytes:
    """A raw GET of /mcp that reads what comes in 0.5 s, then hangs up."""
    reader, writer = await asyncio.open_connection("127.0.0.1", daemon.port)
    lines = [
        "GET /mcp HTTP/1.1",
        f"Host: 127.0.0.1:{daemon.port}",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    await writer.drain()
    try:
        head = await asyncio.wait_for(reader.read(4096), 0.5)
    except TimeoutError:
        head = b""
    writer.close()
    return head


async def test_an_event_stream_request_never_freezes_the_daemon(daemon: ApiDaemon) -> None:
    """The cross-site EventSource GET is refused; afterwards /livez answers within 1 s and
    SIGTERM stops the daemon within 10 s."""
    head = await get_and_leave(daemon, {**STREAM, "Origin": EVIL, "Sec-Fetch-Site": "cross-site"})
    assert head.startswith(b"HTTP/1.1 403 "), head[:200]
    head = await get_and_leave(daemon, {**STREAM, "Authorization": f"Bearer {ADMIN}"})  # same-site
    assert head.startswith(b"HTTP/1.1 405 "), head[:200]
    started_at = time.monotonic()
    assert 200 == (await daemon.call("GET", "/livez")).status
    assert time.monotonic() - started_at < 1
    started_at = time.monotonic()
    assert daemon.process is not None
    daemon.process.send_signal(signal.SIGTERM)
    await asyncio.wait_for(daemon.process.wait(), 10)
    assert time.monotonic() - started_at < 10


@pytest.mark.parametrize("method", ["GET", "DELETE", "PUT"])
async def test_only_post_is_served_at_mcp(daemon: ApiDaemon, method: str) -> None:
    """A stateless server has no stream to open and no session to delete: 405, Allow: POST."""
    answer = await daemon.call(method, "/mcp", headers=STREAM)
    assert (405, "POST") == (answer.status, answer.headers.get("allow"))


@pytest.mark.parametrize(
    "headers",
    [{"Origin": EVIL}, {"Sec-Fetch-Site": "cross-site"}, {"Origin": "null"}],
    ids=["origin", "fetch-site", "null-origin"],
)
@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_any_cross_site_request_to_mcp_is_refused(
    daemon: ApiDaemon, method: str, headers: dict[str, str]
) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "ping"} if method == "POST" else None
    answer = await daemon.call(method, "/mcp", body, headers={**STREAM, **headers})
    assert 403 == answer.status
