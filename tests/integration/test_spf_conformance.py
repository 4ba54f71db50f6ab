"""RFC 7208 conformance, section by section: zones as data (tests/data/spf/*.yaml), served by
the DNS test server, evaluated over real DNS by the same engine `domainwatch spf-eval` uses."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from domainwatch.dns.dnspython_resolver import DnsPythonResolver
from domainwatch.dns.resolver import Nameserver
from domainwatch.spf.shell import check_host
from domainwatch.testing import Behaviour, DnsTestServer
from tests.integration.cli import run_cli

DATA = Path(__file__).resolve().parents[1] / "data" / "spf"
SECTIONS = {path.stem: yaml.safe_load(path.read_text()) for path in sorted(DATA.glob("*.yaml"))}
CASES = [(stem, case) for stem, section in SECTIONS.items() for case in section["tests"]]


def serve(zone: dict[str, Any]) -> DnsTestServer:
    server = DnsTestServer()
    for name, records in zone.items():
        if isinstance(records, str):
            server.behave(name, Behaviour[{"TIMEOUT": "SILENT"}.get(records, records)])
            continue
        for rdtype, values in records.items():
            server.set(name, rdtype, values)
    return server


@pytest.fixture
async def servers() -> AsyncIterator[dict[str, DnsTestServer]]:
    """Every section's zone on its own server (each starts in about a millisecond)."""
    started = {stem: await serve(section["zone"]).start() for stem, section in SECTIONS.items()}
    yield started
    for server in started.values():
        await server.stop()


@pytest.mark.parametrize(("section", "case"), CASES, ids=[f"{s}:{c['name']}" for s, c in CASES])
async def test_rfc7208(servers: dict[str, DnsTestServer], section: str, case: dict[str, Any]) -> None:
    """Each case: the result (and explanation, lookup counts where given) of check_host()."""
    server = servers[section]
    resolver = DnsPythonResolver([Nameserver("127.0.0.1", server.port)], timeout=0.3, attempts=1)
    evaluation = await check_host(
        resolver, case["ip"], case["mail_from"], case.get("helo", "mail.example.test")
    )
    assert case["result"] == evaluation.result.value, (case.get("spec"), evaluation.message, evaluation.trace)
    if "explanation" in case:
        assert case["explanation"] == evaluation.explanation
    if "dns_lookups" in case:
        assert case["dns_lookups"] == evaluation.dns_lookups
    if "void_lookups" in case:
        assert case["void_lookups"] == evaluation.void_lookups


def test_every_section_file_names_its_section() -> None:
    """The data files cover the RFC's sections: initial processing to macros."""
    assert len(CASES) > 120
    assert all("section" in s and s["tests"] for s in SECTIONS.values())


@pytest.mark.parametrize(("ip", "result"), [("192.0.2.10", "pass"), ("203.0.113.5", "fail")])
async def test_cli_contract(servers: dict[str, DnsTestServer], ip: str, result: str) -> None:
    """`domainwatch spf-eval --json`: one object with the documented keys; exit 0 whatever the result."""
    server = servers["6-modifiers"]
    done = await run_cli(
        "spf-eval",
        "--ip",
        ip,
        "--mail-from",
        "x@redir.test",
        "--nameserver",
        server.address,
        "--timeout",
        "0.5",
        "--json",
    )
    assert 0 == done.code, done.err
    answer = json.loads(done.out)
    assert {"result", "explanation", "dns_lookups", "void_lookups", "trace"} <= set(answer)
    assert result == answer["result"]
    assert answer["trace"]


async def test_cli_null_sender_and_usage(servers: dict[str, DnsTestServer]) -> None:
    """An empty --mail-from checks HELO; without --helo that is a usage error (2)."""
    server = servers["4.3-initial-processing"]
    helo = await run_cli(
        "spf-eval",
        "--ip",
        "192.0.2.9",
        "--mail-from",
        "",
        "--helo",
        "helo.good.test",
        "--nameserver",
        server.address,
    )
    assert (0, "result: pass") == (helo.code, helo.out.splitlines()[0])
    assert 2 == (await run_cli("spf-eval", "--ip", "192.0.2.9", "--mail-from", "")).code
    assert 2 == (await run_cli("spf-eval", "--ip", "not-an-ip", "--mail-from", "a@b.test")).code
