"""Shared fixtures (the package's DNS test server on 127.0.0.1 and a resolver pointed at it), and
the test tiers: every test is marked `unit`, `integration` or `system` by where it lives.

- unit (tests/unit): pure logic; no sockets, no subprocesses (enforced: tests/unit/conftest.py);
- integration (tests/integration): loopback sockets, our own servers, subprocesses of ours;
- system (tests/sre, and the Knot and Chromium tests): real third-party servers and programs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from domainwatch.dns.dnspython_resolver import DnsPythonResolver
from domainwatch.dns.fast.transport import FastResolver
from domainwatch.dns.resolver import Nameserver, Resolver
from domainwatch.testing import DnsTestServer
from tests import examples  # noqa: F401 (registers and loads the Hypothesis profile)


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


_SYSTEM = {"test_knot.py", "test_browser.py"}


def tier(path: Path) -> str:
    if "unit" in path.parent.parts[-2:]:  # tests/unit and its folders (tests/unit/kinds)
        return "unit"
    if path.parent.name == "sre" or path.name in _SYSTEM:
        return "system"
    return "integration"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(getattr(pytest.mark, tier(item.path)))
