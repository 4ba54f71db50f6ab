"""The CLI client and `domainwatch mcp` follow no redirect (issue #26, item 7): a "daemon" that
answers 307 to another host gets exit 3 (a tool error in MCP) saying where it pointed, and the
bearer token never reaches that host."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp_types import TextContent

from tests.integration.cli import run_cli
from tests.integration.daemons import free_port

TOKEN = "admin-token-0123456789abc"


class Redirecting:
    """127.0.0.1 redirects every request to 127.0.0.2, which notes what reaches it."""

    def __init__(self) -> None:
        self.port = free_port()
        self.elsewhere: list[dict[str, str]] = []
        self.runners: list[web.AppRunner] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> Redirecting:
        async def redirect(request: web.Request) -> web.Response:
            raise web.HTTPTemporaryRedirect(f"http://127.0.0.2:{self.port}{request.path_qs}")

        async def note(request: web.Request) -> web.Response:
            self.elsewhere.append(dict(request.headers))
            return web.json_response({"domains": [], "total": 0})

        for address, handler in (("127.0.0.1", redirect), ("127.0.0.2", note)):
            app = web.Application()
            app.router.add_route("*", "/{tail:.*}", handler)
            runner = web.AppRunner(app)
            await runner.setup()
            await web.TCPSite(runner, address, self.port).start()
            self.runners.append(runner)
        return self

    async def stop(self) -> None:
        for runner in self.runners:
            await runner.cleanup()


@pytest.fixture
async def redirecting() -> AsyncIterator[Redirecting]:
    server = await Redirecting().start()
    yield server
    await server.stop()


@pytest.fixture
def token_file(tmp_path: Path) -> str:
    path = tmp_path / "token"
    path.write_text(TOKEN + "\n")
    return str(path)


async def test_the_cli_client_follows_no_redirect(redirecting: Redirecting, token_file: str) -> None:
    for args in (("domains", "list"), ("domains", "get", "example.com")):
        result = await run_cli(*args, "--url", redirecting.url, "--token-file", token_file)
        assert 3 == result.code, result.err
        assert f"the daemon redirected to http://127.0.0.2:{redirecting.port}; not followed" in result.err
    assert [] == redirecting.elsewhere


async def test_domainwatch_mcp_follows_no_redirect(redirecting: Redirecting, token_file: str) -> None:
    args = ["-m", "domainwatch", "mcp", "--url", redirecting.url, "--token-file", token_file]
    async with Client(StdioServerParameters(command=sys.executable, args=args)) as client:
        answer = await client.call_tool("list_domains", {})
    assert answer.is_error
    block = answer.content[0]
    assert isinstance(block, TextContent)
    assert f"the daemon redirected to http://127.0.0.2:{redirecting.port}; not followed" in block.text
    assert [] == redirecting.elsewhere
