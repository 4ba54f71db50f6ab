"""The MCP server on the daemon's own port: the SDK's streamable-HTTP app (an ASGI app),
mounted in the aiohttp app with aiohttp-asgi, so it shares the port, the middlewares (Host and
cross-site checks, bearer tokens) and the lifecycle.

Stateless with JSON answers: each POST is one JSON-RPC exchange, so no session outlives a
request and nothing is streamed through the adapter. Every other method is 405 (`Allow: POST`)
before the SDK sees it, and every request, GET included, from another site's page is 403.
Every caller needs a valid token when tokens are set (the auth middleware, as for the API);
each tool call then acts as that token's role (a viewer calling a write tool gets a tool error
from the service).

The SDK takes about a second to import, longer than the rest of the daemon: it is imported,
and its session manager started, on the first request to /mcp, not at start-up.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

from aiohttp import web
from aiohttp_asgi import ASGIResource
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from domainwatch.config.schema import TokenConfig
from domainwatch.service.backend import DomainsBackend, LocalBackend
from domainwatch.service.domains import Domains
from domainwatch.web.auth import caller_of

if TYPE_CHECKING:
    from mcp.server.mcpserver import Context

PATH = "/mcp"
MAX_REQUEST = 256 * 1024  # bytes of one JSON-RPC request: a domain document is at most 64 KiB
Session = Callable[[], AbstractAsyncContextManager[Any]]


def mount(app: web.Application, domains: Domains, tokens: Callable[[], Sequence[TokenConfig]]) -> None:
    def backend_for(ctx: Context) -> DomainsBackend:
        headers = ctx.headers or {}
        return LocalBackend(domains, caller_of(tokens(), headers.get("authorization")))

    def make() -> tuple[ASGIApp, Session]:
        # Imported here: see the module's docstring.
        from mcp.server.transport_security import TransportSecuritySettings  # noqa: PLC0415

        from domainwatch.mcp_server.tools import build  # noqa: PLC0415

        server = build(backend_for)
        asgi = server.streamable_http_app(
            streamable_http_path=PATH,
            stateless_http=True,
            json_response=True,
            max_request_body_size=MAX_REQUEST,
            # The guard middleware has checked Host and Origin already, against the daemon's
            # own settings (server.allowed_hosts), before the request reached the adapter.
            transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )
        return asgi, server.session_manager.run

    resource = ASGIResource(OnFirstRequest(make), root_path=PATH)
    app.router.register_resource(resource)
    resource.lifespan_mount(app)


class OnFirstRequest:
    """An ASGI app made, and its session context entered, when its first request comes; the
    context is left when the server shuts down. The context runs in a task of its own: an
    anyio task group must be left by the task that entered it."""

    def __init__(self, make: Callable[[], tuple[ASGIApp, Session]]) -> None:
        self._make = make
        self._app: ASGIApp | None = None
        self._lock = asyncio.Lock()
        self._stop = asyncio.Event()
        self._holder: asyncio.Task[None] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope.get("method") != "POST":
            # Stateless with JSON answers: no stream to open (GET) and no session to end
            # (DELETE). The SDK would start a server-sent-event stream for a GET whose end the
            # adapter never reports; its loop then held the event loop for good.
            await _not_allowed(send)
            return
        app = self._app or await self._start()
        # The adapter passes its prefix as root_path, and Starlette would route the path
        # without it; the SDK's app routes the whole path (PATH).
        await app({**scope, "root_path": ""}, receive, send)

    async def _start(self) -> ASGIApp:
        async with self._lock:
            if self._app is None:
                app, session = self._make()
                entered = asyncio.get_running_loop().create_future()
                self._holder = asyncio.create_task(self._hold(session, entered))
                await entered
                self._app = app
        return self._app

    async def _hold(self, session: Session, entered: asyncio.Future[None]) -> None:
        try:
            async with session():
                entered.set_result(None)
                await self._stop.wait()
        except BaseException as exc:
            if not entered.done():
                entered.set_exception(exc)
            raise

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        async for message in _messages(receive):
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self._stop.set()
                if self._holder is not None:
                    await asyncio.gather(self._holder, return_exceptions=True)
                await send({"type": "lifespan.shutdown.complete"})
                return


async def _not_allowed(send: Send) -> None:
    body = json.dumps({"error": {"code": "method_not_allowed", "message": "POST JSON-RPC requests only"}})
    await send(
        {
            "type": "http.response.start",
            "status": 405,
            "headers": [(b"allow", b"POST"), (b"content-type", b"application/json; charset=utf-8")],
        }
    )
    await send({"type": "http.response.body", "body": body.encode()})


async def _messages(receive: Receive) -> AsyncIterator[Message]:
    while True:
        yield await receive()
