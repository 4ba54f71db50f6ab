"""Shared fixtures: the package's DNS test server on 127.0.0.1 and a resolver pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from domainwatch.dns.dnspython_resolver import DnsPythonResolver
from domainwatch.dns.fast.transport import FastResolver
from domainwatch.dns.resolver import Nameserver, Resolver
from domainwatch.testing import DnsTestServer


@pytest.fixture
async def dns_server() -> AsyncIterator[DnsTestServer]:
    async with DnsTestServer() as server:
        yield server


@pytest.fixture(params=["dnspython", "fast"])
async def resolver(dns_server: DnsTestServer, request: pytest.FixtureRequest) -> AsyncIterator[Resolver]:
    """Both transports behind the Resolver protocol: every wire test runs against each."""
    servers = [Nameserver("127.0.0.1", dns_server.port)]
    if request.param == "dnspython":
        yield DnsPythonResolver(servers, timeout=0.3, attempts=2)
        return
    fast = FastResolver(servers, timeout=0.3, attempts=2)
    yield fast
    await fast.aclose()
