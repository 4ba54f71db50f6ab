"""Shared fixtures: the package's DNS test server on 127.0.0.1 and a resolver pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from domainwatch.dns.dnspython_resolver import DnsPythonResolver
from domainwatch.dns.resolver import Nameserver
from domainwatch.testing import DnsTestServer


@pytest.fixture
async def dns_server() -> AsyncIterator[DnsTestServer]:
    async with DnsTestServer() as server:
        yield server


@pytest.fixture
def resolver(dns_server: DnsTestServer) -> DnsPythonResolver:
    return DnsPythonResolver([Nameserver("127.0.0.1", dns_server.port)], timeout=0.3, attempts=2)
