"""`domainwatch mcp`: the MCP server on stdio, for desktop assistants: the same eight tools
as the daemon's /mcp, each a call to a running daemon's API (with the token given, whose role
decides what the tools may do)."""

from __future__ import annotations

import argparse
import sys

from domainwatch.mcp_server.tools import build
from domainwatch.service.client import ApiClient, HttpBackend, token_from
from domainwatch.service.errors import ServiceError


def run(args: argparse.Namespace) -> int:
    try:
        backend = HttpBackend(ApiClient(args.url, token_from(args.token_file)))
    except ServiceError as exc:
        print(f"domainwatch: {exc.message}", file=sys.stderr)
        return 2
    build(lambda _: backend).run("stdio")
    return 0
