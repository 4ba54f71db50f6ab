"""Authoritative mode: every nameserver of the zone asked directly, over real sockets.

Two test servers share one port on 127.0.0.1 and 127.0.0.2 (both loopback), so the zone's NS
records can name them while `authoritative_port` points at that port.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from domainwatch.testing import Behaviour, DnsTestServer
from tests.integration.cli import run_cli
from tests.integration.test_cli import DOMAIN, publish_good, write_config


@pytest.fixture
async def second_server(dns_server: DnsTestServer) -> AsyncIterator[DnsTestServer]:
    async with DnsTestServer(host="127.0.0.2", port=dns_server.port) as server:
        yield server


def publish_zone(server: DnsTestServer) -> None:
    publish_good(server)
    server.set("example.com", "NS", ["ns1.example.com.", "ns2.example.com."])
    server.set("ns1.example.com", "A", ["127.0.0.1"])
    server.set("ns2.example.com", "A", ["127.0.0.2"])


async def check(tmp_path: Path, server: DnsTestServer) -> dict[str, Any]:
    config = write_config(tmp_path, server.address)
    text = config.read_text().replace(
        "  attempts: 1\n",
        f"  attempts: 1\n  mode: authoritative\n  authoritative_port: {server.port}\n"
        "  allow_private_nameservers: true\n",
    )
    config.write_text(text)
    result = await run_cli("check", "-c", str(config), "--format", "json")
    assert "Traceback" not in result.err
    return {r["record"]: r for r in json.loads(result.out)["domains"][0]["records"]}


async def test_record_on_every_server_is_present(
    dns_server: DnsTestServer, second_server: DnsTestServer, tmp_path: Path
) -> None:
    """Both servers publish everything: present, with each server's answer listed."""
    publish_zone(dns_server)
    publish_zone(second_server)
    records = await check(tmp_path, dns_server)
    assert {"present"} == {r["state"] for r in records.values()}
    servers = records["spf"]["nameservers"]
    assert ["ns1.example.com (127.0.0.1)", "ns2.example.com (127.0.0.2)"] == [s["server"] for s in servers]


async def test_record_on_one_of_two_servers_is_missing(
    dns_server: DnsTestServer, second_server: DnsTestServer, tmp_path: Path
) -> None:
    """A key published on only one nameserver is not published: missing, 1 of 2."""
    publish_zone(dns_server)
    publish_zone(second_server)
    second_server.remove(f"resend._domainkey.{DOMAIN}")
    dkim = (await check(tmp_path, dns_server))["dkim:resend"]
    assert "missing" == dkim["state"]
    messages = [f["message"] for f in dkim["findings"]]
    who = "has: ns1.example.com (127.0.0.1); lacks: ns2.example.com (127.0.0.2)"
    assert f"published on 1 of 2 nameservers ({who})" in messages


async def test_lame_server_does_not_fail_the_record(
    dns_server: DnsTestServer, second_server: DnsTestServer, tmp_path: Path
) -> None:
    """A nameserver answering SERVFAIL is not counted as "not published"."""
    publish_zone(dns_server)
    publish_zone(second_server)
    second_server.behave(f"send.{DOMAIN}", Behaviour.SERVFAIL)
    spf = (await check(tmp_path, dns_server))["spf"]
    assert "present" == spf["state"]
