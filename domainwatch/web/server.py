"""Serving the app without letting slow or numerous clients starve it.

- A connection that sends no complete request within the idle timeout (from when it opened, or
  from its last response) is closed: aiohttp's keep-alive timer, set short (`server.
  idle_timeout`), covers the slowloris case of headers trickled in one line at a time.
- Connections are admitted under a cap, in all and per client address (`server.
  max_connections`, `server.max_connections_per_client`): past it, a new connection is closed
  at once, so file descriptors stay for DNS, the store and the clients within their share.
- Request bodies are read with a deadline (read_body).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass

from aiohttp import web

BODY_READ_TIMEOUT = 10.0  # seconds to receive a whole request body


@dataclass(frozen=True, slots=True)
class Limits:
    max_connections: int
    max_per_client: int


def _peer(transport: asyncio.BaseTransport) -> str:
    peer = transport.get_extra_info("peername")
    return str(peer[0]) if isinstance(peer, tuple) and peer else "?"


class _Admission(asyncio.Protocol):
    """The first protocol of every connection: hands it to the app's handler, or closes it."""

    def __init__(self, server: web.Server, limits: Limits) -> None:
        self.server, self.limits = server, limits

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        open_now = [handler.transport for handler in self.server.connections]
        peer = _peer(transport)
        per_client = Counter(_peer(t) for t in open_now if t is not None)
        if len(open_now) >= self.limits.max_connections or per_client[peer] >= self.limits.max_per_client:
            transport.close()
            return
        handler = self.server()
        transport.set_protocol(handler)
        handler.connection_made(transport)


class GuardedSite(web.BaseSite):
    """A TCP site whose connections go through the admission above."""

    __slots__ = ("_host", "_limits", "_port")

    def __init__(self, runner: web.BaseRunner, host: str, port: int, limits: Limits) -> None:
        super().__init__(runner)
        self._host, self._port, self._limits = host, port, limits

    @property
    def name(self) -> str:
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self._port}"

    @property
    def port(self) -> int:
        """The bound port (the one asked for, or the one the system chose for port 0)."""
        sockets = getattr(self._server, "sockets", None)  # asyncio.Server's; AbstractServer has none
        return int(sockets[0].getsockname()[1]) if sockets else self._port

    async def start(self) -> None:
        await super().start()
        server = self._runner.server
        assert server is not None
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: _Admission(server, self._limits), self._host, self._port, backlog=self._backlog
        )


async def read_body(request: web.Request, limit: int) -> bytes:
    """The request body, at most `limit` bytes (413 beyond), within BODY_READ_TIMEOUT (408)."""
    if request.content_length is not None and request.content_length > limit:
        raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=request.content_length)
    chunks, size = [], 0
    try:
        async with asyncio.timeout(BODY_READ_TIMEOUT):
            async for chunk in request.content.iter_chunked(64 * 1024):
                size += len(chunk)
                if size > limit:
                    raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=size)
                chunks.append(chunk)
    except TimeoutError:
        raise web.HTTPRequestTimeout(text="the request body did not arrive in time") from None
    return b"".join(chunks)
